package bench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
)

// SchemaVersion is the version of the Report's JSON shape
// (docs/bench-json.md). Keys are only added within a version.
const SchemaVersion = 1

// Report is what Run measured. Times are microseconds.
type Report struct {
	SchemaVersion int `json:"schema_version"`
	// Sprig is the version of the program that ran the bench (the caller
	// fills it in).
	Sprig          string     `json:"sprig_version,omitempty"`
	Go             string     `json:"go"`
	OS             string     `json:"os"`
	Arch           string     `json:"arch"`
	CPUs           int        `json:"cpus"`
	Server         ServerInfo `json:"server"`
	Calls          int        `json:"calls"`
	Runs           int        `json:"runs"`
	ElapsedSeconds float64    `json:"elapsed_s"`

	Ops      []OpReport      `json:"ops"`
	CopyPair []PairReport    `json:"copy_pair"`
	Clients  []ClientsReport `json:"clients"`
	Targets  []Target        `json:"targets"`
}

// ServerInfo says which server the clients talked to.
type ServerInfo struct {
	// URL is the outside server's; empty when the bench started a sprig
	// server of its own (Started).
	URL     string `json:"url,omitempty"`
	Started bool   `json:"started"`
	Banner  string `json:"banner"`
	ABI     string `json:"abi"`
}

// Stats is a figure over the runs.
type Stats struct {
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`

	runs []float64 // each run's figure, ascending (for the targets)
}

func statsOf(xs []float64) Stats {
	if len(xs) == 0 {
		return Stats{}
	}
	s := slices.Sorted(slices.Values(xs))
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Stats{Min: s[0], Median: m, Max: s[len(s)-1], runs: s}
}

// OpReport is one operation by each variant.
type OpReport struct {
	Op      string `json:"op"`
	Group   string `json:"group"` // GroupSyscalls or GroupBulk
	Summary string `json:"summary"`
	// Syscalls per iteration; Iterations per measurement.
	Syscalls   int `json:"syscalls"`
	Iterations int `json:"iterations"`
	// Exchange is one iteration's bytes, turn by turn, as recorded; the
	// floor replays it. BytesIn and BytesOut are its totals each way.
	Exchange Script  `json:"exchange"`
	BytesIn  int     `json:"bytes_in"`
	BytesOut int     `json:"bytes_out"`
	Floor    *Figure `json:"floor"`
	// GoFloor (the syscalls group) is the same bytes with both ends
	// using net.Conn: Go's runtime's cost, before sprig's.
	GoFloor *Figure `json:"go_floor,omitempty"`
	Native  *Figure `json:"native,omitempty"`
	Wasm    *Figure `json:"wasm,omitempty"`
	// Preload is the native client preloading what the syscalls copy in
	// (sprig's extension), for the operations that copy in, when the
	// server offers it.
	Preload *Figure `json:"preload,omitempty"`
}

// Figure is one variant's time for an operation.
type Figure struct {
	// US is microseconds per iteration.
	US Stats `json:"us"`
	// XFloor is each run's time divided by the floor's of the same run.
	XFloor *Stats `json:"x_floor,omitempty"`
	// XNative (wasm and preload) is each run's time divided by the
	// native client's of the same run.
	XNative *Stats `json:"x_native,omitempty"`
	// XGoFloor (native) is each run's time divided by the go floor's of
	// the same run: what sprig adds to Go's runtime.
	XGoFloor *Stats `json:"x_go_floor,omitempty"`
	// MiBps (bulk only) is the bandwidth, MiB per second.
	MiBps *Stats `json:"mib_per_s,omitempty"`
}

// PairReport is Kantee's copy pair: what one copyin+copyout pair of 64
// bytes costs. PerPairUS is the slope of pairs/N over N (a pwrite and a
// pread each: two syscalls, one COPYIN, one COPYOUT); AddedUS is that less
// two null syscalls, the copies' own cost; AddedFloorRT is AddedUS in
// floor round trips (the floor's getpid) of the same run.
type PairReport struct {
	Variant      Variant `json:"variant"`
	PerPairUS    Stats   `json:"per_pair_us"`
	AddedUS      Stats   `json:"added_us"`
	AddedFloorRT Stats   `json:"added_floor_round_trips"`
}

// ClientsReport is many concurrent clients calling getpid.
type ClientsReport struct {
	Clients int            `json:"clients"`
	Calls   int            `json:"calls"`
	Floor   *ClientsFigure `json:"floor"`
	Native  *ClientsFigure `json:"native"`
}

// ClientsFigure is one variant at one number of clients.
type ClientsFigure struct {
	CallsPerSecond Stats `json:"calls_per_s"`
	P50US          Stats `json:"p50_us"`
	P99US          Stats `json:"p99_us"`
	P99OverP50     Stats `json:"p99_over_p50"`
	// XFloorThroughput and XFloorP50 compare with the floor of the same
	// run (native only).
	XFloorThroughput *Stats `json:"x_floor_throughput,omitempty"`
	XFloorP50        *Stats `json:"x_floor_p50,omitempty"`
}

// Target is one of issue 13's goals, judged on a median. RunsMet of
// Runs runs met it on their own: on a busy machine a verdict one run
// away from the other way says less than one every run agrees with.
type Target struct {
	Name    string  `json:"name"`
	Metric  string  `json:"metric"`
	Value   float64 `json:"value"`
	Limit   float64 `json:"limit"`
	Met     bool    `json:"met"`
	RunsMet int     `json:"runs_met"`
	Runs    int     `json:"runs"`
}

// WriteText writes the report for people: tables aligned, each figure
// the median of the runs with [min–max].
func (r *Report) WriteText(w io.Writer) error {
	p := &printer{w: w}
	server := "sprig serve started by bench"
	if !r.Server.Started {
		server = r.Server.URL
	}
	p.f("sprig bench: %d runs, %d syscalls per measurement, %s %s/%s, %d CPUs\n", r.Runs, r.Calls, r.Go, r.OS, r.Arch, r.CPUs)
	p.f("server: %s (%s, ABI %s)\n", server, r.Server.Banner, r.Server.ABI)
	p.f("Every figure is the median of the runs [min–max]; ×floor divides by the floor of the same\n")
	p.f("bytes (two processes, one unix socket, one write per turn, both ends blocking in read(2)\n")
	p.f("and write(2) as in C) measured in the same run.\n")
	if lo, hi, ok := r.floorSpread(); ok && hi > noisyFloor*lo {
		p.f("A busy machine: the floor's getpid took %s to %s µs (%.1f×) from run to run. Trust a\n", num(lo), num(hi), hi/lo)
		p.f("ratio as far as its [min–max] agrees; 'taskset -c 0 sprig bench' steadies the runs.\n")
	}

	for _, g := range []struct{ group, title string }{
		{GroupSyscalls, "Syscalls, µs per operation"},
		{GroupBulk, "Bulk, 1 MiB in one syscall"},
	} {
		var rows []OpReport
		for _, o := range r.Ops {
			if o.Group == g.group {
				rows = append(rows, o)
			}
		}
		if len(rows) == 0 {
			continue
		}
		p.f("\n%s\n", g.title)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		if g.group == GroupBulk {
			fmt.Fprintf(tw, "op\tbytes c→s/s→c\tfloor µs\tfloor MiB/s\tnative µs\tnative MiB/s\t×floor\t\n")
			for _, o := range rows {
				fmt.Fprintf(tw, "%s\t%d/%d\t%s\t%s\t%s\t%s\t%s\t\n", o.Op, o.BytesIn, o.BytesOut,
					st(o.Floor.US), stp(o.Floor.MiBps), fig(o.Native, func(f *Figure) *Stats { return &f.US }),
					fig(o.Native, func(f *Figure) *Stats { return f.MiBps }), fig(o.Native, func(f *Figure) *Stats { return f.XFloor }))
			}
		} else {
			fmt.Fprintf(tw, "op\tbytes c→s/s→c\tfloor\tnative\t×floor\twasm\t×floor\t×native\t\n")
			for _, o := range rows {
				fmt.Fprintf(tw, "%s\t%d/%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", o.Op, o.BytesIn, o.BytesOut, st(o.Floor.US),
					fig(o.Native, func(f *Figure) *Stats { return &f.US }), fig(o.Native, func(f *Figure) *Stats { return f.XFloor }),
					fig(o.Wasm, func(f *Figure) *Stats { return &f.US }), fig(o.Wasm, func(f *Figure) *Stats { return f.XFloor }),
					fig(o.Wasm, func(f *Figure) *Stats { return f.XNative }))
			}
		}
		tw.Flush()
	}

	if gof := r.opsWith(func(o OpReport) *Figure { return o.GoFloor }); len(gof) > 0 {
		p.f("\nGo's floor: the same bytes with both ends using Go's net.Conn, as a Go program does;\n")
		p.f("÷go floor is what sprig adds to that (below 1: what it saves)\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "op\tgo floor\t×floor\tnative ÷go floor\t\n")
		for _, o := range gof {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", o.Op, st(o.GoFloor.US), stp(o.GoFloor.XFloor),
				fig(o.Native, func(f *Figure) *Stats { return f.XGoFloor }))
		}
		tw.Flush()
	}

	if pre := r.opsWith(func(o OpReport) *Figure { return o.Preload }); len(pre) > 0 {
		p.f("\nPreloaded copyin (sprig's extension): the native client sends what a syscall copies in\n")
		p.f("with it, so a pwrite is one round trip; ×floor is against the standard protocol's floor\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "op\tnative\tpreload\t×floor\t×native\t\n")
		for _, o := range pre {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", o.Op, fig(o.Native, func(f *Figure) *Stats { return &f.US }),
				st(o.Preload.US), stp(o.Preload.XFloor), stp(o.Preload.XNative))
		}
		tw.Flush()
	}

	if len(r.CopyPair) > 0 {
		p.f("\nCopy pairs: pairs/N is a getpid and N × (pwrite 64 B + pread 64 B); a pair is the slope over N\n")
		p.f("(Kantee 2012: about 30 µs a remote null syscall, 26 µs more a pair inside one syscall)\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "client\tper pair µs\tless 2 syscalls µs\tin floor round trips\t\n")
		for _, c := range r.CopyPair {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", c.Variant, st(c.PerPairUS), st(c.AddedUS), st(c.AddedFloorRT))
		}
		tw.Flush()
	}

	if len(r.Clients) > 0 {
		p.f("\nConcurrent clients: getpid, each client its own connection and process; the floor's\n")
		p.f("connections, as many, wait in Go's netpoller, as a Go server of many connections does\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "clients\tfloor calls/s\tfloor p50 µs\tnative calls/s\t×floor\tp50 µs\tp99 µs\tp99/p50\t\n")
		for _, c := range r.Clients {
			fl, nat := c.Floor, c.Native
			if fl == nil || nat == nil {
				continue
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", c.Clients, stK(fl.CallsPerSecond), st(fl.P50US),
				stK(nat.CallsPerSecond), stp(nat.XFloorThroughput), st(nat.P50US), st(nat.P99US), st(nat.P99OverP50))
		}
		tw.Flush()
	}

	if len(r.Targets) > 0 {
		p.f("\nTargets (issue 13), on the medians\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, t := range r.Targets {
			verdict := "met"
			if !t.Met {
				verdict = "NOT MET"
			}
			if t.Runs > 0 {
				verdict += fmt.Sprintf("\t(%d of %d runs met it)", t.RunsMet, t.Runs)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s ≤ %s\t%s\n", t.Name, t.Metric, num(t.Value), num(t.Limit), verdict)
		}
		tw.Flush()
	}
	p.f("\n%.0f s in all.\n", r.ElapsedSeconds)
	return p.err
}

// opsWith returns the operations whose figure pick picks was measured.
func (r *Report) opsWith(pick func(OpReport) *Figure) []OpReport {
	var out []OpReport
	for _, o := range r.Ops {
		if pick(o) != nil {
			out = append(out, o)
		}
	}
	return out
}

// noisyFloor is the spread of the floor's getpid, slowest run ÷ fastest,
// past which the text report says the machine was busy.
const noisyFloor = 2

// floorSpread is the fastest and slowest run of the floor's getpid.
func (r *Report) floorSpread() (lo, hi float64, ok bool) {
	for _, o := range r.Ops {
		if o.Op == "getpid" && o.Floor != nil && o.Floor.US.Min > 0 {
			return o.Floor.US.Min, o.Floor.US.Max, true
		}
	}
	return 0, 0, false
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, a ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, a...)
	}
}

// num shows three significant digits, or all of an integer part past
// them; a negative figure (a slope below the floor's noise) alike.
func num(x float64) string {
	switch a := math.Abs(x); {
	case a >= 100:
		return fmt.Sprintf("%.0f", x)
	case a >= 10:
		return fmt.Sprintf("%.1f", x)
	default:
		return fmt.Sprintf("%.2f", x)
	}
}

func st(s Stats) string {
	return num(s.Median) + " [" + num(s.Min) + "–" + num(s.Max) + "]"
}

func stp(s *Stats) string {
	if s == nil {
		return "-"
	}
	return st(*s)
}

// stK is st in thousands.
func stK(s Stats) string {
	return strings.TrimSpace(fmt.Sprintf("%sk [%s–%s]", num(s.Median/1e3), num(s.Min/1e3), num(s.Max/1e3)))
}

func fig(f *Figure, pick func(*Figure) *Stats) string {
	if f == nil {
		return "-"
	}
	return stp(pick(f))
}
