package emu

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/sp"
)

func TestTargetsAgreeWithTheirABIDescriptors(t *testing.T) {
	for _, tg := range Targets() {
		d := tg.ABI()
		assert.Equal(t, d.Pointer.Size == 8, tg.Class.String() == "ELFCLASS64", "%s: ELF class vs pointer size", tg.Name)
		assert.Equal(t, d.BigEndian(), tg.Data.String() == "ELFDATA2MSB", "%s: ELF byte order vs descriptor", tg.Name)
		got, err := LookupTarget(tg.Name)
		require.NoError(t, err)
		assert.Equal(t, tg, got)
		if tg.Program != CClient {
			continue
		}
		assert.Equal(t, tg.Name, d.Name)
		got, err = LookupTarget(d.Aliases[0])
		require.NoError(t, err, "alias %s", d.Aliases[0])
		assert.Equal(t, tg.Name, got.Name, "an ABI alias finds the C client")
	}
	_, err := LookupTarget("vax")
	assert.ErrorContains(t, err, `no target "vax"`)
}

func TestAMissingToolIsNamed(t *testing.T) {
	tg, err := LookupTarget("mips")
	require.NoError(t, err)
	tg.Compiler = []string{"sprig-no-such-gcc"}
	_, err = Build(context.Background(), tg, DefaultBuildConfig())
	require.ErrorIs(t, err, ErrToolMissing)
	assert.Equal(t, "mips: sprig-no-such-gcc not found", err.Error())
	var te *ToolError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "compiler", te.Kind)
	assert.Equal(t, "emulated column: mips: sprig-no-such-gcc not found", fmt.Sprintf("emulated column: %v", tg.Check()))

	tg, _ = LookupTarget("sparc64")
	tg.Qemu = "qemu-sprig-nothing-static"
	if tg.Check() == nil || !errors.Is(tg.Check(), ErrToolMissing) {
		// The compiler may be missing too; then that is what Check says.
		require.ErrorIs(t, tg.Check(), ErrToolMissing)
	}
	_, err = tg.QemuVersion(context.Background())
	assert.EqualError(t, err, "sparc64: qemu-sprig-nothing-static not found")
}

// A compiler for the wrong machine must not pass for the target's.
func TestBuildRejectsABinaryForAnotherMachine(t *testing.T) {
	host := usable(t, "amd64")
	tg, _ := LookupTarget("i386")
	tg.Compiler = host.Compiler // amd64 code where i386 code is due
	cfg := buildConfig()
	cfg.CacheDir = t.TempDir()
	_, err := Build(context.Background(), tg, cfg)
	require.ErrorIs(t, err, ErrELF)
	assert.Contains(t, err.Error(), "ELFCLASS64 ELFDATA2LSB EM_X86_64, want ELFCLASS32 ELFDATA2LSB EM_386")
}

func TestBuildCachesByHash(t *testing.T) {
	tg := usable(t, "amd64")
	cfg := buildConfig()
	cfg.CacheDir = t.TempDir()
	ctx := context.Background()
	first, err := Build(ctx, tg, cfg)
	require.NoError(t, err)
	assert.False(t, first.Cached)
	assert.Positive(t, first.BuildTime)
	assert.NotEmpty(t, first.CompilerVersion)
	again, err := Build(ctx, tg, cfg)
	require.NoError(t, err)
	assert.True(t, again.Cached)
	assert.Equal(t, first.Path, again.Path)
	cfg.Defines = []string{"SPRIG_PERTURB_NO_PAD"}
	other, err := Build(ctx, tg, cfg)
	require.NoError(t, err)
	assert.False(t, other.Cached)
	assert.NotEqual(t, first.Hash, other.Hash)

	cfg.Defines = []string{"-O0"}
	_, err = Build(ctx, tg, cfg)
	assert.ErrorContains(t, err, "Defines")
}

func TestTheClientRunsTheGuestsScenarios(t *testing.T) {
	b := build(t, usable(t, "amd64"))
	names, destructive, err := b.Scenarios(context.Background())
	require.NoError(t, err)
	want := slices.DeleteFunc(expectedNames(), func(n string) bool { return n == "fork-child" })
	assert.Equal(t, want, names)
	assert.Equal(t, map[string]bool{"efault": true}, destructive)
}

// sameABITargets are the targets the default run checks against a
// server of their own ABI; -emu.all checks every one.
func sameABITargets() []string {
	if *flagAll {
		return namesOf(CClient)
	}
	return []string{"amd64", "i386", "mips", "sparc64"}
}

// Every scenario passes when client and server share an ABI, on the real
// (or emulated) CPU, with the compiler's layout: the descriptors and the
// codec agree with gcc and the machine.
func TestSameABIPassesEverywhere(t *testing.T) {
	for _, name := range sameABITargets() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, run := runSameABI(t, usable(t, name))
			t.Logf("%s: built in %v (cached %v) with %s; %d scenarios in %v", name, b.BuildTime, b.Cached,
				b.CompilerVersion, len(run.Results), run.Wall)
		})
	}
}

// runSameABI builds tg's program and runs every scenario, destructive
// ones included, against a sprig server of its own ABI, and checks that
// each passes (or is unsupported with a reason) and the client exits 0.
func runSameABI(t *testing.T, tg Target) (*Binary, *Run) {
	t.Helper()
	b := build(t, tg)
	run, err := b.Run(context.Background(), RunConfig{URL: startServer(t, tg.ABI()), Timeout: 20 * time.Second, Destructive: true})
	require.NoError(t, err, "stderr: %s", stderrOf(run))
	var got []string
	for _, r := range run.Results {
		got = append(got, r.Scenario)
		switch r.Status {
		case guestapi.Pass:
			assert.Positive(t, r.Checks, r.Scenario)
		case guestapi.Unsupported:
			assert.NotEmpty(t, r.Detail, "%s: unsupported without a reason", r.Scenario)
		default:
			t.Errorf("%s: %s at layer %s: %s", r.Scenario, r.Status, r.Layer, r.Detail)
		}
	}
	assert.Equal(t, expectedNames(), got)
	assert.Equal(t, 0, run.ExitCode)
	return b, run
}

// Both protocol eras: a 0.1 server (no EXEC, raw errno ERROR codes, an
// empty GUEST body) and a 0.1 client of a 0.4 server.
func TestBothProtocolEras(t *testing.T) {
	b := build(t, usable(t, "amd64"))
	for _, c := range []struct {
		name, client string
		server       sp.Version
		checks       int // the handshake scenario's: banner, GUEST, EXEC in 0.4
	}{
		{"0.1 server, client follows the banner", "", sp.Version01, 2},
		{"0.4 server, 0.1 client", "0.1", sp.Version04, 2},
		{"0.4 server, client follows the banner", "", sp.Version04, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			run, err := b.Run(context.Background(), RunConfig{URL: startServerVersion(t, abi.MustLookup("amd64"), c.server),
				Version: c.client, Timeout: 10 * time.Second})
			require.NoError(t, err, "stderr: %s", stderrOf(run))
			for _, r := range run.Results {
				assert.NotEqual(t, guestapi.Fail, r.Status, "%s: %s", r.Scenario, r.Detail)
			}
			hs, ok := run.Result("handshake")
			require.True(t, ok)
			assert.Equal(t, c.checks, hs.Checks)
		})
	}
}

// stderrOf is a run's stderr, for failure messages; a run that could
// not start has none.
func stderrOf(r *Run) string {
	if r == nil {
		return ""
	}
	return r.Stderr
}

// crossPairs are client → server ABI pairs whose native outcome the
// default run pins down, scenario by scenario, as the kind of outcome a
// real CPU produced. mmap-anon and kill-raise may also be unsupported: a
// kernel that answers ENOSYS (NetBSD's rump kernel) says so before any
// misread value can show.
var crossPairs = []struct {
	client, server string
	want           map[string]string
}{
	{
		// i386 reads amd64's 24-byte rsp_sysresp as 12 bytes: retval[0] is
		// the 4 padding bytes (sprig's poison), and every path pointer the
		// server copies in is misread from 8-byte slots, so the client is
		// asked to strnlen NULL.
		client: "i386", server: "amd64",
		want: map[string]string{
			"handshake": "pass", "getpid": "data", "file-io": "crash", "lseek-4g": "crash",
			"pread-pwrite": "crash", "stat": "crash", "getdents": "crash", "dirs": "crash", "cwd": "crash",
			"dup-fcntl": "crash", "pipe": "data", "sysctl": "data", "mmap-anon": "data", "kill-raise": "data",
			"fork": "crash", "concurrent": "data", "errors": "crash",
		},
	},
	{
		// amd64 reads i386's 12-byte reply as 24: retval[0] is the ppid
		// word and what follows; 4-byte slots make the server see pointer
		// halves, which fault in the server's copyin (EFAULT).
		client: "amd64", server: "i386",
		want: map[string]string{
			"handshake": "pass", "getpid": "data", "file-io": "data", "lseek-4g": "data",
			"pread-pwrite": "data", "stat": "data", "getdents": "data", "dirs": "data", "cwd": "data",
			"dup-fcntl": "data", "pipe": "data", "sysctl": "data", "mmap-anon": "data", "kill-raise": "data",
			"fork": "data", "concurrent": "data", "errors": "data",
		},
	},
	{
		// A big-endian frame header is an absurd length to a little-endian
		// server: it drops the connection at the GUEST handshake.
		client: "mips", server: "amd64",
		want: map[string]string{
			"handshake": "disconnect", "getpid": "disconnect", "file-io": "disconnect", "lseek-4g": "disconnect",
			"pread-pwrite": "disconnect", "stat": "disconnect", "getdents": "disconnect", "dirs": "disconnect",
			"cwd": "disconnect", "dup-fcntl": "disconnect", "pipe": "disconnect", "sysctl": "disconnect",
			"mmap-anon": "disconnect", "kill-raise": "disconnect", "fork": "disconnect",
			"concurrent": "disconnect", "errors": "disconnect",
		},
	},
}

// What a C client of one ABI does against a server of another, natively,
// on the real CPU: the kind of each scenario's outcome is stable.
func TestCrossABIOutcomesAreStable(t *testing.T) {
	rows := map[string]map[string]string{}
	var mu sync.Mutex
	var cols []string
	t.Run("pairs", func(t *testing.T) {
		for _, p := range crossPairs {
			col := p.client + "->" + p.server
			cols = append(cols, col)
			t.Run(col, func(t *testing.T) {
				t.Parallel()
				b := build(t, usable(t, p.client))
				run, err := b.Run(context.Background(), RunConfig{URL: startServer(t, abi.MustLookup(p.server)), Timeout: 5 * time.Second})
				require.NoError(t, err, "stderr: %s", stderrOf(run))
				assert.Equal(t, 1, run.ExitCode)
				seen := map[string]bool{}
				for _, r := range run.Results {
					got := Outcome(r)
					mu.Lock()
					if rows[r.Scenario] == nil {
						rows[r.Scenario] = map[string]string{}
					}
					rows[r.Scenario][col] = got
					mu.Unlock()
					seen[r.Scenario] = true
					want, ok := p.want[r.Scenario]
					if !ok {
						t.Errorf("%s: unexpected scenario result %s: %s", r.Scenario, got, r.Detail)
						continue
					}
					if got != want && !(got == "unsupported" && (r.Scenario == "mmap-anon" || r.Scenario == "kill-raise")) {
						t.Errorf("%s: outcome %s, want %s (%s)", r.Scenario, got, want, r.Detail)
					}
					if got == "crash" {
						assert.Contains(t, r.Detail, "client crashed: SIGSEGV in serving a COPYINSTR request", r.Scenario)
					}
				}
				assert.Len(t, seen, len(p.want))
			})
		}
	})
	t.Log(table("native outcome of a C client against a server of another ABI (real or emulated CPU)", rows, cols))
}

// The checks fail when the client's ABI is wrong in the ways that matter:
// a register_t of the wrong width, missing PAD slots. Each perturbed
// build runs against a server of its own target's ABI, where the
// unperturbed build passes (TestSameABIPassesEverywhere).
func TestPerturbedClientsFail(t *testing.T) {
	cases := []struct {
		target, define string
		scenarios      []string
		fail           bool
	}{
		// An 8-byte register_t on i386: 8-byte argument slots and a
		// 20-byte rsp_sysresp, neither of which the i386 server reads.
		{"i386", "SPRIG_PERTURB_REGISTER_T=long long", []string{"getpid", "file-io", "lseek-4g", "pipe"}, true},
		// No PAD before off_t on i386, where int64 is 4-aligned: lseek's
		// offset moves from byte 8 to 4, pread's from 16 to 12.
		{"i386", "SPRIG_PERTURB_NO_PAD", []string{"lseek-4g", "pread-pwrite"}, true},
		// On arm int64 is 8-aligned: the compiler pads to the very byte
		// the PAD slot names, so leaving PAD out changes nothing.
		{"arm", "SPRIG_PERTURB_NO_PAD", []string{"lseek-4g", "pread-pwrite"}, false},
	}
	for _, c := range cases {
		t.Run(c.target+"/"+c.define, func(t *testing.T) {
			t.Parallel()
			tg := usable(t, c.target)
			b := build(t, tg, c.define)
			run, err := b.Run(context.Background(), RunConfig{URL: startServer(t, tg.ABI()), Scenarios: c.scenarios, Timeout: 5 * time.Second})
			require.NoError(t, err, "stderr: %s", stderrOf(run))
			require.Len(t, run.Results, len(c.scenarios))
			for _, r := range run.Results {
				if c.fail {
					assert.Equal(t, guestapi.Fail, r.Status, "%s passed with %s", r.Scenario, c.define)
				} else {
					assert.Equal(t, guestapi.Pass, r.Status, "%s with %s: %s", r.Scenario, c.define, r.Detail)
				}
				t.Logf("%s with %s: %s: %s", r.Scenario, c.define, Outcome(r), r.Detail)
			}
		})
	}
}

// A server that never answers makes a timeout result, not a hang; the
// next scenario still runs.
func TestAHungServerIsATimeout(t *testing.T) {
	b := build(t, usable(t, "amd64"))
	url := fakeServer(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	start := time.Now()
	run, err := b.Run(context.Background(), RunConfig{URL: url, Scenarios: []string{"getpid", "sysctl"}, Timeout: 300 * time.Millisecond})
	require.NoError(t, err)
	require.Len(t, run.Results, 2)
	for _, r := range run.Results {
		assert.Equal(t, guestapi.Fail, r.Status)
		assert.Equal(t, guestapi.LayerTimeout, r.Layer, r.Detail)
		assert.Contains(t, r.Detail, "timed out")
	}
	assert.Less(t, time.Since(start), 5*time.Second)
}

// hdr is an amd64 frame header.
func hdr(length, reqno uint64, class, typ uint16, u uint32) []byte {
	b := make([]byte, 24)
	binary.LittleEndian.PutUint64(b[0:], length)
	binary.LittleEndian.PutUint64(b[8:], reqno)
	binary.LittleEndian.PutUint16(b[16:], class)
	binary.LittleEndian.PutUint16(b[18:], typ)
	binary.LittleEndian.PutUint32(b[20:], u)
	return b
}

// answerHandshake reads the GUEST handshake and answers it.
func answerHandshake(c net.Conn) (reqno uint64, ok bool) {
	h := make([]byte, 24)
	if _, err := io.ReadFull(c, h); err != nil {
		return 0, false
	}
	n := binary.LittleEndian.Uint64(h)
	if n < 24 || n > 4096 {
		return 0, false
	}
	if _, err := io.CopyN(io.Discard, c, int64(n-24)); err != nil {
		return 0, false
	}
	reqno = binary.LittleEndian.Uint64(h[8:])
	_, err := c.Write(append(hdr(28, reqno, 1, 0, 0), 0, 0, 0, 0))
	return reqno, err == nil
}

// Nothing a server sends makes the client read unbounded lengths, loop or
// write where the frame says nothing: each is a clear result.
func TestHostileServersGetClearResults(t *testing.T) {
	b := build(t, usable(t, "amd64"))
	cases := []struct {
		name  string
		after func(c net.Conn, reqno uint64)
		layer guestapi.Layer
		text  string
	}{
		{"a frame of 2^40 bytes", func(c net.Conn, reqno uint64) {
			c.Write(hdr(1<<40, reqno+1, 1, 1, 0))
		}, guestapi.LayerFraming, "a frame of 1099511627776 bytes"},
		{"a COPYOUT longer than its frame", func(c net.Conn, reqno uint64) {
			body := make([]byte, 16)
			binary.LittleEndian.PutUint64(body, 1000) // len 1000, addr 0, no data
			c.Write(append(hdr(40, 0, 0, 4, 0), body...))
		}, guestapi.LayerFraming, "COPYOUT of 1000 bytes to (nil), but the frame carries 0"},
		{"a COPYIN of 1 GiB", func(c net.Conn, reqno uint64) {
			body := make([]byte, 16)
			binary.LittleEndian.PutUint64(body, 1<<30)
			c.Write(append(hdr(40, 0, 0, 2, 0), body...))
		}, guestapi.LayerFraming, "COPYIN of 1073741824 bytes"},
		{"a request type no client serves", func(c net.Conn, reqno uint64) {
			c.Write(hdr(24, 0, 0, 7, 0))
		}, guestapi.LayerFraming, "request of type 7 (PREFORK)"},
		{"an ERROR for the syscall", func(c net.Conn, reqno uint64) {
			c.Write(hdr(24, reqno+1, 2, 1, 7))
		}, guestapi.LayerFraming, "ERROR 7 (MALFORMED_REQUEST)"},
		{"a disconnect mid-scenario", func(c net.Conn, reqno uint64) {}, guestapi.LayerDisconnect, "frame header: "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url := fakeServer(t, func(c net.Conn) {
				reqno, ok := answerHandshake(c)
				if !ok {
					return
				}
				h := make([]byte, 24) // the getpid request
				if _, err := io.ReadFull(c, h); err != nil {
					return
				}
				tc.after(c, reqno)
				time.Sleep(50 * time.Millisecond)
			})
			run, err := b.Run(context.Background(), RunConfig{URL: url, Scenarios: []string{"getpid", "sysctl"}, Timeout: 2 * time.Second})
			require.NoError(t, err)
			require.Len(t, run.Results, 2, "the next scenario still runs")
			for _, r := range run.Results {
				assert.Equal(t, guestapi.Fail, r.Status, r.Scenario)
				assert.Equal(t, tc.layer, r.Layer, "%s: %s", r.Scenario, r.Detail)
				assert.Contains(t, r.Detail, tc.text, r.Scenario)
			}
		})
	}
}

// A client crash is a result with what the client was doing.
func TestACrashIsAResult(t *testing.T) {
	b := build(t, usable(t, "amd64"))
	url := fakeServer(t, func(c net.Conn) {
		reqno, ok := answerHandshake(c)
		if !ok {
			return
		}
		h := make([]byte, 24)
		if _, err := io.ReadFull(c, h); err != nil {
			return
		}
		// COPYINSTR from address 8: the client dereferences it and dies.
		body := make([]byte, 16)
		binary.LittleEndian.PutUint64(body, 1024)
		binary.LittleEndian.PutUint64(body[8:], 8)
		c.Write(append(hdr(40, 0, 0, 3, 0), body...))
		_ = reqno
		io.Copy(io.Discard, c)
	})
	run, err := b.Run(context.Background(), RunConfig{URL: url, Scenarios: []string{"getpid"}, Timeout: 2 * time.Second})
	require.NoError(t, err)
	require.Len(t, run.Results, 1)
	r := run.Results[0]
	assert.Equal(t, LayerCrash, r.Layer)
	assert.Equal(t, "client crashed: SIGSEGV in serving a COPYINSTR request (strnlen of up to 1024 bytes at 0x8)", r.Detail)
	assert.Equal(t, []uint32{20}, r.Syscalls)
	assert.Equal(t, 1, r.Checks, "the GUEST handshake, counted before the crash")
}

func TestParseResultsIsStrict(t *testing.T) {
	good := `{"scenario":"getpid","status":"pass","checks":8,"ms":1.5,"syscalls":[20,39]}`
	rs, err := parseResults([]byte(good + "\n\n"))
	require.NoError(t, err)
	assert.Equal(t, []guestapi.Result{{Scenario: "getpid", Status: guestapi.Pass, Checks: 8, Millis: 1.5, Syscalls: []uint32{20, 39}}}, rs)
	for _, bad := range []string{
		`{"scenario":"getpid","status":"pass","checks":8,"extra":1}`,
		`{"scenario":"getpid","status":"maybe"}`,
		`{"status":"pass"}`,
		`not json`,
		`{"scenario":"a","status":"pass"} {"scenario":"b","status":"pass"}`,
		strings.Repeat("x", maxLine+1),
	} {
		_, err := parseResults([]byte(good + "\n" + bad + "\n"))
		assert.Error(t, err, "%.60s", bad)
	}
}

func TestRunConfigIsVerified(t *testing.T) {
	b := &Binary{}
	for field, cfg := range map[string]RunConfig{
		"URL":       {URL: "http://x", Timeout: time.Second},
		"Version":   {URL: "unix:///x", Version: "0.2", Timeout: time.Second},
		"Timeout":   {URL: "unix:///x"},
		"Scenarios": {URL: "unix:///x", Timeout: time.Second, Scenarios: []string{"--list"}},
		"Mode":      {URL: "unix:///x", Timeout: time.Second, Mode: sp.ModeClientTranslates},
	} {
		_, err := b.Run(context.Background(), cfg)
		assert.ErrorContains(t, err, "emu: run config: "+field, field)
	}
}

// The full sweep (-emu.all): every C client target against a server of
// every ABI, natively. Same-ABI cells must pass; the others are
// recorded, one table per client, for the matrix report. (The Go
// runner's sweep is TestGoRunnerNativeCrossOutcomesAreThePredicted.)
func TestEverySweepCellRuns(t *testing.T) {
	if !*flagAll {
		t.Skip("the full client x server sweep runs with -emu.all")
	}
	var servers []string
	for _, d := range abi.All() {
		servers = append(servers, d.Name)
	}
	for _, name := range namesOf(CClient) {
		t.Run(name, func(t *testing.T) {
			tg := usable(t, name)
			b := build(t, tg)
			rows := map[string]map[string]string{}
			var mu sync.Mutex
			t.Run("servers", func(t *testing.T) {
				for _, srv := range servers {
					t.Run(srv, func(t *testing.T) {
						t.Parallel()
						run, err := b.Run(context.Background(), RunConfig{URL: startServer(t, abi.MustLookup(srv)), Timeout: 5 * time.Second})
						require.NoError(t, err, "stderr: %s", stderrOf(run))
						mu.Lock()
						defer mu.Unlock()
						for _, r := range run.Results {
							if rows[r.Scenario] == nil {
								rows[r.Scenario] = map[string]string{}
							}
							rows[r.Scenario][srv] = Outcome(r)
							if srv == name && r.Status == guestapi.Fail {
								t.Errorf("same ABI: %s: %s: %s", r.Scenario, Outcome(r), r.Detail)
							}
						}
						t.Logf("%s client -> %s server: %d scenarios in %v", name, srv, len(run.Results), run.Wall)
					})
				}
			})
			t.Log(table(fmt.Sprintf("%s C client (%s) against every server ABI", name, b.CompilerVersion), rows, servers))
		})
	}
}

// TRYAGAIN (0.4) makes the client send the request again, as NetBSD's
// does; the scenario then goes on as if nothing happened.
func TestTryAgainIsResent(t *testing.T) {
	b := build(t, usable(t, "amd64"))
	var mu sync.Mutex
	syscalls := 0
	url := fakeServer(t, func(c net.Conn) {
		if _, ok := answerHandshake(c); !ok {
			return
		}
		for {
			h := make([]byte, 24)
			if _, err := io.ReadFull(c, h); err != nil {
				return
			}
			reqno, num := binary.LittleEndian.Uint64(h[8:]), binary.LittleEndian.Uint32(h[20:])
			mu.Lock()
			syscalls++
			first := syscalls == 1
			mu.Unlock()
			if first {
				c.Write(hdr(24, reqno, 2, 1, 1)) // ERROR TRYAGAIN
				continue
			}
			resp := make([]byte, 24) // amd64 rsp_sysresp: error, pad, retval[2]
			if num == 20 {
				binary.LittleEndian.PutUint64(resp[8:], 5)  // pid
				binary.LittleEndian.PutUint64(resp[16:], 1) // ppid
			} else {
				binary.LittleEndian.PutUint64(resp[8:], 1) // getppid
			}
			c.Write(append(hdr(48, reqno, 1, 1, 0), resp...))
		}
	})
	run, err := b.Run(context.Background(), RunConfig{URL: url, Scenarios: []string{"getpid"}, Timeout: 2 * time.Second})
	require.NoError(t, err)
	require.Len(t, run.Results, 1)
	assert.Equal(t, guestapi.Pass, run.Results[0].Status, run.Results[0].Detail)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 4, syscalls, "getpid twice (once refused), getppid, getpid")
}
