package emu

// Issue 10 item 5: a perturbation of sprig's descriptors or codec that
// sprig cannot see by itself (its guests, server and prediction all share
// the perturbed code) is caught by the real compiler's C client on the
// real (emulated) CPU, while the unperturbed code agrees everywhere.

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/rig"
	"github.com/rumpsprig/sprig/rig/predict"
)

// swapRetval32 is the -X setting that turns on sp's test-only codec
// fault (sp/codec.go, faultInjection).
const swapRetval32 = "github.com/rumpsprig/sprig/sp.faultInjection=swap-retval32"

// sprigBuilds are the sprig binaries of this test run, by -X setting.
var sprigBuilds sync.Map // string → *onceSprig

type onceSprig struct {
	once sync.Once
	path string
	err  error
}

// sprigBinary builds ./cmd/sprig once per test run into the run's
// temporary directory, linked with the -X settings x.
func sprigBinary(t *testing.T, x ...string) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skipf("building sprig needs the go tool: %v", err)
	}
	key := strings.Join(x, " ")
	v, _ := sprigBuilds.LoadOrStore(key, &onceSprig{})
	o := v.(*onceSprig)
	o.once.Do(func() {
		mod, err := findModule(context.Background(), "", "go")
		if err != nil {
			o.err = err
			return
		}
		o.path = filepath.Join(runDir, fmt.Sprintf("sprig-%x", sha256.Sum256([]byte(key)))[:20])
		args := []string{"build", "-o", o.path}
		if len(x) > 0 {
			var ld []string
			for _, s := range x {
				ld = append(ld, "-X", s)
			}
			args = append(args, "-ldflags", strings.Join(ld, " "))
		}
		cmd := exec.Command("go", append(args, "./cmd/sprig")...)
		cmd.Dir = mod
		if out, err := cmd.CombinedOutput(); err != nil {
			o.err = fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	})
	require.NoError(t, o.err)
	return o.path
}

// startServe runs `bin serve --abi abiName` on a unix socket until the
// test ends and returns its URL once it listens.
func startServe(t *testing.T, bin, abiName string) string {
	t.Helper()
	url := "unix://" + filepath.Join(t.TempDir(), "s")
	cmd := exec.Command(bin, "serve", "--url", url, "--abi", abiName)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	ready := make(chan struct{})
	var log strings.Builder
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			log.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if strings.Contains(sc.Text(), "msg=serving") {
				close(ready)
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("%s serve --abi %s did not start:\n%s", bin, abiName, log.String())
	}
	return url
}

// failing lists the scenarios of run that failed, with their layers.
func failing(run *Run) (names []string, detail string) {
	var b strings.Builder
	for _, r := range run.Results {
		if r.Status == guestapi.Fail {
			names = append(names, r.Scenario)
			fmt.Fprintf(&b, "\n  %s: %s: %.160s", r.Scenario, Outcome(r), r.Detail)
		}
	}
	return names, b.String()
}

// A codec that swaps the two retval words of 32-bit replies on encode and
// decode is invisible to sprig's own client, which shares the codec, and
// is caught by the C client of every 32-bit machine: lseek's off_t, split
// over both words, comes back wrong, and so do getpid's pid and ppid.
func TestAFaultyCodecIsCaughtByTheCClientButNotBySprigsOwnRunner(t *testing.T) {
	clean, faulty := sprigBinary(t), sprigBinary(t, swapRetval32)
	var log ledger
	t.Run("C clients", func(t *testing.T) {
		for _, c := range []struct {
			target string
			caught bool
		}{{"i386", true}, {"arm", true}, {"mips", true}, {"amd64", false}} {
			t.Run(c.target, func(t *testing.T) {
				t.Parallel()
				tg := usable(t, c.target)
				b := build(t, tg)
				for _, server := range []struct {
					name, bin string
					caught    bool
				}{{"clean", clean, false}, {"swap-retval32", faulty, c.caught}} {
					run, err := b.Run(context.Background(), RunConfig{URL: startServe(t, server.bin, tg.ABI().Name), Timeout: 10 * time.Second})
					require.NoError(t, err, "stderr: %s", stderrOf(run))
					names, detail := failing(run)
					log.add("%-7s C client vs %-13s sprig serve: %2d of %d fail %v", c.target, server.name, len(names), len(run.Results), names)
					if !server.caught {
						assert.Empty(t, names, "%s server: %s", server.name, detail)
						continue
					}
					assert.Contains(t, names, "lseek-4g", detail)
					assert.Contains(t, names, "getpid", detail)
					t.Logf("%s C client against the %s server:%s", c.target, server.name, detail)
				}
			})
		}
	})
	t.Run("Go runner", func(t *testing.T) {
		// Built with the same fault, sprig's own client agrees with the
		// faulty server; built without it, it sees the swap as the C
		// client does. So only an outside implementation can tell which
		// side is wrong.
		tg := usable(t, "go-mips")
		url := startServe(t, faulty, "mips")
		for _, c := range []struct {
			name   string
			x      []string
			caught bool
		}{{"swap-retval32", []string{swapRetval32}, false}, {"clean", nil, true}} {
			b := build(t, tg, c.x...)
			run, err := b.Run(context.Background(), RunConfig{URL: url, Timeout: 10 * time.Second})
			require.NoError(t, err, "stderr: %s", stderrOf(run))
			names, detail := failing(run)
			log.add("go-mips %-13s Go runner vs swap-retval32 sprig serve: %2d of %d fail %v", c.name, len(names), len(run.Results), names)
			if c.caught {
				assert.Contains(t, names, "lseek-4g", detail)
			} else {
				assert.Empty(t, names, detail)
			}
		}
	})
	t.Logf("the swap-retval32 codec fault:\n%s", &log)
}

// perturbedI386Align8 is i386 as it is not: 64-bit integers 8-aligned
// inside structs (as on arm and mips), the mistake gcc's __alignof__
// invites.
func perturbedI386Align8() *abi.Descriptor {
	d := *abi.MustLookup("i386")
	d.LongLong.Align = 8
	return &d
}

// Perturbed built-in descriptors, given to sprig's server, against the
// real C client of the real ABI: rig/predict, computed from the same
// perturbed descriptor for both sides (as the matrix's guests and server
// would share it), says every scenario passes; the real machine says
// otherwise. The unperturbed descriptor agrees with the machine
// everywhere.
func TestPerturbedDescriptorsAreCaughtByTheCClient(t *testing.T) {
	cases := []struct {
		target, perturbation string
		perturbed            func() *abi.Descriptor
		// mustCatch are scenarios the perturbation must break.
		mustCatch []string
	}{
		{"i386", "int64 alignment 8", perturbedI386Align8, []string{"stat", "getdents"}},
		{"arm", "8-byte register_t", func() *abi.Descriptor {
			d := *abi.MustLookup("arm")
			d.RegisterT = abi.Scalar{Size: 8, Align: 8}
			return &d
		}, []string{"getpid", "file-io", "lseek-4g"}},
		{"mips", "little-endian", func() *abi.Descriptor {
			d := *abi.MustLookup("mips")
			d.Endian = abi.LittleEndian
			return &d
		}, []string{"handshake", "getpid"}},
	}
	var log ledger
	t.Run("perturbations", func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.target+"/"+c.perturbation, func(t *testing.T) {
				t.Parallel()
				tg := usable(t, c.target)
				b := build(t, tg)
				p := c.perturbed()
				require.NoError(t, p.Validate())
				require.False(t, predict.Identical(p, tg.ABI()), "the perturbation changes a layout the scenarios use")
				for _, server := range []struct {
					name string
					d    *abi.Descriptor
				}{{"unperturbed", tg.ABI()}, {c.perturbation, p}} {
					run, err := b.Run(context.Background(), RunConfig{URL: startServer(t, server.d), Timeout: 5 * time.Second})
					require.NoError(t, err, "stderr: %s", stderrOf(run))
					var caught []string
					for _, r := range run.Results {
						s, ok := guestapi.LookupScenario(r.Scenario)
						require.True(t, ok, r.Scenario)
						v := predict.Scenario(server.d, server.d, rig.ModeNative, s)
						require.True(t, v.Pass, "%s: the theory passes every scenario of one ABI with itself", r.Scenario)
						if !agrees(r, v.Pass) {
							caught = append(caught, r.Scenario)
						}
					}
					_, detail := failing(run)
					log.add("%-7s C client vs %-18s %s server: %2d of %d disagree with the prediction %v", c.target, server.name, tg.ABI().Name,
						len(caught), len(run.Results), caught)
					if server.name == "unperturbed" {
						assert.Empty(t, caught, "unperturbed: %s", detail)
						continue
					}
					for _, n := range c.mustCatch {
						assert.True(t, slices.Contains(caught, n), "%s: %s not caught:%s", c.perturbation, n, detail)
					}
					t.Logf("%s with %s:%s", c.target, c.perturbation, detail)
				}
			})
		}
	})
	t.Logf("perturbed descriptors against the real C clients (predicted: all pass):\n%s", &log)
}
