package matrix

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/rig"
	"github.com/rumpsprig/sprig/rig/predict"
	"github.com/rumpsprig/sprig/sp"
)

// Run runs the configuration's cells (its shard's, with a shard) on r,
// Workers at a time, and compares every result with its prediction. The
// report is complete even when results disagree; Report.OK says whether
// they all agreed. A cell whose scenarios end in errors (deadlines on a
// loaded machine) runs those scenarios once more before they are
// reported as errors. When ctx ends first, Run returns the report of the
// cells that finished, marked Interrupted, and an error wrapping ctx's;
// any other error means the matrix could not be run at all.
func Run(ctx context.Context, r *rig.Rig, cfg Config) (*Report, error) {
	if err := cfg.ResolveServer(ctx); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	workers := cfg.Workers
	if workers == 0 {
		workers = DefaultWorkers()
	}
	keys := cfg.ShardCells()
	rep := newReport(&cfg)
	rep.Workers = workers
	cells := make([]*Cell, len(keys))
	names := cfg.scenarioNames()
	var progs []*emulator
	if cfg.Emulated != nil {
		var err error
		if progs, rep.Emulators, err = prepareEmulation(ctx, &cfg); err != nil {
			return nil, err
		}
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int)
	type done struct {
		i   int
		err error
	}
	finished := make(chan done)
	var wg sync.WaitGroup
	for range min(workers, len(keys)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				cell, err := runCell(runCtx, r, &cfg, keys[i], names, progs)
				if err == nil {
					cells[i] = cell
				}
				finished <- done{i, err}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := range keys {
			select {
			case jobs <- i:
			case <-runCtx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(finished)
	}()

	var firstErr error
	disagreements, errs, n := 0, 0, 0
	for d := range finished {
		if d.err != nil {
			if firstErr == nil && ctx.Err() == nil {
				firstErr = fmt.Errorf("matrix: %s: %w", keys[d.i], d.err)
				cancel()
			}
			continue
		}
		n++
		disagreements += cells[d.i].Disagreements
		errs += cells[d.i].Errors
		if cfg.Progress != nil {
			cfg.Progress(Progress{Done: n, Total: len(keys), Cell: cells[d.i], Disagreements: disagreements, Errors: errs})
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	for _, c := range cells {
		if c != nil {
			rep.Cells = append(rep.Cells, *c)
			if rep.KernelExtensions == nil {
				rep.KernelExtensions = c.ext
			}
		}
	}
	rep.countEmulatorCells()
	rep.End = time.Now()
	rep.WallMillis = float64(rep.End.Sub(rep.Start).Microseconds()) / 1000
	if ctx.Err() != nil {
		rep.Interrupted = true
		// The cells not run were never attempted: they are not missing.
		rep.summarize()
		rep.Summary.MissingCells = nil
		return rep, fmt.Errorf("matrix: interrupted after %d of %d cells: %w", len(rep.Cells), len(keys), ctx.Err())
	}
	rep.summarize()
	return rep, nil
}

// ResolveServer reads the outside server's banner, once: its ABI when
// ServerABI is nil, and its modes when Modes is empty (native and
// client-translates, and server-translates when it is a sprig server,
// whose banner says abi=NAME). It refuses server-translates against a
// server that does not honour ABI declarations. Run calls it; a caller
// that wants the cells or a prediction first calls it itself.
func (c *Config) ResolveServer(ctx context.Context) error {
	if c.Server == "" || c.serverResolved {
		return nil
	}
	d, banner, err := rig.ServerABI(ctx, c.Server)
	switch {
	case err != nil && c.ServerABI == nil:
		return fmt.Errorf("matrix: %s: %w", c.Server, err)
	case c.ServerABI == nil:
		c.ServerABI = d
	}
	sprig := err == nil && banner.ABI != ""
	if len(c.Modes) == 0 {
		c.Modes = []rig.Mode{rig.ModeNative, rig.ModeClientTranslates}
		if sprig {
			c.Modes = []rig.Mode{rig.ModeNative, rig.ModeServerTranslates, rig.ModeClientTranslates}
		}
	}
	if err == nil && !sprig && slices.Contains(c.Modes, rig.ModeServerTranslates) {
		return fmt.Errorf("matrix: %s: mode server-translates needs a server that honours ABI declarations (a sprig server, whose banner says abi=NAME); this one's banner is %q", c.Server, banner.Line())
	}
	c.serverResolved = true
	return nil
}

// newReport starts a report of cfg.
func newReport(cfg *Config) *Report {
	rep := &Report{
		SchemaVersion: SchemaVersion, SprigVersion: cfg.SprigVersion, Protocol: sp.Version04.String(),
		ABIs: cfg.abiNames(), Server: cfg.Server, Servers: cfg.serverNames(), Modes: cfg.modeNames(), Shard: cfg.Shard.String(),
		Start: time.Now(), descs: map[string]*abi.Descriptor{},
	}
	for _, d := range cfg.ABIs {
		rep.descs[d.Name] = d
	}
	if rep.SprigVersion == "" {
		rep.SprigVersion = "(devel)"
	}
	for _, n := range cfg.scenarioNames() {
		s, _ := guestapi.LookupScenario(n)
		rep.Scenarios = append(rep.Scenarios, ScenarioInfo{Name: s.Name, Summary: s.Summary})
	}
	return rep
}

// runCell runs one cell with the guest, then with each program of the
// emulated column that covers it, and compares what happened with the
// theory.
func runCell(ctx context.Context, r *rig.Rig, cfg *Config, k CellKey, names []string, progs []*emulator) (*Cell, error) {
	cell, err := judge(ctx, r, cfg, k, names, nil)
	if err != nil {
		return nil, err
	}
	for _, e := range progs {
		if !e.covers(k) {
			continue
		}
		c, err := judge(ctx, r, cfg, k, names, e)
		if err != nil {
			return nil, err
		}
		cell.Emulated = append(cell.Emulated, emulatedRun(e.info.Target, c))
		cell.Millis += c.Millis
	}
	cell.count()
	return cell, nil
}

// judge runs one client in cell k (the guest, or prog) and compares what
// happened with the theory. Scenarios that ended in errors run once
// more, alone; what they do then is their result.
func judge(ctx context.Context, r *rig.Rig, cfg *Config, k CellKey, names []string, prog *emulator) (*Cell, error) {
	pair := rig.Pair{Client: k.Client, Server: k.Server, Mode: k.Mode, Scenarios: names, Timeout: cfg.Timeout,
		URL: cfg.Server, Destructive: cfg.Destructive}
	if prog != nil {
		pair.Program = prog
	}
	rr, err := r.Run(ctx, pair)
	if err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, ctx.Err() // results cut short by cancellation mean nothing
	}
	cell := evaluate(k, names, rr, cfg.Server != "")
	if cell.Errors == 0 {
		return cell, nil
	}
	var again []string
	for _, x := range cell.Results {
		if x.Status == guestapi.Error || (x.Child != nil && x.Child.Status == guestapi.Error) {
			again = append(again, x.Scenario)
		}
	}
	pair.Scenarios = again
	rr2, err := r.Run(ctx, pair)
	if err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	second := evaluate(k, again, rr2, cfg.Server != "")
	for _, y := range second.Results {
		for i := range cell.Results {
			if cell.Results[i].Scenario == y.Scenario {
				cell.Results[i] = y
			}
		}
	}
	if second.GuestError == "" {
		cell.GuestError = ""
	}
	cell.Retried = true
	cell.Millis += second.Millis
	cell.count()
	return cell, nil
}

// evaluate turns a rig report into a cell: one result per scenario, in
// order, each with its prediction, a child's under its parent; a
// scenario the guest never reported counts as failed.
//
// Against an outside server (outside) an unsupported result judges
// nothing either: the server lacks a call the scenario needs, which the
// layouts do not speak to.
func evaluate(k CellKey, names []string, rr *rig.Report, outside bool) *Cell {
	cell := &Cell{Mode: k.Mode.String(), Client: k.Client.Name, Server: k.Server.Name,
		Millis: float64(rr.Elapsed.Microseconds()) / 1000, ext: rr.KernelExtensions}
	got := map[string]rig.Result{}
	for _, x := range rr.Results {
		if x.Scenario == rig.GuestScenario {
			cell.GuestError = guestError(x, rr)
			continue
		}
		if _, dup := got[x.Scenario]; !dup {
			got[x.Scenario] = x
		}
	}
	for _, n := range names {
		s, _ := guestapi.LookupScenario(n)
		x, ran := got[n]
		res := observed(k, s, x, ran, outside)
		if s.Child != "" && x.Child != nil {
			cs, _ := guestapi.LookupScenario(s.Child)
			child := observed(k, cs, *x.Child, true, outside)
			res.Child = &child
		}
		cell.Results = append(cell.Results, res)
	}
	cell.count()
	return cell
}

func guestError(x rig.Result, rr *rig.Report) string {
	msg := x.Detail
	if rr.GuestStderr != "" {
		msg += ": " + rr.GuestStderr
	}
	return msg
}

// observed pairs a guest's result for scenario s with the prediction.
func observed(k CellKey, s guestapi.Scenario, x rig.Result, ran, outside bool) Result {
	v := predict.Scenario(k.Client, k.Server, k.Mode, s)
	res := Result{Scenario: s.Name, Predicted: status(v.Pass), Reason: v.Reason}
	if !ran {
		res.Status, res.Layer, res.Detail = guestapi.Fail, guestapi.LayerGuest, "the guest reported no result"
	} else {
		res.Status, res.Layer, res.Detail, res.Explanation = x.Status, x.Layer, x.Detail, x.Explanation
		res.Checks, res.Millis = x.Checks, x.Millis
	}
	// An error says nothing about the prediction (the scenario could not
	// be judged where it ran); anything else must be what was predicted.
	res.Agrees = res.Status == res.Predicted || res.Status == guestapi.Error ||
		(outside && res.Status == guestapi.Unsupported)
	return res
}

func status(pass bool) guestapi.Status {
	if pass {
		return guestapi.Pass
	}
	return guestapi.Fail
}

// Predicted returns the report a run of cfg must produce if sprig and
// the theory are right: every observed status is the predicted one.
// Nothing runs, so it is instant; the markdown a clean run prints equals
// this report's (see WriteMarkdown), which is how a test can tell that a
// committed verdict table is stale without running the matrix.
func Predicted(cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Server != "" && !cfg.serverResolved {
		return nil, errors.New("matrix: a prediction for an outside server needs its banner read first (Config.ResolveServer)")
	}
	rep := newReport(&cfg)
	rep.PredictionOnly = true
	names := cfg.scenarioNames()
	for _, k := range cfg.ShardCells() {
		cell := Cell{Mode: k.Mode.String(), Client: k.Client.Name, Server: k.Server.Name}
		for _, n := range names {
			s, _ := guestapi.LookupScenario(n)
			v := predict.Scenario(k.Client, k.Server, k.Mode, s)
			cell.Results = append(cell.Results, Result{Scenario: n, Status: status(v.Pass), Predicted: status(v.Pass), Agrees: true, Reason: v.Reason})
		}
		rep.Cells = append(rep.Cells, cell)
	}
	rep.End = rep.Start
	rep.summarize()
	return rep, nil
}
