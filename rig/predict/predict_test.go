package predict_test

import (
	"github.com/rumpsprig/sprig/rig"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/rig/predict"
)

func verdict(t *testing.T, client, server string, mode rig.Mode, scenario string) predict.Verdict {
	t.Helper()
	v, ok := predict.ScenarioByName(abi.MustLookup(client), abi.MustLookup(server), mode, scenario)
	require.True(t, ok, "no scenario %q", scenario)
	return v
}

// check returns the named check of the whole manifest.
func check(t *testing.T, name string) predict.Check {
	t.Helper()
	for _, c := range predict.AllChecks() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q", name)
	return predict.Check{}
}

func TestABIsWithIdenticalLayoutsPassEveryScenarioUnmodified(t *testing.T) {
	for _, group := range [][]string{
		{"amd64", "arm64", "riscv64"}, // LP64 little-endian, whatever char and register_t signedness
		{"mips", "powerpc"},           // ILP32 big-endian, int64 8-aligned
		{"aarch64eb", "sparc64"},      // LP64 big-endian
	} {
		for _, a := range group {
			for _, b := range group {
				t.Run(a+"→"+b, func(t *testing.T) {
					assert.Empty(t, predict.Compare(abi.MustLookup(a), abi.MustLookup(b)))
					assert.True(t, predict.Identical(abi.MustLookup(a), abi.MustLookup(b)))
					for _, s := range guestapi.ScenarioNames() {
						v := verdict(t, a, b, rig.ModeNative, s)
						assert.True(t, v.Pass, "%s: %s", s, v.Reason)
						assert.True(t, strings.HasPrefix(v.Reason, "both ABIs agree on byte order"), v.Reason)
					}
				})
			}
		}
	}
}

func TestI386AndArmAgreeOnEveryFrameButNotOnStructStat(t *testing.T) {
	i386, arm := abi.MustLookup("i386"), abi.MustLookup("arm")
	assert.Equal(t, []predict.Difference{
		{Kind: predict.Data, Item: "struct stat", Detail: "st_ino at 12 vs 16"},
		{Kind: predict.Data, Item: "struct tmpfs_args", Detail: "ta_nodes_max at 4 vs 8"},
	}, predict.Compare(i386, arm))
	assert.Equal(t, "struct stat: st_ino at 16 vs 12", predict.Compare(arm, i386)[0].String(), "the client's place comes first")

	for _, name := range []string{"sys_read_args", "sys_write_args", "sys_lseek_args", "sys_pread_args", "sys_pwrite_args", "sys_mmap_args", "rsp_sysresp", "rsp_copydata"} {
		assert.Empty(t, check(t, name).Diff(i386, arm), name)
	}

	for _, tc := range []struct {
		scenario string
		pass     bool
		why      string
	}{
		{"file-io", true, "read, write and lseek frames agree"},
		{"pread-pwrite", true, "pread and pwrite put off_t after a PAD slot on both"},
		{"mmap-anon", true, "mmap's pos is at 24 on both"},
		{"stat", false, "it checks struct stat"},
		{"lseek-4g", false, "it checks st_size with __fstat50"},
		{"pipe", false, "it fstats a pipe"},
		{"errors", false, "it fstats the file a failed write left empty"},
	} {
		v := verdict(t, "i386", "arm", rig.ModeNative, tc.scenario)
		assert.Equal(t, tc.pass, v.Pass, "%s: %s (%s)", tc.scenario, v.Reason, tc.why)
		if !tc.pass {
			assert.Equal(t, "struct stat: st_ino at 12 vs 16", v.Reason, tc.scenario)
		}
	}
}

func TestAShorterArgumentStructIsFineWhenEveryDatumAgrees(t *testing.T) {
	i386, arm := abi.MustLookup("i386"), abi.MustLookup("arm")
	li, la := netbsd.LayoutsFor(i386).Args(netbsd.SYS_lseek), netbsd.LayoutsFor(arm).Args(netbsd.SYS_lseek)
	require.Equal(t, 20, li.Size, "i386 aligns off_t to 4")
	require.Equal(t, 24, la.Size, "arm aligns off_t to 8")
	assert.Empty(t, check(t, "sys_lseek_args").Diff(i386, arm))
	assert.Equal(t, "offset at 8 vs 16", check(t, "sys_lseek_args").Diff(i386, abi.MustLookup("amd64")))
}

func TestByteOrderBreaksEveryScenarioEvenTheHandshake(t *testing.T) {
	for _, pair := range [][2]string{{"amd64", "mips"}, {"sparc64", "riscv64"}, {"i386", "powerpc"}, {"arm64", "aarch64eb"}} {
		diffs := predict.Compare(abi.MustLookup(pair[0]), abi.MustLookup(pair[1]))
		require.Len(t, diffs, 1, "nothing is readable past the byte order")
		assert.Equal(t, "byte order", diffs[0].Item)
		for _, s := range guestapi.ScenarioNames() {
			v := verdict(t, pair[0], pair[1], rig.ModeNative, s)
			assert.False(t, v.Pass, "%v %s", pair, s)
			assert.True(t, strings.HasPrefix(v.Reason, "byte order: "), v.Reason)
		}
	}
}

func TestTheHandshakeAloneSurvivesDifferentWordSizesOfOneByteOrder(t *testing.T) {
	for _, pair := range [][2]string{{"i386", "amd64"}, {"amd64", "arm"}, {"mips", "sparc64"}, {"aarch64eb", "powerpc"}} {
		assert.True(t, verdict(t, pair[0], pair[1], rig.ModeNative, "handshake").Pass, "%v", pair)
		v := verdict(t, pair[0], pair[1], rig.ModeNative, "getpid")
		assert.False(t, v.Pass, "%v", pair)
		assert.True(t, strings.HasPrefix(v.Reason, "rsp_sysresp: rsys_retval[0] at "), v.Reason)
	}
	assert.Equal(t, "rsp_sysresp: rsys_retval[0] at 4 (4 bytes) vs 8 (8 bytes)", verdict(t, "i386", "amd64", rig.ModeNative, "getpid").Reason)
}

func TestTranslatingModesPassEveryScenarioOfEveryPair(t *testing.T) {
	for _, mode := range []rig.Mode{rig.ModeServerTranslates, rig.ModeClientTranslates} {
		for _, a := range abi.All() {
			for _, b := range abi.All() {
				for _, s := range guestapi.ScenarioNames() {
					v, _ := predict.ScenarioByName(a, b, mode, s)
					assert.True(t, v.Pass, "%s %s→%s %s", mode, a.Name, b.Name, s)
					assert.NotEmpty(t, v.Reason)
				}
			}
		}
	}
}

func TestAParentNeedsWhatItsChildNeeds(t *testing.T) {
	fork, ok := guestapi.LookupScenario("fork")
	require.True(t, ok)
	var names []string
	for _, c := range predict.Checks(fork) {
		names = append(names, c.Name)
	}
	assert.Contains(t, names, "handshake_fork", "the child's FORK handshake")
	assert.Contains(t, names, "sys_pwrite_args", "the child writes with pwrite; the parent does not")
}

func TestChecksComeInReportingOrderFromTheHeaderInward(t *testing.T) {
	s, ok := guestapi.LookupScenario("getdents")
	require.True(t, ok)
	cs := predict.Checks(s)
	require.GreaterOrEqual(t, len(cs), 4)
	assert.Equal(t, "byte order", cs[0].Name)
	assert.Equal(t, "rsp_sysresp", cs[1].Name)
	assert.Equal(t, predict.Frame, cs[2].Kind)
	assert.Equal(t, "struct dirent", cs[len(cs)-1].Name)
	seenData := false
	for _, c := range cs {
		if c.Kind == predict.Data {
			seenData = true
		} else {
			assert.False(t, seenData, "frame check %s after a data check", c.Name)
		}
	}
}

// TestManifestDataFollowsFromItsSyscalls keeps the manifest's typed data
// honest: each kind is listed exactly when a syscall that moves it is.
func TestManifestDataFollowsFromItsSyscalls(t *testing.T) {
	implies := map[netbsd.Sysno][]guestapi.Data{
		netbsd.SYS___stat50: {guestapi.DataStat}, netbsd.SYS___fstat50: {guestapi.DataStat}, netbsd.SYS___lstat50: {guestapi.DataStat},
		netbsd.SYS___getdents30: {guestapi.DataDirent},
		netbsd.SYS___sysctl:     {guestapi.DataSizeT, guestapi.DataInts},
		netbsd.SYS_pipe2:        {guestapi.DataInts},
		netbsd.SYS___mount50:    {guestapi.DataTmpfsArgs},
	}
	for _, sc := range netbsd.Syscalls() {
		switch sc.Ret {
		case netbsd.RetTwo:
			implies[sc.Num] = append(implies[sc.Num], guestapi.DataTwoRetvals)
		case netbsd.RetOff:
			implies[sc.Num] = append(implies[sc.Num], guestapi.DataOffT)
		case netbsd.RetPointer:
			implies[sc.Num] = append(implies[sc.Num], guestapi.DataPointer)
		}
	}
	for _, s := range guestapi.Manifest() {
		want := map[guestapi.Data]bool{}
		for _, n := range s.Syscalls {
			for _, d := range implies[n] {
				want[d] = true
			}
		}
		got := map[guestapi.Data]bool{}
		for _, d := range s.Data {
			assert.False(t, got[d], "%s lists %s twice", s.Name, d)
			got[d] = true
		}
		assert.Equal(t, want, got, s.Name)
	}
}
