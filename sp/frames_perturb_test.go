package sp_test

// Issue 10, item 5, for the frame goldens: a codec fault and perturbed
// descriptors that sprig's own peers cannot see (both ends share the
// fault) differ from what the real compilers made, while the unperturbed
// code agrees everywhere (TestFramesAreTheCompilersOnEveryABI).

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/sp"
)

// differing lists the objects compareFrames reports, once each, in
// order.
func differing(diffs []frameDiff) []string {
	var out []string
	for _, d := range diffs {
		if !slices.Contains(out, d.Object) {
			out = append(out, d.Object)
		}
	}
	return out
}

// The swap-retval32 codec fault trades rsys_retval[0] and [1] where
// register_t is 4 bytes: the goldens of the four 32-bit ABIs catch it in
// every rsp_sysresp whose two words differ (not in the ENOENT reply,
// whose words are both 0), and nothing else moves; the five 64-bit ABIs
// see no difference. Not parallel: the fault is package state.
func TestFrameGoldensCatchTheSwapRetval32Fault(t *testing.T) {
	goldens := map[string]*frameGolden{}
	for _, d := range abi.All() {
		goldens[d.Name] = readFrameGolden(t, d.Name)
	}
	caught := map[string][]string{}
	var sample []frameDiff
	func() {
		restore := sp.InjectFault("swap-retval32")
		defer restore()
		for _, d := range abi.All() {
			diffs, _ := compareFrames(d, goldens[d.Name])
			caught[d.Name] = differing(diffs)
			if d.Name == "mips" {
				sample = diffs
			}
		}
	}()
	for _, d := range abi.All() {
		if d.RegisterT.Size == 4 {
			assert.Equal(t, []string{"sysresp/pattern", "sysresp/getpid"}, caught[d.Name], "%s: 32-bit register_t", d.Name)
		} else {
			assert.Empty(t, caught[d.Name], "%s: 64-bit register_t, the fault changes nothing", d.Name)
		}
		t.Logf("swap-retval32 vs %-9s golden: %v", d.Name, caught[d.Name])
	}
	assert.ElementsMatch(t, []string{"i386", "arm", "mips", "powerpc"}, func() []string {
		var out []string
		for n, c := range caught {
			if len(c) > 0 {
				out = append(out, n)
			}
		}
		return out
	}())
	for _, d := range sample {
		t.Logf("mips: %s", d)
	}

	// Restored, the same comparison is clean again.
	for _, d := range abi.All() {
		diffs, _ := compareFrames(d, goldens[d.Name])
		assert.Empty(t, diffs, "%s after restoring the codec", d.Name)
	}
}

// Perturbed built-in descriptors, encoded against the real compiler's
// goldens of the ABI they pretend to be, differ from them: the objects
// each perturbation must move are listed (at least those; it may move
// more), and the unperturbed descriptor differs nowhere.
func TestFrameGoldensCatchPerturbedDescriptors(t *testing.T) {
	cases := []struct {
		abi, perturbation string
		perturb           func(*abi.Descriptor)
		mustDiffer        []string
		mustAgree         []string // what the perturbation cannot touch
	}{
		{"i386", "int64 alignment 8", func(d *abi.Descriptor) { d.LongLong.Align = 8 },
			// The PAD slots already 8-align off_t in truncate, ftruncate,
			// pread and mmap (sysproxy.md section 6): only lseek's tail moves.
			[]string{"stat", "timespec", "tmpfs_args", "args/lseek"},
			[]string{"header/every-byte", "sysresp/pattern", "args/read", "args/pread", "args/truncate", "args/mmap", "dirent/abcde"}},
		{"arm", "8-byte register_t", func(d *abi.Descriptor) { d.RegisterT = abi.Scalar{Size: 8, Align: 8} },
			[]string{"sysresp/pattern", "sysresp/getpid", "args/read", "args/open", "args/lseek", "args/mmap"},
			[]string{"header/every-byte", "copydata/copyin", "stat", "dirent/abcde"}},
		{"mips", "little-endian", func(d *abi.Descriptor) { d.Endian = abi.LittleEndian },
			[]string{"header/every-byte", "header/syscall-req", "sysresp/pattern", "copydata/copyin", "handshake_fork/cancel",
				"anonmmap-req/pattern", "anonmmap-resp/pattern", "handshake-resp/pattern", "args/read", "stat", "dirent/abcde",
				"timespec", "tmpfs_args"},
			// Zeros, and the opaque cookie with cancel 0, read the same
			// either way.
			[]string{"anonmmap-resp/null", "handshake-resp/ok", "handshake_fork/join"}},
	}
	for _, c := range cases {
		t.Run(c.abi+"/"+c.perturbation, func(t *testing.T) {
			t.Parallel()
			g := readFrameGolden(t, c.abi)
			real := abi.MustLookup(c.abi)
			diffs, _ := compareFrames(real, g)
			require.Empty(t, diffs, "the unperturbed %s descriptor agrees with %s", c.abi, g.CompilerVersion)

			p := real.Clone()
			c.perturb(p)
			require.NoError(t, p.Validate())
			diffs, _ = compareFrames(p, g)
			got := differing(diffs)
			for _, o := range c.mustDiffer {
				assert.Contains(t, got, o, "%s with %s must differ from %s", c.abi, c.perturbation, g.CompilerVersion)
			}
			for _, o := range c.mustAgree {
				assert.NotContains(t, got, o, "%s with %s cannot change %s", c.abi, c.perturbation, o)
			}
			t.Logf("%s with %s: %d of %d frames differ from %s: %s", c.abi, c.perturbation, len(got), len(g.Objects),
				g.CompilerVersion, strings.Join(got, " "))
			for _, d := range diffs[:min(len(diffs), 3)] {
				t.Logf("  e.g. %s", d)
			}
		})
	}
}
