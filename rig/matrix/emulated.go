package matrix

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/rumpsprig/sprig/emu"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/rig"
)

// Emulation configures the emulated column: sprig's client programs built
// for real machines (package emu: the C reference client by the
// machine's cross compiler, the Go scenario runner by Go) and run on the
// host or under qemu-user, against the same in-process servers as the
// guest. What they observe is judged against the same prediction, so the
// compilers and CPUs, not sprig's layout engine, have the last word.
//
// A program runs in every cell whose client ABI it speaks (by name: a
// perturbed descriptor called i386 still meets the real i386 machine,
// which is how a wrong descriptor shows) in a mode it has: the C client
// natively, and through a proxy; the Go runner in every mode.
type Emulation struct {
	// Targets restricts the programs to these emu targets ("i386",
	// "go-arm"; "c" and "go" stand for every target of a kind); empty is
	// every target.
	Targets []string
	// Build configures the builds: the cache directory, and perturbations
	// for tests that break a program on purpose.
	Build emu.BuildConfig
}

// Emulator is one program of the emulated column: what built it and what
// ran it, or why it could not run here.
type Emulator struct {
	// Target is the emu target ("i386", "go-ppc64"); Program its kind
	// ("C client", "Go runner"); ABI the ABI it speaks.
	Target  string `json:"target"`
	Program string `json:"program"`
	ABI     string `json:"abi"`
	// Compiler is the compiler's version line (or Go's); Emulator is
	// qemu's, empty where the host ran the program itself.
	Compiler string `json:"compiler,omitempty"`
	Emulator string `json:"emulator,omitempty"`
	// Missing names the tool this host lacks ("mips-linux-gnu-gcc not
	// found"); the program then ran nowhere.
	Missing string `json:"missing,omitempty"`
	// Cells counts the cells it ran in.
	Cells int `json:"cells"`
	// Cached says the binary came from the build cache; BuildMillis is
	// how long building took otherwise.
	Cached      bool    `json:"cached,omitempty"`
	BuildMillis float64 `json:"build_ms,omitempty"`
}

// EmulatedRun is one program's run in a cell: its results judged against
// the cell's predictions.
type EmulatedRun struct {
	Target        string `json:"target"`
	Passed        int    `json:"passed"`
	Disagreements int    `json:"disagreements"`
	Errors        int    `json:"errors"`
	Retried       bool   `json:"retried,omitempty"`
	// Error says how the program ended when it did not end normally.
	Error   string   `json:"error,omitempty"`
	Millis  float64  `json:"ms"`
	Results []Result `json:"results"`
}

// EmulatedSummary counts the emulated column's results.
type EmulatedSummary struct {
	// Cells counts the cells with at least one emulated run; Runs the
	// runs.
	Cells         int `json:"cells"`
	Runs          int `json:"runs"`
	Results       int `json:"results"`
	Passed        int `json:"passed"`
	Disagreements int `json:"disagreements"`
	Errors        int `json:"errors"`
}

// targets returns the emu targets e selects among those speaking
// one of abis, or an error naming a target that does not exist.
func (e *Emulation) targets(abis []string) ([]emu.Target, error) {
	known := emu.Names()
	for _, n := range e.Targets {
		if n != "c" && n != "go" && !slices.Contains(known, n) {
			return nil, fmt.Errorf("emulated target %q; known: c, go, %s", n, strings.Join(known, ", "))
		}
	}
	var out []emu.Target
	for _, t := range emu.Targets() {
		if !slices.Contains(abis, t.ABI().Name) {
			continue
		}
		kind := map[emu.Program]string{emu.CClient: "c", emu.GoRunner: "go"}[t.Program]
		if len(e.Targets) == 0 || slices.Contains(e.Targets, t.Name) || slices.Contains(e.Targets, kind) {
			out = append(out, t)
		}
	}
	return out, nil
}

// emulator is a built program, ready to run in cells.
type emulator struct {
	info *Emulator
	bin  *emu.Binary
}

// covers tells whether the program runs in cell k.
func (e *emulator) covers(k CellKey) bool {
	return e.bin.Target.ABI().Name == k.Client.Name && slices.Contains(e.bin.Target.Modes(), k.Mode.Client())
}

// String names the program and its tools, for rig reports.
func (e *emulator) String() string {
	s := e.info.Program + " " + e.info.Target + " (" + e.info.Compiler
	if e.info.Emulator != "" {
		s += "; " + e.info.Emulator
	}
	return s + ")"
}

// Run runs the program in one cell: rig calls it with the cell's pair.
func (e *emulator) Run(ctx context.Context, url string, p rig.Pair) ([]guestapi.Result, error) {
	cfg := emu.DefaultRunConfig(url)
	cfg.Mode = p.Mode.Client()
	cfg.Scenarios = p.Scenarios
	cfg.Version = p.Version.String()
	// An in-process server survives the destructive scenarios (the guest
	// runs them there too); an outside one only when the pair says so.
	cfg.Destructive = p.URL == "" || p.Destructive
	if p.Timeout > 0 {
		cfg.Timeout = p.Timeout
	}
	if p.Mode == rig.ModeClientTranslates {
		cfg.ServerABI = p.Server
	}
	run, err := e.bin.Run(ctx, cfg)
	if errors.Is(err, emu.ErrEmulator) {
		err = fmt.Errorf("%w: %w", rig.ErrEnvironment, err)
	}
	if run == nil {
		return nil, err
	}
	return run.Results, err
}

// prepareEmulation checks, builds and versions the programs of cfg's
// emulated column, at most one build per CPU at a time. A program whose
// compiler or emulator is missing is listed with what it lacks and runs
// nowhere; any other build failure is an error.
func prepareEmulation(ctx context.Context, cfg *Config) ([]*emulator, []Emulator, error) {
	targets, err := cfg.Emulated.targets(cfg.abiNames())
	if err != nil {
		return nil, nil, err
	}
	infos := make([]Emulator, len(targets))
	bins := make([]*emu.Binary, len(targets))
	errs := make([]error, len(targets))
	sem := make(chan struct{}, runtime.NumCPU())
	var wg sync.WaitGroup
	for i, t := range targets {
		infos[i] = Emulator{Target: t.Name, Program: programName(t.Program), ABI: t.ABI().Name}
		if err := t.Check(); err != nil {
			var te *emu.ToolError
			if !errors.As(err, &te) {
				return nil, nil, err
			}
			infos[i].Missing = te.Tool + " " + emu.ErrToolMissing.Error()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			b, err := emu.Build(ctx, t, cfg.Emulated.Build)
			if err != nil {
				errs[i] = err
				return
			}
			q, err := t.QemuVersion(ctx)
			if err != nil {
				errs[i] = err
				return
			}
			bins[i] = b
			infos[i].Compiler, infos[i].Emulator, infos[i].Cached = b.CompilerVersion, q, b.Cached
			infos[i].BuildMillis = float64(b.BuildTime.Microseconds()) / 1000
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, nil, fmt.Errorf("emulated column: %w", err)
	}
	var out []*emulator
	for i := range targets {
		if bins[i] != nil {
			out = append(out, &emulator{info: &infos[i], bin: bins[i]})
		}
	}
	return out, infos, nil
}

func programName(p emu.Program) string {
	if p == emu.CClient {
		return "C client"
	}
	return "Go runner"
}

// emulatedRun turns a judged run of a program into the cell's record.
func emulatedRun(target string, c *Cell) EmulatedRun {
	return EmulatedRun{Target: target, Passed: c.Passed, Disagreements: c.Disagreements, Errors: c.Errors,
		Retried: c.Retried, Error: c.GuestError, Millis: c.Millis, Results: c.Results}
}

// count sets the run's counts from its results, as Cell.count does.
func (e *EmulatedRun) count() {
	e.Passed, e.Disagreements, e.Errors = tally(e.Error, e.Results)
}

// summarizeEmulated counts the emulated column of r's cells.
func (r *Report) summarizeEmulated() *EmulatedSummary {
	if len(r.Emulators) == 0 {
		return nil
	}
	s := &EmulatedSummary{}
	for i := range r.Cells {
		c := &r.Cells[i]
		if len(c.Emulated) > 0 {
			s.Cells++
		}
		for _, e := range c.Emulated {
			s.Runs++
			s.Results += len(e.Results)
			s.Passed += e.Passed
			s.Disagreements += e.Disagreements
			s.Errors += e.Errors
		}
	}
	return s
}

// mergeEmulators joins the emulator lists of several reports: one entry
// per target, the one that ran where another report's lacked a tool.
// (Cells are recounted from the merged cells.)
func mergeEmulators(lists ...[]Emulator) []Emulator {
	var out []Emulator
	at := map[string]int{}
	for _, l := range lists {
		for _, e := range l {
			i, ok := at[e.Target]
			switch {
			case !ok:
				at[e.Target] = len(out)
				out = append(out, e)
			case out[i].Missing != "" && e.Missing == "":
				out[i] = e
			}
		}
	}
	return out
}
