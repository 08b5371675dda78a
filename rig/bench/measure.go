package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/guest"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/guest/scenario"
	"github.com/rumpsprig/sprig/rig/internal/wasmhost"
	"github.com/rumpsprig/sprig/sp"
)

// Variant is what a measurement times.
type Variant string

// The variants.
const (
	// Floor: the operation's bytes between this process and the peer,
	// both ends blocking in read(2) and write(2) as in C.
	Floor Variant = "floor"
	// GoFloor: the same bytes with both ends reading and writing
	// through net.Conn, as a Go program does: what Go's runtime costs
	// before any protocol work, so that native ÷ go-floor is sprig's own
	// part (sprig's sockets skip some of that cost: internal/rawsock).
	GoFloor Variant = "go-floor"
	// Native: sprig's Go client in this process.
	Native Variant = "native"
	// Wasm: the WebAssembly guest under wazero in this process.
	Wasm Variant = "wasm"
	// Preload: sprig's Go client in this process, sending what a syscall
	// copies in along with it (sp.ClientConfig.Preload), against a server
	// that offers it; the floor stays the standard protocol's bytes.
	Preload Variant = "preload"
)

// Iterations returns how many times op runs in a measurement of calls
// syscalls: calls/op.Syscalls, at most calls×4 KiB moved, at least 16,
// rounded down to whole blocks.
func Iterations(op scenario.BenchOp, calls int) int {
	n := calls / op.Syscalls
	if op.Bytes > 4096 {
		n = min(n, calls*4096/op.Bytes)
	}
	return max(n, 2*Blocks) / Blocks * Blocks
}

// Op returns the operation named name.
func Op(name string) (scenario.BenchOp, error) {
	op, ok := scenario.LookupBenchOp(name)
	if !ok {
		return op, fmt.Errorf("bench: no operation %q", name)
	}
	return op, nil
}

// Script returns op's exchange with the server: one iteration, recorded
// once from a probe client's frames.
func (s *Session) Script(ctx context.Context, op scenario.BenchOp) (Script, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc, ok := s.scripts[op.Name]; ok {
		return sc, nil
	}
	if s.probe == nil {
		s.rec = &recorder{}
		c, err := s.dialClient(ctx, s.rec.trace, false)
		if err != nil {
			return nil, err
		}
		if c.w, err = scenario.NewWorkload(ctx, c.c, c.mem); err != nil {
			c.close(ctx)
			return nil, fmt.Errorf("bench: probe client: %w", err)
		}
		s.probe = c
	}
	s.rec.start()
	_, err := s.probe.w.Run(ctx, op, 1)
	sc := s.rec.stop()
	if err != nil {
		return nil, err
	}
	if len(sc) == 0 || len(sc) > maxTurns {
		return nil, fmt.Errorf("bench: %s crossed the wire in %d turns", op.Name, len(sc))
	}
	s.scripts[op.Name] = sc
	return sc, nil
}

// Blocks is how many blocks a run's measurement of an operation is cut
// into; the variants take turns block by block.
const Blocks = 8

// MeasureOp times op by each of variants once, as one run: first warmup
// untimed iterations each, then Blocks blocks of n/Blocks iterations (n a
// multiple of Blocks), the variants taking turns block by block (their
// order rotated by rot and the block), so that the machine's other load
// falls on all of them alike. It returns each variant's time for the n
// iterations. A wasm guest runs its blocks in one instance and waits, in
// its report of each block, for the others to run theirs.
func (s *Session) MeasureOp(ctx context.Context, op scenario.BenchOp, n, warmup int, variants []Variant, rot int) (map[Variant]time.Duration, error) {
	res, err := s.MeasureOps(ctx, []Timed{{Op: op, Iterations: n, Warmup: warmup}}, variants, rot)
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

// Timed is one operation of a measurement: how many iterations of it are
// timed (a multiple of Blocks), after how many untimed ones.
type Timed struct {
	Op                 scenario.BenchOp
	Iterations, Warmup int
}

// MeasureOps is MeasureOp for several operations at once: every block
// runs each operation by each variant, so that figures derived from two
// operations' difference (the copy pair: pairs/N less getpid) see the
// machine in the same state. Within a block an operation's variants take
// their turns side by side, as when it is measured alone, in an order
// rotated by rot, the block and the operation; the operations' order
// rotates too, except where a wasm guest runs them (in the order given,
// each block's turn of an operation first, the others' turns of it
// while the guest waits in its report). It returns, for each of ops,
// each variant's time.
func (s *Session) MeasureOps(ctx context.Context, ops []Timed, variants []Variant, rot int) ([]map[Variant]time.Duration, error) {
	wasm := false
	var others []Variant
	for _, v := range variants {
		switch v {
		case Floor, GoFloor, Native, Preload:
			others = append(others, v)
		case Wasm:
			wasm = true
		default:
			return nil, fmt.Errorf("bench: no variant %q", v)
		}
	}
	for _, o := range ops {
		if o.Iterations <= 0 || o.Iterations%Blocks != 0 || o.Warmup < 0 {
			return nil, fmt.Errorf("bench: %s: %d iterations (a positive multiple of %d) after %d untimed", o.Op.Name, o.Iterations, Blocks, o.Warmup)
		}
	}
	res := make([]map[Variant]time.Duration, len(ops))
	for i := range res {
		res[i] = map[Variant]time.Duration{}
		for _, v := range others {
			if _, err := s.measure(ctx, v, ops[i].Op, ops[i].Warmup); err != nil {
				return nil, err
			}
		}
	}
	// turn runs block b of operation i by every variant but the guest.
	// (Variants side by side: with each variant's turns of all the
	// operations side by side instead, the native client's ran long
	// enough alone for the server to poll for it, rawsock.ActiveWithin,
	// which it does not for an operation measured alone; its getpid came
	// out a fifth faster in the copy pair's blocks than alone.)
	turn := func(b, i int) error {
		for _, v := range rotate(others, rot+b+i) {
			d, err := s.measure(ctx, v, ops[i].Op, ops[i].Iterations/Blocks)
			if err != nil {
				return err
			}
			res[i][v] += d
			if s.testHookTurn != nil {
				s.testHookTurn(b, ops[i].Op.Name, v)
			}
		}
		return nil
	}
	if !wasm {
		order := make([]int, len(ops))
		for i := range order {
			order[i] = i
		}
		for b := range Blocks {
			for _, i := range rotate(order, rot+b) {
				if err := turn(b, i); err != nil {
					return nil, err
				}
			}
		}
		return res, nil
	}
	d, err := s.measureWasm(ctx, ops, turn)
	if err != nil {
		return nil, err
	}
	for i := range ops {
		res[i][Wasm] = d[i]
	}
	return res, nil
}

// measure times n iterations of op by v (Floor, GoFloor, Native or Preload).
func (s *Session) measure(ctx context.Context, v Variant, op scenario.BenchOp, n int) (time.Duration, error) {
	switch v {
	case Floor:
		return s.measureFloor(ctx, op, n, true)
	case GoFloor:
		return s.measureFloor(ctx, op, n, false)
	case Preload:
		c, err := s.goClient(ctx, &s.preload, true)
		if err != nil {
			return 0, err
		}
		return c.w.Run(ctx, op, n)
	}
	c, err := s.goClient(ctx, &s.native, false)
	if err != nil {
		return 0, err
	}
	return c.w.Run(ctx, op, n)
}

// floorKey names one of the session's floor connections: an operation's,
// blocking in the kernel (raw) or in Go's netpoller.
type floorKey struct {
	op  string
	raw bool
}

// measureFloor times n iterations of op's exchange with the peer, both
// ends blocking in the kernel (raw, Floor) or in Go's netpoller (GoFloor).
func (s *Session) measureFloor(ctx context.Context, op scenario.BenchOp, n int, raw bool) (time.Duration, error) {
	sc, err := s.Script(ctx, op)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	key := floorKey{op.Name, raw}
	f := s.floors[key]
	if f == nil {
		if f, err = dialFloor(s.peerPath, sc, raw); err != nil {
			s.mu.Unlock()
			return 0, err
		}
		s.floors[key] = f
	}
	s.mu.Unlock()
	return f.run(n)
}

// goClient returns the session's Go client kept in *slot, dialling it
// (preloading or not) the first time.
func (s *Session) goClient(ctx context.Context, slot **client, preload bool) (*client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if *slot != nil {
		return *slot, nil
	}
	c, err := s.dialClient(ctx, nil, preload)
	if err != nil {
		return nil, err
	}
	if preload && !c.c.Preloads() {
		c.close(ctx)
		return nil, fmt.Errorf("bench: the server does not offer preloaded copyin (banner %q)", c.c.Banner().Line())
	}
	if c.w, err = scenario.NewWorkload(ctx, c.c, c.mem); err != nil {
		c.close(ctx)
		return nil, fmt.Errorf("bench: Go client: %w", err)
	}
	*slot = c
	return c, nil
}

// CloseClients disconnects the native and probe clients, so that a
// measurement of many clients finds the server's client slots free.
func (s *Session) CloseClients(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeClients(ctx)
}

// closeClients is CloseClients with s.mu held.
func (s *Session) closeClients(ctx context.Context) {
	for _, c := range []*client{s.native, s.preload, s.probe} {
		if c != nil {
			c.close(ctx)
		}
	}
	s.native, s.preload, s.probe = nil, nil, nil
}

func (s *Session) wasmEngine(ctx context.Context) (*wasmhost.Engine, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.engine == nil {
		e, err := wasmhost.NewEngine(ctx, guest.Scenarios, wasmhost.Options{CacheDir: s.cfg.CacheDir, ReadSpin: sp.DefaultReadSpin})
		if err != nil {
			return nil, err
		}
		s.engine = e
	}
	return s.engine, nil
}

// measureWasm runs a guest instance in the bench role for Blocks blocks,
// each of ops' Iterations/Blocks runs of each, and when it reports block
// b of operation i, while it waits, between(b, i). The guest times its
// blocks by its own clock, so instantiation, connection and setup are
// not counted. It returns each operation's time.
func (s *Session) measureWasm(ctx context.Context, ops []Timed, between func(block, op int) error) ([]time.Duration, error) {
	e, err := s.wasmEngine(ctx)
	if err != nil {
		return nil, err
	}
	cfg := s.clientConfig()
	cfg.Bench = &guestapi.BenchConfig{Blocks: Blocks}
	named := map[string]bool{}
	for _, o := range ops {
		if named[o.Op.Name] {
			return nil, fmt.Errorf("bench: %s measured twice by one guest", o.Op.Name)
		}
		named[o.Op.Name] = true
		cfg.Bench.Ops = append(cfg.Bench.Ops, guestapi.BenchOp{Name: o.Op.Name, Iterations: o.Iterations / Blocks, Warmup: o.Warmup})
	}
	total := make([]time.Duration, len(ops))
	samples := 0
	var failed []string
	var betweenErr error
	misordered := false
	run := &wasmhost.Run{
		Engine: e,
		Dial: func(ctx context.Context, url string) (wasmhost.Conn, error) {
			u, err := sp.ParseURL(url)
			if err != nil {
				return nil, err
			}
			return u.Dial(ctx)
		},
		// Reports come one at a time, from the guest's goroutine.
		Report: func(r guestapi.Result) {
			if r.Status != guestapi.Pass {
				failed = append(failed, fmt.Sprintf("%s: %s: %s", r.Scenario, r.Layer, r.Detail))
				return
			}
			// The guest reports in its order: block by block, each
			// operation in turn.
			i, block := samples%len(ops), samples/len(ops)
			due := cfg.Bench.Ops[i]
			if r.Bench == nil || r.Bench.Op != due.Name || r.Bench.Block != block || r.Bench.Iterations != due.Iterations {
				if !misordered { // the rest follow from the first
					failed = append(failed, fmt.Sprintf("%s: %+v reported where block %d of %s (%d iterations) was due", r.Scenario, r.Bench, block, due.Name, due.Iterations))
				}
				misordered = true
				return
			}
			total[i] += time.Duration(r.Bench.Nanos)
			samples++
			if s.testHookTurn != nil {
				s.testHookTurn(block, due.Name, Wasm)
			}
			if betweenErr == nil && between != nil {
				betweenErr = between(block, i)
			}
		},
	}
	ictx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	ex := run.Instance(ictx, cfg)
	switch {
	case betweenErr != nil:
		return nil, betweenErr
	case len(failed) > 0:
		return nil, fmt.Errorf("bench: wasm guest: %s", strings.Join(failed, "; "))
	case samples != Blocks*len(ops) || ex.Code != 0:
		return nil, fmt.Errorf("bench: wasm guest measured %d of %d blocks (exit %d, %v): %s", samples, Blocks*len(ops), ex.Code, ex.Err, ex.Stderr)
	}
	return total, nil
}

// ClientsSample is one measurement of many clients at once, each on a
// connection (and, for sprig, a process) of its own, calling getpid as
// fast as it can.
type ClientsSample struct {
	Clients int
	Calls   int
	Elapsed time.Duration
	// P50 and P99 are the calls' latencies.
	P50, P99 time.Duration
}

// Throughput returns calls per second.
func (c ClientsSample) Throughput() float64 { return float64(c.Calls) / c.Elapsed.Seconds() }

// ClientsCalls is how many calls a measurement of n clients makes in all,
// in whole blocks.
func ClientsCalls(calls, n int) int { return max(4*calls, 16*n) / Blocks * Blocks }

// MeasureClients times n clients at once by the floor and by sprig's
// native client, as one run: n floor connections to the peer and n
// native clients (each its own connection and process on the server)
// are set up, then Blocks blocks of calls/Blocks getpid calls in all
// follow, the two taking turns (their order rotated by rot and the
// block). Every reply is checked. The session's own clients disconnect
// first, so that the server's client slots (256 for C) are free.
func (s *Session) MeasureClients(ctx context.Context, n, calls, rot int) (map[Variant]ClientsSample, error) {
	callers := map[Variant][]func() error{}
	var closers []func()
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	sc, err := s.Script(ctx, scenario.BenchOps()[0])
	if err != nil {
		return nil, err
	}
	s.CloseClients(ctx)
	for range n {
		f, err := dialFloor(s.peerPath, sc, false) // many at once: see scriptMagic
		if err != nil {
			return nil, err
		}
		closers = append(closers, func() { f.Close() })
		callers[Floor] = append(callers[Floor], f.iteration)
	}
	for i := range n {
		c, err := s.dialClient(ctx, nil, false)
		if err != nil {
			return nil, fmt.Errorf("client %d of %d: %w", i+1, n, err)
		}
		closers = append(closers, func() { c.c.Close() })
		r, err := c.c.Syscall(ctx, netbsd.SYS_getpid)
		if err != nil {
			return nil, err
		}
		pid := r.Retval[0]
		callers[Native] = append(callers[Native], func() error {
			r, err := c.c.Syscall(ctx, netbsd.SYS_getpid)
			switch {
			case err != nil:
				return err
			case r.Errno != 0 || r.Retval[0] != pid:
				return fmt.Errorf("getpid answered %d (errno %d) on the connection of pid %d", r.Retval[0], r.Errno, pid)
			}
			return nil
		})
	}
	for _, cs := range callers { // warm every connection
		for _, call := range cs {
			if err := call(); err != nil {
				return nil, err
			}
		}
	}
	per := max(calls/Blocks, 1)
	lat := map[Variant][]time.Duration{}
	elapsed := map[Variant]time.Duration{}
	for b := range Blocks {
		for _, v := range rotate([]Variant{Floor, Native}, rot+b) {
			l, d, err := clientsBlock(callers[v], per)
			if err != nil {
				return nil, fmt.Errorf("bench: %d %s clients: %w", n, v, err)
			}
			lat[v] = append(lat[v], l...)
			elapsed[v] += d
		}
	}
	out := map[Variant]ClientsSample{}
	for v, l := range lat {
		slices.Sort(l)
		out[v] = ClientsSample{Clients: n, Calls: len(l), Elapsed: elapsed[v], P50: quantile(l, 0.50), P99: quantile(l, 0.99)}
	}
	return out, nil
}

// clientsBlock makes calls calls with all of callers at once, each as
// fast as it can, and returns every call's latency and the time it took.
func clientsBlock(callers []func() error, calls int) ([]time.Duration, time.Duration, error) {
	lat := make([][]time.Duration, len(callers))
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for i, call := range callers {
		lat[i] = make([]time.Duration, 0, calls/len(callers)+1)
		wg.Go(func() {
			for next.Add(1) <= int64(calls) {
				t0 := time.Now()
				if err := call(); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return nil, 0, firstErr
	}
	all := slices.Concat(lat...)
	if len(all) != calls {
		return nil, 0, errors.New("calls went missing")
	}
	return all, elapsed, nil
}

// quantile of sorted durations, nearest rank.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
