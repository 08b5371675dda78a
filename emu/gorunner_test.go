package emu

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
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
	"github.com/rumpsprig/sprig/sp"
)

// goTargetNames are the Go runners the default run builds: the host's,
// and mips, the machine least like it (big-endian, 32-bit, under qemu);
// -emu.all builds every one.
func goTargetNames() []string {
	if *flagAll {
		return namesOf(GoRunner)
	}
	return []string{"go-amd64", "go-mips"}
}

func TestClientsOfAnABIAreItsCClientAndTheGoRunnersSpeakingIt(t *testing.T) {
	names := func(abiName string) []string {
		ts, err := ClientsOf(abiName)
		require.NoError(t, err)
		var out []string
		for _, tg := range ts {
			out = append(out, tg.Name+" ("+tg.Program.String()+")")
			assert.Equal(t, abi.MustLookup(abiName), tg.ABI())
		}
		return out
	}
	assert.Equal(t, []string{"sparc64 (C client)", "go-ppc64 (Go runner)", "go-s390x (Go runner)"}, names("sparc64"))
	assert.Equal(t, []string{"i386 (C client)", "go-386 (Go runner)"}, names("i686"))
	assert.Equal(t, []string{"powerpc (C client)"}, names("powerpc"))
	assert.Empty(t, names("aarch64eb"), "no machine of that ABI here")
	_, err := ClientsOf("vax")
	assert.ErrorIs(t, err, abi.ErrUnknownABI)

	for _, tg := range Targets() {
		want := []sp.Mode{sp.ModeNative}
		if tg.Program == GoRunner {
			want = sp.Modes()
			assert.True(t, strings.HasPrefix(tg.Name, "go-"+tg.GOARCH), tg.Name)
		}
		assert.Equal(t, want, tg.Modes(), tg.Name)
	}
	assert.Equal(t, "Program(9)", Program(9).String())
}

// tinyModule writes a module that says it is sprig's, with a runner that
// imports one package of its own, and returns its directory.
func tinyModule(t *testing.T) string {
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":               "module github.com/rumpsprig/sprig\n\ngo 1.26\n",
		"guest/native/main.go": "package main\n\nimport \"github.com/rumpsprig/sprig/lib\"\n\nfunc main() { println(lib.Word) }\n",
		"lib/lib.go":           "package lib\n\nconst Word = \"one\"\n",
		"other/other.go":       "package other\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	return dir
}

// A Go runner is rebuilt exactly when something it is built from
// changes: its own package or one it imports, go.mod, the link flags;
// not a file of the module outside its imports.
func TestGoBuildsAreCachedByTheRunnersSources(t *testing.T) {
	tg := usable(t, "go-amd64")
	if !tg.Native() {
		t.Skip("the tiny module's runner is checked by running it, which needs an amd64 host")
	}
	mod := tinyModule(t)
	cfg := BuildConfig{CacheDir: t.TempDir(), ModuleDir: mod}
	ctx := context.Background()
	first, err := Build(ctx, tg, cfg)
	require.NoError(t, err)
	assert.False(t, first.Cached)
	assert.Positive(t, first.BuildTime)
	assert.True(t, strings.HasPrefix(first.CompilerVersion, "go1."), first.CompilerVersion)
	assert.Equal(t, []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "go", "build", "-trimpath", "-buildvcs=false",
		"-o", "sprig-native", "./guest/native"}, first.Command)

	rebuilt := func(what string, change func()) {
		t.Helper()
		change()
		b, err := Build(ctx, tg, cfg)
		require.NoError(t, err, what)
		assert.False(t, b.Cached, "%s: not rebuilt", what)
		assert.NotEqual(t, first.Hash, b.Hash, what)
		first = b
	}
	write := func(name, body string) func() {
		return func() { require.NoError(t, os.WriteFile(filepath.Join(mod, name), []byte(body), 0o644)) }
	}
	again, err := Build(ctx, tg, cfg)
	require.NoError(t, err)
	assert.True(t, again.Cached)
	assert.Equal(t, first.Path, again.Path)

	write("other/other.go", "package other\n\nconst X = 1\n")()
	again, err = Build(ctx, tg, cfg)
	require.NoError(t, err)
	assert.True(t, again.Cached, "a package the runner does not import changed nothing")

	rebuilt("the runner's own source", write("guest/native/main.go",
		"package main\n\nimport \"github.com/rumpsprig/sprig/lib\"\n\nfunc main() { println(lib.Word, 2) }\n"))
	rebuilt("an imported package", write("lib/lib.go", "package lib\n\nconst Word = \"two\"\n"))
	rebuilt("go.mod", write("go.mod", "module github.com/rumpsprig/sprig\n\ngo 1.26 // changed\n"))
	cfg.LinkerX = []string{"github.com/rumpsprig/sprig/lib.v=1"}
	rebuilt("the -X settings", func() {})
	assert.Contains(t, first.Command, "-X github.com/rumpsprig/sprig/lib.v=1")

	cfg.ModuleDir = filepath.Join(mod, "lib")
	_, err = Build(ctx, tg, cfg)
	assert.ErrorContains(t, err, "emu: build config: ModuleDir: ")
	require.NoError(t, os.WriteFile(filepath.Join(mod, "lib", "go.mod"), []byte("module example.com/x\n"), 0o644))
	_, err = Build(ctx, tg, cfg)
	assert.ErrorContains(t, err, "is module example.com/x, not github.com/rumpsprig/sprig")
}

func TestGoBuildConfigIsVerified(t *testing.T) {
	goTarget, _ := LookupTarget("go-mips")
	cTarget, _ := LookupTarget("mips")
	for _, c := range []struct {
		tg   Target
		cfg  BuildConfig
		want string
	}{
		{goTarget, BuildConfig{CacheDir: "x", Defines: []string{"A"}}, "Defines are for C clients; go-mips is a Go runner"},
		{cTarget, BuildConfig{CacheDir: "x", LinkerX: []string{"a.b=c"}}, "LinkerX is for Go runners; mips is a C client"},
		{goTarget, BuildConfig{CacheDir: "x", LinkerX: []string{"a.b=c d"}}, `LinkerX: "a.b=c d" is not`},
		{goTarget, BuildConfig{CacheDir: "x", LinkerX: []string{"nodot=1"}}, `LinkerX: "nodot=1" is not`},
		{Target{Name: "odd", Program: 7, Compiler: []string{"go"}}, BuildConfig{CacheDir: "x"}, "Program(7) is not a client program"},
		{Target{Name: "bare"}, BuildConfig{CacheDir: "x"}, "emu: bare: the target names no compiler"},
	} {
		_, err := Build(context.Background(), c.tg, c.cfg)
		assert.ErrorContains(t, err, c.want)
	}
	b := &Binary{Target: goTarget}
	_, err := b.Run(context.Background(), RunConfig{URL: "unix:///x", Timeout: time.Second, PadFill: 1})
	assert.ErrorContains(t, err, "emu: run config: PadFill is the C client's")
	_, err = b.Run(context.Background(), RunConfig{URL: "unix:///x", Timeout: time.Second, Scenarios: []string{"a,b"}})
	assert.ErrorContains(t, err, "emu: run config: Scenarios")
}

// The Go toolchain for one GOARCH must not pass for another's.
func TestGoBuildRejectsABinaryForAnotherMachine(t *testing.T) {
	tg := usable(t, "go-amd64")
	tg.Machine = elf.EM_386
	tg.Class = elf.ELFCLASS32
	_, err := Build(context.Background(), tg, BuildConfig{CacheDir: t.TempDir(), ModuleDir: tinyModule(t)})
	require.ErrorIs(t, err, ErrELF)
	assert.Contains(t, err.Error(), "is ELFCLASS64 ELFDATA2LSB EM_X86_64, want ELFCLASS32 ELFDATA2LSB EM_386")
}

// ledger collects what the Go runner tests ran, for one table per test.
type ledger struct {
	mu   sync.Mutex
	rows []string
}

func (l *ledger) add(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rows = append(l.rows, fmt.Sprintf(format, args...))
}

func (l *ledger) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	rows := slices.Clone(l.rows)
	sort.Strings(rows)
	return strings.Join(rows, "\n")
}

// buildNote says how a binary came to be, for the tables.
func buildNote(b *Binary) string {
	if b.Cached {
		return "cached"
	}
	return "built in " + b.BuildTime.Round(10*time.Millisecond).String()
}

// Every Go runner, on its real or emulated CPU, passes every scenario
// against a server of the ABI it speaks: sprig's own layout engine and
// codec assume nothing about the CPU under them. ppc64 and s390x speak
// sparc64 and pass exactly as a sparc64 machine does.
func TestGoRunnerSameABIPassesEverywhere(t *testing.T) {
	var log ledger
	t.Run("targets", func(t *testing.T) {
		for _, name := range goTargetNames() {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				tg := usable(t, name)
				b, run := runSameABI(t, tg)
				assert.Equal(t, b.CompilerVersion, run.Tools.Compiler)
				assert.Equal(t, tg.Native(), run.Tools.Emulator == "", "an emulated run names its qemu")
				log.add("%-11s speaks %-8s %-20s %2d scenarios in %6v  %s / %s", name, tg.ABI().Name, buildNote(b),
					len(run.Results), run.Wall.Round(time.Millisecond), run.Tools.Compiler, orHost(run.Tools.Emulator))
			})
		}
	})
	t.Logf("Go runner against a sprig server of its own ABI, every scenario:\n%s", &log)
}

func orHost(emulator string) string {
	if emulator == "" {
		return "the host's CPU"
	}
	return emulator
}

// The translating modes work from every Go runner to a little-endian
// LP64 server and a big-endian ILP32 one: between them and the runners'
// CPUs every combination of host and wire byte order and word size.
// A descriptor that is not registered travels as a JSON file.
func TestGoRunnerTranslatesToAmd64AndMipsServers(t *testing.T) {
	var log ledger
	i386a8 := perturbedI386Align8()
	i386a8.Name = "i386-int64-align8" // a user descriptor, not a registered one
	i386a8.Aliases = nil              // whose names are its own
	t.Run("pairs", func(t *testing.T) {
		for _, name := range goTargetNames() {
			for _, mode := range []sp.Mode{sp.ModeClientTranslates, sp.ModeServerTranslates} {
				for _, srv := range []*abi.Descriptor{abi.MustLookup("amd64"), abi.MustLookup("mips"), i386a8} {
					if srv == i386a8 && (name != "go-amd64" || mode != sp.ModeClientTranslates) {
						continue
					}
					t.Run(name+"/"+mode.String()+"/"+srv.Name, func(t *testing.T) {
						t.Parallel()
						tg := usable(t, name)
						b := build(t, tg)
						run, err := b.Run(context.Background(), RunConfig{URL: startServer(t, srv), Mode: mode, ServerABI: srv, Timeout: 20 * time.Second})
						require.NoError(t, err, "stderr: %s", stderrOf(run))
						require.NotEmpty(t, run.Results)
						fails := 0
						for _, r := range run.Results {
							if r.Status == guestapi.Fail {
								fails++
								t.Errorf("%s: %s at layer %s: %s", r.Scenario, r.Status, r.Layer, r.Detail)
							}
						}
						log.add("%-11s %-18s -> %-18s %d/%d pass in %v", name, mode, srv.Name, len(run.Results)-fails, len(run.Results), run.Wall.Round(time.Millisecond))
					})
				}
			}
		}
	})
	t.Logf("Go runner in the translating modes:\n%s", &log)
}

// nativePairs are the Go runner → server pairs the default run checks
// against rig/predict, one of each kind of difference; -emu.all checks
// every Go runner against every server ABI.
func nativePairs() [][2]string {
	if !*flagAll {
		return [][2]string{
			{"go-mips", "amd64"},    // byte order
			{"go-amd64", "mips"},    // byte order, the other way
			{"go-amd64", "i386"},    // word size: the handshake alone survives
			{"go-amd64", "arm64"},   // an LP64 neighbour
			{"go-mips", "powerpc"},  // a big-endian ILP32 neighbour
			{"go-mips", "sparc64"},  // big-endian, other word size
			{"go-amd64", "riscv64"}, // an LP64 neighbour with unsigned char
		}
	}
	var out [][2]string
	for _, c := range namesOf(GoRunner) {
		for _, d := range abi.All() {
			out = append(out, [2]string{c, d.Name})
		}
	}
	return out
}

// agrees tells whether an observed result is what predict says: pass
// for pass, fail for fail. A server without a kernel extension a
// scenario needs (kill, mmap) may make it unsupported instead.
func agrees(r guestapi.Result, predicted bool) bool {
	if r.Status == guestapi.Unsupported {
		s, ok := guestapi.LookupScenario(r.Scenario)
		return ok && s.Needs != ""
	}
	return (r.Status == guestapi.Pass) == predicted
}

// Natively, a Go runner of one ABI against a server of another does what
// rig/predict computes from the two descriptors, scenario by scenario,
// on the real (emulated) CPU.
func TestGoRunnerNativeCrossOutcomesAreThePredicted(t *testing.T) {
	type key struct{ client, server string }
	outcomes := map[key]map[string]string{} // pair → scenario → outcome
	var mu sync.Mutex
	t.Run("pairs", func(t *testing.T) {
		for _, p := range nativePairs() {
			t.Run(p[0]+"->"+p[1], func(t *testing.T) {
				t.Parallel()
				tg := usable(t, p[0])
				b := build(t, tg)
				client, server := tg.ABI(), abi.MustLookup(p[1])
				run, err := b.Run(context.Background(), RunConfig{URL: startServer(t, server), Timeout: 5 * time.Second})
				require.NoError(t, err, "stderr: %s", stderrOf(run))
				got := map[string]string{}
				var names []string
				for _, r := range run.Results {
					names = append(names, r.Scenario)
					s, ok := guestapi.LookupScenario(r.Scenario)
					require.True(t, ok, r.Scenario)
					v := predict.Scenario(client, server, rig.ModeNative, s)
					got[r.Scenario] = Outcome(r)
					if !agrees(r, v.Pass) {
						got[r.Scenario] += "!"
						t.Errorf("%s: observed %s (%s), predicted pass=%v (%s)", r.Scenario, Outcome(r), r.Detail, v.Pass, v.Reason)
					}
				}
				mu.Lock()
				outcomes[key{p[0], p[1]}] = got
				mu.Unlock()
				want := slices.DeleteFunc(expectedNames(), func(n string) bool { return n == "efault" })
				if !slices.Contains(names, "fork-child") {
					// A child that never started reports nothing.
					want = slices.DeleteFunc(want, func(n string) bool { return n == "fork-child" })
				}
				assert.Equal(t, want, names)
			})
		}
	})
	// One table per client: its scenarios down, the servers across.
	var clients []string
	for _, p := range nativePairs() {
		if !slices.Contains(clients, p[0]) {
			clients = append(clients, p[0])
		}
	}
	for _, c := range clients {
		rows := map[string]map[string]string{}
		var cols []string
		for _, p := range nativePairs() {
			got, ok := outcomes[key{p[0], p[1]}]
			if p[0] != c || !ok {
				continue
			}
			cols = append(cols, p[1])
			for n, o := range got {
				if rows[n] == nil {
					rows[n] = map[string]string{}
				}
				rows[n][p[1]] = o
			}
		}
		if len(cols) > 0 {
			tg, _ := LookupTarget(c)
			t.Log(table(fmt.Sprintf("native outcome of the %s Go runner (speaking %s) against servers of other ABIs (! = not the predicted)",
				c, tg.ABI().Name), rows, cols))
		}
	}
}

func TestTheGoRunnerListsTheGuestsScenarios(t *testing.T) {
	b := build(t, usable(t, "go-amd64"))
	names, destructive, err := b.Scenarios(context.Background())
	require.NoError(t, err)
	want := slices.DeleteFunc(expectedNames(), func(n string) bool { return n == "fork-child" })
	assert.Equal(t, want, names)
	assert.Equal(t, map[string]bool{"efault": true}, destructive)
}
