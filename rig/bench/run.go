package bench

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/rumpsprig/sprig/guest/scenario"
)

// Run runs a whole bench as `sprig bench` does: every selected operation
// by the floor, the native client and the wasm guest, then the concurrent
// clients, cfg.Runs times, each measurement next to the others of its
// operation in the same run (their order rotating from run to run; the
// copy pair's operations all in the same blocks), and
// returns the report. The server is stopped (and writes its profiles)
// before Run returns.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	start := time.Now()
	s, err := Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	rep := &Report{
		SchemaVersion: SchemaVersion,
		Go:            runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(),
		Server: ServerInfo{URL: s.url, Started: cfg.Server == "", Banner: s.banner.String(), ABI: s.abi.Name},
		Calls:  cfg.Calls, Runs: cfg.Runs,
	}
	if rep.Server.Started {
		rep.Server.URL = ""
	}
	want := func(name string) bool { return len(cfg.Only) == 0 || slices.Contains(cfg.Only, name) }

	type opRun struct {
		op       scenario.BenchOp
		group    string
		variants []Variant
		iters    int
		samples  map[Variant][]float64 // µs per iteration, one per run
	}
	var ops []*opRun
	for _, op := range scenario.BenchOps() {
		group, vs := GroupSyscalls, []Variant{Floor, GoFloor, Native, Wasm}
		if op.Bytes >= scenario.BulkSize {
			group, vs = GroupBulk, []Variant{Floor, Native}
		} else if s.Preloads() && (op.CopiesIn || op.Name == "getpid") {
			vs = append(vs, Preload) // (getpid: the copy pair's N = 0)
		}
		if !want(op.Name) && !want(group) {
			continue
		}
		ops = append(ops, &opRun{op: op, group: group, variants: vs, iters: Iterations(op, cfg.Calls), samples: map[Variant][]float64{}})
	}
	levels := cfg.Clients
	if !want(GroupClients) {
		levels = nil
	}
	clients := map[Variant]map[int][]ClientsSample{Floor: {}, Native: {}}

	// The copy pair's operations (getpid is its N = 0) are measured
	// together, block by block, as the pair is their difference; every
	// other operation alone.
	var units [][]*opRun
	var pairs []*opRun
	for _, o := range ops {
		if inCopyPair(o.op.Name) && (len(pairs) == 0 || slices.Equal(o.variants, pairs[0].variants)) {
			pairs = append(pairs, o)
			continue
		}
		units = append(units, []*opRun{o})
	}
	if len(pairs) > 0 {
		units = append([][]*opRun{pairs}, units...)
	}

	for run := range cfg.Runs {
		for i, u := range units {
			timed := make([]Timed, len(u))
			names := make([]string, len(u))
			for j, o := range u {
				timed[j] = Timed{Op: o.op, Iterations: o.iters, Warmup: max(o.iters/10, 2)}
				names[j] = o.op.Name
			}
			s.log.Info("measuring", "run", run+1, "of", cfg.Runs, "op", strings.Join(names, " "))
			res, err := s.MeasureOps(ctx, timed, u[0].variants, run+i)
			if err != nil {
				return nil, fmt.Errorf("bench: %s: %w", strings.Join(names, " "), err)
			}
			for j, o := range u {
				for v, d := range res[j] {
					o.samples[v] = append(o.samples[v], float64(d.Nanoseconds())/1e3/float64(o.iters))
				}
			}
		}
		for i, n := range levels {
			s.log.Info("measuring", "run", run+1, "of", cfg.Runs, "clients", n)
			res, err := s.MeasureClients(ctx, n, ClientsCalls(cfg.Calls, n), run+i)
			if err != nil {
				return nil, err
			}
			for v, cs := range res {
				clients[v][n] = append(clients[v][n], cs)
			}
		}
	}
	if err := s.Close(); err != nil {
		return nil, err
	}

	us := func(op string, v Variant) []float64 {
		for _, o := range ops {
			if o.op.Name == op {
				return o.samples[v]
			}
		}
		return nil
	}
	for _, o := range ops {
		sc := s.scripts[o.op.Name]
		in, out := sc.Bytes()
		or := OpReport{Op: o.op.Name, Group: o.group, Summary: o.op.Summary, Syscalls: o.op.Syscalls,
			Iterations: o.iters, Exchange: sc, BytesIn: in, BytesOut: out}
		fl := o.samples[Floor]
		or.Floor = &Figure{US: statsOf(fl)}
		g := o.samples[GoFloor]
		if g != nil {
			or.GoFloor = &Figure{US: statsOf(g), XFloor: ptr(statsOf(ratios(g, fl)))}
		}
		if n := o.samples[Native]; n != nil {
			or.Native = &Figure{US: statsOf(n), XFloor: ptr(statsOf(ratios(n, fl)))}
			if g != nil {
				or.Native.XGoFloor = ptr(statsOf(ratios(n, g)))
			}
		}
		if w := o.samples[Wasm]; w != nil {
			or.Wasm = &Figure{US: statsOf(w), XFloor: ptr(statsOf(ratios(w, fl))), XNative: ptr(statsOf(ratios(w, o.samples[Native])))}
		}
		if p := o.samples[Preload]; p != nil {
			or.Preload = &Figure{US: statsOf(p), XFloor: ptr(statsOf(ratios(p, fl))), XNative: ptr(statsOf(ratios(p, o.samples[Native])))}
		}
		if o.group == GroupBulk {
			mib := float64(o.op.Bytes) / (1 << 20)
			bw := func(us []float64) *Stats {
				return ptr(statsOf(mapf(us, func(x float64) float64 { return mib / (x / 1e6) })))
			}
			or.Floor.MiBps = bw(fl)
			if or.Native != nil {
				or.Native.MiBps = bw(o.samples[Native])
			}
		}
		rep.Ops = append(rep.Ops, or)
	}

	// The copy pair: the least-squares slope of pairs/N over N, and what
	// it costs beyond the two syscalls that carry it.
	floorRT := us("getpid", Floor)
	for _, v := range []Variant{Floor, GoFloor, Native, Wasm, Preload} {
		p, ok := pairFit(func(n int) []float64 {
			if n == 0 {
				return us("getpid", v)
			}
			return us(fmt.Sprintf("pairs/%d", n), v)
		}, floorRT)
		if ok {
			p.Variant = v
			rep.CopyPair = append(rep.CopyPair, p)
		}
	}

	for _, n := range levels {
		fl, nat := clients[Floor][n], clients[Native][n]
		cr := ClientsReport{Clients: n, Calls: ClientsCalls(cfg.Calls, n)}
		cr.Floor = clientsFigure(fl, nil)
		cr.Native = clientsFigure(nat, fl)
		rep.Clients = append(rep.Clients, cr)
	}
	rep.Targets = targets(rep)
	rep.ElapsedSeconds = time.Since(start).Seconds()
	return rep, nil
}

// inCopyPair reports whether the copy pair's fit takes op's figures:
// getpid (its N = 0) and pairs/N.
func inCopyPair(op string) bool { return op == "getpid" || strings.HasPrefix(op, "pairs/") }

// Groups of operations in a report.
const GroupSyscalls = "syscalls"

// rotate returns xs turned left by k places.
func rotate[T any](xs []T, k int) []T {
	if len(xs) == 0 {
		return nil
	}
	k %= len(xs)
	return append(append([]T(nil), xs[k:]...), xs[:k]...)
}

func ptr[T any](v T) *T { return &v }

// ratios returns a[i]/b[i] for the runs both have: each run's ratio,
// its two figures taken moments apart.
func ratios(a, b []float64) []float64 {
	var out []float64
	for i := range min(len(a), len(b)) {
		if b[i] > 0 {
			out = append(out, a[i]/b[i])
		}
	}
	return out
}

func mapf(xs []float64, f func(float64) float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

// pairFit fits T(N) = a + b·N over N = 0, 1, 2, 4, 8 per run and returns
// the slope b, the slope less two null syscalls (the copies' own cost),
// and that in floor round trips of the same run.
func pairFit(at func(n int) []float64, floorRT []float64) (PairReport, bool) {
	ns := []int{0, 1, 2, 4, 8}
	runs := len(at(0))
	for _, n := range ns {
		if len(at(n)) != runs || runs == 0 {
			return PairReport{}, false
		}
	}
	var slope, added, rt []float64
	for r := range runs {
		var sx, sy, sxx, sxy float64
		for _, n := range ns {
			x, y := float64(n), at(n)[r]
			sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
		}
		k := float64(len(ns))
		b := (k*sxy - sx*sy) / (k*sxx - sx*sx)
		a := at(0)[r]
		slope = append(slope, b)
		added = append(added, b-2*a)
		if r < len(floorRT) && floorRT[r] > 0 {
			rt = append(rt, (b-2*a)/floorRT[r])
		}
	}
	return PairReport{PerPairUS: statsOf(slope), AddedUS: statsOf(added), AddedFloorRT: statsOf(rt)}, true
}

func clientsFigure(xs, floor []ClientsSample) *ClientsFigure {
	if len(xs) == 0 {
		return nil
	}
	var tput, p50, p99, tail []float64
	for _, x := range xs {
		tput = append(tput, x.Throughput())
		p50 = append(p50, float64(x.P50.Nanoseconds())/1e3)
		p99 = append(p99, float64(x.P99.Nanoseconds())/1e3)
		tail = append(tail, float64(x.P99)/float64(x.P50))
	}
	f := &ClientsFigure{CallsPerSecond: statsOf(tput), P50US: statsOf(p50), P99US: statsOf(p99), P99OverP50: statsOf(tail)}
	if floor != nil {
		var ft, f50 []float64
		for _, x := range floor {
			ft = append(ft, x.Throughput())
			f50 = append(f50, float64(x.P50.Nanoseconds())/1e3)
		}
		f.XFloorThroughput = ptr(statsOf(ratios(tput, ft)))
		f.XFloorP50 = ptr(statsOf(ratios(p50, f50)))
	}
	return f
}

// targets are issue 13's goals, judged on the medians.
func targets(r *Report) []Target {
	var out []Target
	add := func(name, metric string, s *Stats, limit float64) {
		if s == nil {
			return
		}
		t := Target{Name: name, Metric: metric, Value: s.Median, Limit: limit, Met: s.Median <= limit, Runs: len(s.runs)}
		for _, v := range s.runs {
			if v <= limit {
				t.RunsMet++
			}
		}
		out = append(out, t)
	}
	op := func(name string) *OpReport {
		for i := range r.Ops {
			if r.Ops[i].Op == name {
				return &r.Ops[i]
			}
		}
		return nil
	}
	if o := op("getpid"); o != nil && o.Native != nil {
		add("null syscall", "native getpid ÷ floor", o.Native.XFloor, 1.15)
	}
	for _, p := range r.CopyPair {
		switch p.Variant {
		case Native:
			add("copy pair", "native copy pair's added cost ÷ floor round trip", &p.AddedFloorRT, 1)
		case Preload:
			add("copy pair, preloaded", "the same, the client preloading (sprig's extension)", &p.AddedFloorRT, 1)
		}
	}
	if o := op("pread/64"); o != nil && o.Native != nil {
		add("pread 64 B", "native pread/64 ÷ its floor", o.Native.XFloor, 1.3)
	}
	if o := op("getpid"); o != nil && o.Wasm != nil {
		add("wasm guest", "wasm getpid ÷ native getpid", o.Wasm.XNative, 1.3)
	}
	for _, c := range r.Clients {
		if c.Clients == 256 && c.Native != nil {
			add("256 clients", "native p99 ÷ p50 at 256 clients", &c.Native.P99OverP50, 10)
		}
	}
	return out
}
