package rig

import (
	"time"

	"github.com/rumpsprig/sprig/guest/guestapi"
)

// RunSchemaVersion is the version of a run report's JSON form (`sprig run
// --format json`), documented in docs/run-json.md. Fields may be added
// within a version; none is renamed, removed or given another meaning.
const RunSchemaVersion = 1

// Report is the outcome of one pair, and the JSON form of `sprig run`.
type Report struct {
	SchemaVersion int    `json:"schema_version"`
	Client        string `json:"client"`
	Server        string `json:"server"`
	Mode          string `json:"mode"`
	Version       string `json:"version"`
	// URL is the outside server's, empty for an in-process one.
	URL string `json:"url,omitempty"`
	// KernelExtensions names the extensions of sprig's kernel that were
	// on in the in-process server (kill, mmap: calls NetBSD's rump kernel
	// does not serve remotely), empty when none was or the server was
	// outside.
	KernelExtensions []string `json:"kernel_extensions,omitempty"`
	// Program names the client program when it was not the wasm guest
	// (Pair.Program): what it is and the tools that built and ran it.
	Program string `json:"program,omitempty"`
	// Millis is how long the guest ran.
	Millis float64 `json:"ms"`
	// Counts sums the results, children counted with their parents.
	Counts Counts `json:"counts"`
	// Results are the scenarios in the order they ran; a scenario's
	// child (fork's fork-child) is inside its parent's result.
	Results []Result `json:"results"`
	// GuestExit and GuestStderr describe how the guest ended when it
	// did not end cleanly.
	GuestExit   int    `json:"guest_exit"`
	GuestStderr string `json:"guest_stderr,omitempty"`

	// Elapsed is Millis as a Duration.
	Elapsed time.Duration `json:"-"`
}

// Result is one scenario's outcome in a run: what the guest reported
// (guestapi.Result) and the server's side of a failure.
type Result struct {
	Scenario string          `json:"scenario"`
	Status   guestapi.Status `json:"status"`
	// Layer is where a failure broke; Detail says what happened or why
	// the scenario was unsupported or ended in an error.
	Layer  guestapi.Layer `json:"layer,omitempty"`
	Detail string         `json:"detail,omitempty"`
	// Field names the first wrong value of a data failure.
	Field *guestapi.FieldMismatch `json:"field,omitempty"`
	// Explanation adds the server's side to a data or decoding failure
	// (in-process servers only: sprig sees both sides there).
	Explanation string `json:"explanation,omitempty"`
	// Trace is the client's last syscalls before a failure.
	Trace  []string `json:"trace,omitempty"`
	Checks int      `json:"checks"`
	Millis float64  `json:"ms"`
	// Syscalls are the numbers of the syscalls the scenario sent.
	Syscalls []uint32 `json:"syscalls,omitempty"`
	// Child is the result of a scenario this one started in a second
	// client (fork's fork-child), when it reported.
	Child *Result `json:"child,omitempty"`
}

func resultOf(r guestapi.Result) Result {
	return Result{Scenario: r.Scenario, Status: r.Status, Layer: r.Layer, Detail: r.Detail, Field: r.Field,
		Trace: r.Trace, Checks: r.Checks, Millis: r.Millis, Syscalls: r.Syscalls}
}

// Counts are how many results of a run ended each way.
type Counts struct {
	Pass        int `json:"pass"`
	Fail        int `json:"fail"`
	Unsupported int `json:"unsupported"`
	Error       int `json:"error"`
}

// Add counts one status.
func (c *Counts) Add(s guestapi.Status) {
	switch s {
	case guestapi.Pass:
		c.Pass++
	case guestapi.Fail:
		c.Fail++
	case guestapi.Unsupported:
		c.Unsupported++
	default:
		c.Error++
	}
}

// settle turns what the guest reported into the report: timeouts become
// errors (the scenario could not be judged in the time given), children
// move into their parents, and the counts are made.
func (r *Report) settle() {
	byName := map[string]int{}
	var top []Result
	for _, x := range r.Results {
		if x.Layer == guestapi.LayerTimeout && x.Status == guestapi.Fail {
			x.Status = guestapi.Error
		}
		byName[x.Scenario] = len(top)
		top = append(top, x)
	}
	var out []Result
	for _, x := range top {
		if s, ok := guestapi.LookupScenario(x.Scenario); ok && s.ChildOnly {
			continue // goes under its parent below
		}
		if s, ok := guestapi.LookupScenario(x.Scenario); ok && s.Child != "" {
			if i, ok := byName[s.Child]; ok {
				c := top[i]
				x.Child = &c
			}
		}
		out = append(out, x)
	}
	r.Results = out
	r.Counts = Counts{}
	for _, x := range r.Results {
		if x.Scenario != GuestScenario { // the guest's own entry is no scenario
			r.Counts.Add(x.Status)
		}
	}
}
