package matrix

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/guest/guestapi"
)

// SchemaVersion is the version of the JSON report format, documented in
// docs/matrix-json.md. Fields may be added within a version; none is
// renamed, removed or given another meaning. Version 2 added the error
// status (and the errors counts), nested children and interrupted runs.
const SchemaVersion = 2

// Report is a matrix run: its configuration, one Cell per client, server
// and mode, and a summary. It is also the JSON format (schema version 1).
type Report struct {
	SchemaVersion int    `json:"schema_version"`
	SprigVersion  string `json:"sprig_version"`
	// Protocol is the sysproxy protocol era every cell spoke.
	Protocol string `json:"protocol"`
	// ABIs, Modes and Scenarios are the configuration: every ordered pair
	// of ABIs in every mode, running every scenario.
	ABIs []string `json:"abis"`
	// Server and Servers, for a matrix against an outside server: its URL
	// and its ABI, the table's only column (the cells' server).
	Server    string         `json:"server,omitempty"`
	Servers   []string       `json:"servers,omitempty"`
	Modes     []string       `json:"modes"`
	Scenarios []ScenarioInfo `json:"scenarios"`
	// Shard is "I/N" when the report holds one shard's cells, empty when
	// it holds (or, merged, should hold) every cell.
	Shard string `json:"shard,omitempty"`
	// PredictionOnly marks a report made from the theory alone: nothing
	// ran and every observed status is the predicted one.
	PredictionOnly bool `json:"prediction_only,omitempty"`
	// Interrupted marks a run stopped before every cell ran (SIGINT):
	// the report holds the cells that finished.
	Interrupted bool `json:"interrupted,omitempty"`
	// Start and End bound the run; WallMillis is End - Start.
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	WallMillis float64   `json:"wall_ms"`
	// Workers is how many cells ran at once (the largest of a merge).
	Workers int `json:"workers"`
	// KernelExtensions names the extensions of sprig's kernel that were
	// on in the cells' servers (kill, mmap: the kill-raise and mmap-anon
	// scenarios need them; NetBSD's rump kernel has neither remotely).
	KernelExtensions []string `json:"kernel_extensions,omitempty"`
	// Emulators are the programs of the emulated column (--emulated),
	// each with the tools that built and ran it or the one it lacks.
	Emulators []Emulator `json:"emulators,omitempty"`
	Cells     []Cell     `json:"cells"`
	Summary   Summary    `json:"summary"`

	// Source names where the report was read from (a file), for
	// messages; it is not part of the JSON.
	Source string `json:"-"`

	// descs are the descriptors of ABIs, when the report was made here
	// rather than read from JSON (which names them only).
	descs map[string]*abi.Descriptor
}

// name is how messages refer to the i-th (from 0) of several reports.
func (r *Report) name(i int) string {
	if r.Source != "" {
		return r.Source
	}
	return fmt.Sprintf("report %d", i+1)
}

// ScenarioInfo describes one scenario of the configuration.
type ScenarioInfo struct {
	Name    string `json:"name"`
	Summary string `json:"summary"`
}

// Cell is one client ABI against one server ABI in one mode.
type Cell struct {
	Mode   string `json:"mode"`
	Client string `json:"client"`
	Server string `json:"server"`
	// Passed counts the scenarios observed to pass.
	Passed int `json:"passed"`
	// Disagreements counts results whose observed status is not the
	// predicted one, a guest that ended abnormally counting as one more.
	Disagreements int `json:"disagreements"`
	// Errors counts results that could not be judged (status error),
	// children included.
	Errors int `json:"errors"`
	// Retried says the cell's errors were run once more; the results are
	// the second run's for the scenarios that erred the first time.
	Retried bool `json:"retried,omitempty"`
	// GuestError says how the guest ended when it did not end normally.
	GuestError string `json:"guest_error,omitempty"`
	// Millis is how long the cell took, server start to guest exit, its
	// emulated runs included.
	Millis  float64  `json:"ms"`
	Results []Result `json:"results"`
	// Emulated are the runs of the emulated column's programs in this
	// cell, each judged against the same predictions; their
	// disagreements and errors count in the cell's.
	Emulated []EmulatedRun `json:"emulated,omitempty"`

	// ext are the kernel extensions its server had on.
	ext []string
}

// Key returns the cell's "mode client server" identity.
func (c *Cell) Key() string { return c.Mode + " " + c.Client + " " + c.Server }

// Result is one scenario of one cell: what happened and what the theory
// said would.
type Result struct {
	Scenario string `json:"scenario"`
	// Status is what happened: pass, fail, unsupported, or error when
	// the scenario could not be judged where it ran (a deadline passed,
	// the run was cancelled).
	Status guestapi.Status `json:"status"`
	// Predicted is what the ABI layouts say must happen: pass or fail.
	Predicted guestapi.Status `json:"predicted"`
	// Agrees is false exactly for a disagreement: a status other than
	// the predicted one, except error, which judges nothing.
	Agrees bool `json:"agrees"`
	// Reason is the prediction's why: the first layout the two ABIs
	// disagree on, or what agrees or translates.
	Reason string `json:"reason"`
	// Layer, Detail and Explanation describe an observed failure: where
	// it broke, what the guest saw, and the server's side of it.
	Layer       guestapi.Layer `json:"layer,omitempty"`
	Detail      string         `json:"detail,omitempty"`
	Explanation string         `json:"explanation,omitempty"`
	Checks      int            `json:"checks"`
	Millis      float64        `json:"ms"`
	// Child is the result of a scenario this one started in a second
	// guest (fork's fork-child), when it ran.
	Child *Result `json:"child,omitempty"`
}

// Summary counts a report's results.
type Summary struct {
	Cells       int `json:"cells"`
	Results     int `json:"results"`
	Passed      int `json:"passed"`
	Failed      int `json:"failed"`
	Unsupported int `json:"unsupported"`
	// Errors counts results that could not be judged; they are neither
	// agreements nor disagreements, and make the run exit 3 when
	// nothing disagrees.
	Errors int `json:"errors"`
	// Disagreements counts the results (children included) whose
	// observed status differs from the predicted one, plus guests that
	// ended abnormally. A clean run has none.
	Disagreements int `json:"disagreements"`
	// Emulated counts the emulated column's results, when there is
	// one; its disagreements and errors are in the two counts above.
	Emulated *EmulatedSummary `json:"emulated,omitempty"`
	// MissingCells lists the cells ("mode client server") of a report
	// without a shard that no result covers: a shard that never reported.
	MissingCells []string `json:"missing_cells,omitempty"`
}

// OK reports whether every observed status equals the predicted one, no
// cell is missing, nothing ended in an error and the run was not
// interrupted: the condition for exit status 0.
func (r *Report) OK() bool {
	return r.Summary.Disagreements == 0 && len(r.Summary.MissingCells) == 0 && r.Summary.Errors == 0 && !r.Interrupted
}

// Disagrees reports whether some observed outcome contradicts its
// prediction or a cell is missing: what makes sprig matrix exit 1, a bug
// in sprig or in the theory. Errors and interruptions are not.
func (r *Report) Disagrees() bool {
	return r.Summary.Disagreements > 0 || len(r.Summary.MissingCells) > 0
}

// summarize recomputes every cell's counts and the summary.
func (r *Report) summarize() {
	s := Summary{}
	for i := range r.Cells {
		c := &r.Cells[i]
		c.count()
		for _, x := range c.Results {
			switch x.Status {
			case guestapi.Pass:
				s.Passed++
			case guestapi.Fail:
				s.Failed++
			case guestapi.Unsupported:
				s.Unsupported++
			}
		}
		s.Results += len(c.Results)
		s.Disagreements += c.Disagreements
		s.Errors += c.Errors
	}
	s.Cells = len(r.Cells)
	s.Emulated = r.summarizeEmulated()
	if r.Shard == "" {
		s.MissingCells = r.missingCells()
	}
	r.Summary = s
}

// count sets the cell's Passed, Disagreements and Errors from its
// results.
func (c *Cell) count() {
	c.Passed, c.Disagreements, c.Errors = tally(c.GuestError, c.Results)
	for i := range c.Emulated {
		e := &c.Emulated[i]
		e.count()
		c.Disagreements += e.Disagreements
		c.Errors += e.Errors
	}
}

// countEmulatorCells sets each emulator's Cells from the cells' runs.
func (r *Report) countEmulatorCells() {
	for i := range r.Emulators {
		e := &r.Emulators[i]
		e.Cells = 0
		for j := range r.Cells {
			for _, run := range r.Cells[j].Emulated {
				if run.Target == e.Target {
					e.Cells++
				}
			}
		}
	}
}

// tally counts one client's results in a cell (the guest's, or an
// emulated program's that ended as ended says): passes, disagreements
// (children included, and an abnormal end of the client's own doing) and
// errors.
func tally(ended string, results []Result) (passed, disagreements, errs int) {
	if endDisagrees(ended, results) {
		disagreements++
	}
	for _, x := range results {
		if x.Status == guestapi.Pass {
			passed++
		}
		for _, y := range []*Result{&x, x.Child} {
			switch {
			case y == nil:
			case y.Status == guestapi.Error:
				errs++
			case !y.Agrees:
				disagreements++
			}
		}
	}
	return passed, disagreements, errs
}

// endDisagrees reports whether a client that ended abnormally (ended
// says how; empty for a normal end) did so of its own accord: not when
// the environment ended it, which leaves every result it left unjudged an
// error.
func endDisagrees(ended string, results []Result) bool {
	if ended == "" {
		return false
	}
	for _, x := range results {
		if x.Status == guestapi.Error {
			return false
		}
	}
	return true
}

// missingCells lists the configuration's cells that the report lacks.
func (r *Report) missingCells() []string {
	have := map[string]bool{}
	for i := range r.Cells {
		have[r.Cells[i].Key()] = true
	}
	var out []string
	for _, m := range r.Modes {
		for _, c := range r.ABIs {
			for _, s := range r.columns() {
				if k := m + " " + c + " " + s; !have[k] {
					out = append(out, k)
				}
			}
		}
	}
	return out
}

// sortCells puts cells in the canonical order: mode, client, server, each
// as the configuration lists them.
func (r *Report) sortCells() {
	slices.SortStableFunc(r.Cells, func(a, b Cell) int {
		if d := indexOf(r.Modes, a.Mode) - indexOf(r.Modes, b.Mode); d != 0 {
			return d
		}
		if d := indexOf(r.ABIs, a.Client) - indexOf(r.ABIs, b.Client); d != 0 {
			return d
		}
		return indexOf(r.columns(), a.Server) - indexOf(r.columns(), b.Server)
	})
}

// columns are the table's server ABIs: the outside server's, or every
// ABI.
func (r *Report) columns() []string {
	if len(r.Servers) > 0 {
		return r.Servers
	}
	return r.ABIs
}

// Cell returns the cell of mode, client and server, or nil.
func (r *Report) Cell(mode, client, server string) *Cell {
	for i := range r.Cells {
		c := &r.Cells[i]
		if c.Mode == mode && c.Client == client && c.Server == server {
			return c
		}
	}
	return nil
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// ErrSchema is returned for JSON that is not a matrix report this sprig
// can read.
var ErrSchema = errors.New("not a sprig matrix report of schema version 2")

// ReadJSON reads one report written by WriteJSON and checks that it is
// consistent: a known schema version, a configuration, cells inside it.
// Unknown keys are accepted, as a newer sprig of the same schema version
// may add some.
func ReadJSON(rd io.Reader) (*Report, error) {
	var r Report
	if err := json.NewDecoder(rd).Decode(&r); err != nil {
		return nil, fmt.Errorf("matrix: %w: %w", ErrSchema, err)
	}
	if r.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("matrix: %w: schema_version is %d", ErrSchema, r.SchemaVersion)
	}
	if len(r.ABIs) == 0 || len(r.Modes) == 0 || len(r.Scenarios) == 0 {
		return nil, fmt.Errorf("matrix: %w: abis, modes or scenarios missing", ErrSchema)
	}
	for i := range r.Cells {
		c := &r.Cells[i]
		if !slices.Contains(r.Modes, c.Mode) || !slices.Contains(r.ABIs, c.Client) || !slices.Contains(r.columns(), c.Server) {
			return nil, fmt.Errorf("matrix: %w: cell %q is outside the configuration", ErrSchema, c.Key())
		}
	}
	return &r, nil
}

// Merge joins reports of one configuration, normally the shards of one
// matrix, into a report of the whole matrix. The configurations must be
// equal; a cell may appear only once. Cells no report covers are listed
// in Summary.MissingCells, which makes the merged report fail. Errors
// name a report by its Source, or by its place in the list.
func Merge(reports ...*Report) (*Report, error) {
	if len(reports) == 0 {
		return nil, errors.New("matrix: merge: no reports")
	}
	first := reports[0]
	out := &Report{
		SchemaVersion: SchemaVersion, SprigVersion: first.SprigVersion, Protocol: first.Protocol,
		ABIs: first.ABIs, Server: first.Server, Servers: first.Servers, Modes: first.Modes, Scenarios: first.Scenarios,
		PredictionOnly: first.PredictionOnly,
		Start:          first.Start, End: first.End,
	}
	seen := map[string]int{}
	for i, r := range reports {
		other, base := r.name(i), first.name(0)
		switch {
		case !slices.Equal(r.ABIs, first.ABIs) || !slices.Equal(r.Servers, first.Servers) || r.Server != first.Server:
			return nil, fmt.Errorf("matrix: merge: %s covers ABIs %v, %s %v", other, r.ABIs, base, first.ABIs)
		case !slices.Equal(r.Modes, first.Modes):
			return nil, fmt.Errorf("matrix: merge: %s covers modes %v, %s %v", other, r.Modes, base, first.Modes)
		case !slices.Equal(r.Scenarios, first.Scenarios):
			return nil, fmt.Errorf("matrix: merge: %s runs other scenarios than %s", other, base)
		case r.Protocol != first.Protocol:
			return nil, fmt.Errorf("matrix: merge: %s speaks protocol %s, %s %s", other, r.Protocol, base, first.Protocol)
		}
		if r.SprigVersion != out.SprigVersion {
			out.SprigVersion = "mixed"
		}
		out.PredictionOnly = out.PredictionOnly && r.PredictionOnly
		out.Interrupted = out.Interrupted || r.Interrupted
		if r.Start.Before(out.Start) {
			out.Start = r.Start
		}
		if r.End.After(out.End) {
			out.End = r.End
		}
		out.Workers = max(out.Workers, r.Workers)
		out.Emulators = mergeEmulators(out.Emulators, r.Emulators)
		if out.KernelExtensions == nil {
			out.KernelExtensions = r.KernelExtensions
		}
		for _, c := range r.Cells {
			if j, dup := seen[c.Key()]; dup {
				return nil, fmt.Errorf("matrix: merge: cell %q is in %s and %s", c.Key(), reports[j].name(j), other)
			}
			seen[c.Key()] = i
			out.Cells = append(out.Cells, c)
		}
	}
	out.WallMillis = float64(out.End.Sub(out.Start).Microseconds()) / 1000
	out.sortCells()
	out.countEmulatorCells()
	out.summarize()
	return out, nil
}
