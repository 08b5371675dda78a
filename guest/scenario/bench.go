package scenario

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/internal/flatmem"
	"github.com/rumpsprig/sprig/sp"
)

// The operations sprig bench times. The same code runs in the wasm guest
// (RoleBench) and in sprig's native Go client (package rig/bench), so the
// two differ only in where the client runs.

// BenchOp is one operation sprig bench times.
type BenchOp struct {
	// Name is how sprig bench and RoleBench's configuration name it.
	Name string
	// Syscalls is how many syscalls one iteration makes.
	Syscalls int
	// Bytes is how many bytes one iteration copies between client and
	// server memory.
	Bytes int
	// Summary says what one iteration does.
	Summary string
	// CopiesIn says its syscalls copy in bytes a preloading client
	// (sp.ClientConfig.Preload) sends along with them.
	CopiesIn bool
	run      func(ctx context.Context, w *Workload) error
	check    func(w *Workload) error // after the timed loop
}

// Sizes of the bench's copies.
const (
	PairSize = 64      // each copy of a pairs/N iteration
	BulkSize = 1 << 20 // pread/1M and pwrite/1M
)

var benchOps = []BenchOp{
	{Name: "getpid", Syscalls: 1, Summary: "getpid: the null syscall, no copies",
		run: func(ctx context.Context, w *Workload) error { return w.getpid(ctx) }},
	pairsOp(1), pairsOp(2), pairsOp(4), pairsOp(8),
	preadOp("pread/64", 64), pwriteOp("pwrite/64", 64),
	preadOp("pread/64K", 64<<10), pwriteOp("pwrite/64K", 64<<10),
	preadOp("pread/1M", BulkSize), pwriteOp("pwrite/1M", BulkSize),
}

// pairsOp is Kantee's figure of a syscall doing n copyin+copyout pairs of
// 64 bytes. NetBSD has no such syscall, so an iteration is a getpid
// followed by n pairs of pwrite(64 B) (the server fetches the bytes: one
// COPYIN round trip) and pread(64 B) (the server pushes them back: one
// COPYOUT) at offset 0 of the scratch file: 1+2n syscalls, n COPYINs and
// n COPYOUTs.
func pairsOp(n int) BenchOp {
	return BenchOp{
		Name: fmt.Sprintf("pairs/%d", n), Syscalls: 1 + 2*n, Bytes: 2 * n * PairSize, CopiesIn: true,
		Summary: fmt.Sprintf("getpid, then %d × (pwrite 64 B + pread 64 B): %d COPYIN and %d COPYOUT of 64 B", n, n, n),
		run: func(ctx context.Context, w *Workload) error {
			if err := w.getpid(ctx); err != nil {
				return err
			}
			for range n {
				if err := w.xfer(ctx, netbsd.SYS_pwrite, w.src, PairSize); err != nil {
					return err
				}
				if err := w.xfer(ctx, netbsd.SYS_pread, w.dst, PairSize); err != nil {
					return err
				}
			}
			return nil
		},
		check: func(w *Workload) error {
			return w.same("pairs: the bytes read back", w.dstB[:PairSize], w.srcB[:PairSize])
		},
	}
}

func preadOp(name string, size int) BenchOp {
	return BenchOp{
		Name: name, Syscalls: 1, Bytes: size,
		Summary: fmt.Sprintf("pread of %d B at offset 0: one COPYOUT", size),
		run:     func(ctx context.Context, w *Workload) error { return w.xfer(ctx, netbsd.SYS_pread, w.dst, size) },
		check:   func(w *Workload) error { return w.same(name+": the bytes read", w.dstB[:size], w.srcB[:size]) },
	}
}

func pwriteOp(name string, size int) BenchOp {
	return BenchOp{
		Name: name, Syscalls: 1, Bytes: size, CopiesIn: true,
		Summary: fmt.Sprintf("pwrite of %d B at offset 0: one COPYIN round trip", size),
		run:     func(ctx context.Context, w *Workload) error { return w.xfer(ctx, netbsd.SYS_pwrite, w.src, size) },
	}
}

// BenchOps returns the operations sprig bench can time, in report order.
func BenchOps() []BenchOp { return append([]BenchOp(nil), benchOps...) }

// LookupBenchOp returns the operation named name.
func LookupBenchOp(name string) (BenchOp, bool) {
	for _, op := range benchOps {
		if op.Name == name {
			return op, true
		}
	}
	return BenchOp{}, false
}

// BenchMemory is the client memory a Workload needs.
const BenchMemory = 2*BulkSize + 64<<10

// Workload is what the bench operations need on one connection: a client
// that has made its GUEST handshake, its memory, and a scratch file of
// BulkSize bytes in a directory of its own, which Close removes.
type Workload struct {
	c          *sp.Client
	pid        uint64
	dir, file  string
	dirA, path uint64 // the names, in client memory
	fd         uint64
	opened     bool
	src, dst   uint64 // BulkSize buffers: src holds the file's bytes
	srcB, dstB []byte
}

// NewWorkload prepares c (handshaken, its memory mem of at least
// BenchMemory bytes) for the bench operations.
func NewWorkload(ctx context.Context, c *sp.Client, mem *flatmem.Memory) (*Workload, error) {
	w := &Workload{c: c}
	w.src, w.srcB = mem.AllocBytes(BulkSize)
	w.dst, w.dstB = mem.AllocBytes(BulkSize)
	for i := range w.srcB {
		w.srcB[i] = byte(i*7 + i>>9)
	}
	r, err := w.call(ctx, netbsd.SYS_getpid)
	if err != nil {
		return nil, err
	}
	w.pid = r.Retval[0]
	for _, base := range workBases {
		dir := fmt.Sprintf("%s/sprig-bench-%d-%d", base, w.pid, time.Now().UnixNano()%1e6)
		a := mem.AllocString(dir)
		if _, err := w.call(ctx, netbsd.SYS_mkdir, a, 0o700); err == nil {
			w.dir, w.dirA = dir, a
			break
		} else if !errors.Is(err, netbsd.ENOENT) {
			return nil, err
		}
	}
	if w.dir == "" {
		return nil, errors.New("bench: no /tmp or / to make a scratch directory in")
	}
	w.file = w.dir + "/data"
	w.path = mem.AllocString(w.file)
	r, err = w.call(ctx, netbsd.SYS_open, w.path, netbsd.O_CREAT|netbsd.O_RDWR|netbsd.O_TRUNC, 0o600)
	if err != nil {
		w.Close(ctx)
		return nil, err
	}
	w.fd, w.opened = r.Retval[0], true
	if err := w.xfer(ctx, netbsd.SYS_pwrite, w.src, BulkSize); err != nil {
		w.Close(ctx)
		return nil, fmt.Errorf("bench: filling the scratch file: %w", err)
	}
	return w, nil
}

// Run runs op n times and returns how long the n took.
func (w *Workload) Run(ctx context.Context, op BenchOp, n int) (time.Duration, error) {
	clear(w.dstB)
	start := time.Now()
	for range n {
		if err := op.run(ctx, w); err != nil {
			return 0, fmt.Errorf("%s: %w", op.Name, err)
		}
	}
	d := time.Since(start)
	if op.check != nil && n > 0 {
		if err := op.check(w); err != nil {
			return 0, err
		}
	}
	return d, nil
}

// Close closes and removes the scratch file and its directory.
func (w *Workload) Close(ctx context.Context) error {
	var errs []error
	if w.opened {
		_, err := w.call(ctx, netbsd.SYS_close, w.fd)
		errs = append(errs, err)
		_, err = w.call(ctx, netbsd.SYS_unlink, w.path)
		errs = append(errs, err)
	}
	if w.dir != "" {
		_, err := w.call(ctx, netbsd.SYS_rmdir, w.dirA)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// call runs a syscall; a syscall's errno is an error too.
func (w *Workload) call(ctx context.Context, num netbsd.Sysno, args ...any) (sp.Result, error) {
	r, err := w.c.Syscall(ctx, num, args...)
	return answered(num, r, err)
}

// answered is syscall num's result as the workload takes it: a failed
// syscall's errno is its error.
func answered(num netbsd.Sysno, r sp.Result, err error) (sp.Result, error) {
	if err == nil && r.Errno != 0 {
		err = fmt.Errorf("%s: %w", num, r.Errno)
	}
	return r, err
}

func (w *Workload) getpid(ctx context.Context) error {
	r, err := w.call(ctx, netbsd.SYS_getpid)
	if err == nil && r.Retval[0] != w.pid {
		return fmt.Errorf("getpid answered %d, not %d", r.Retval[0], w.pid)
	}
	return err
}

// xfer runs pread or pwrite of size bytes at buf and offset 0. Its
// arguments go as values (SyscallValues): boxed into interfaces, the
// buffer's address would cost an allocation a call, the caller's cost
// and not the client's.
func (w *Workload) xfer(ctx context.Context, num netbsd.Sysno, buf uint64, size int) error {
	r, err := w.c.SyscallValues(ctx, num, w.fd, buf, uint64(size), 0)
	if r, err = answered(num, r, err); err == nil && r.Retval[0] != uint64(size) {
		return fmt.Errorf("%s of %d bytes returned %d", num, size, r.Retval[0])
	}
	return err
}

func (w *Workload) same(what string, got, want []byte) error {
	if !bytes.Equal(got, want) {
		return fmt.Errorf("%s differ from what was written", what)
	}
	return nil
}

// BenchClient connects a RoleBench (or native bench) client as cfg says:
// dial, banner, GUEST handshake, memory of BenchMemory bytes. trace, when
// set, sees every frame (sp.ClientConfig.Trace).
func BenchClient(ctx context.Context, cfg *guestapi.Config, env Env, trace func(sp.Direction, *sp.Frame)) (*sp.Client, *flatmem.Memory, error) {
	if cfg.ABI == nil {
		return nil, nil, errors.New("the configuration names no ABI")
	}
	conn, err := env.Dial(ctx, cfg.URL)
	if err != nil {
		return nil, nil, err
	}
	mem := env.NewMemory(BenchMemory)
	cc := sp.DefaultClientConfig(cfg.ABI)
	cc.ProgramName = "sprig-bench"
	cc.Memory = mem
	cc.Trace = trace
	cc.Preload = cfg.Bench != nil && cfg.Bench.Preload
	// As the server it times (sprig serve) does: a bench client has its
	// server's attention and a CPU to itself. (A guest's reads poll in
	// the host, if at all: wasmhost.Options.ReadSpin.)
	cc.ReadSpin = sp.DefaultReadSpin
	c, err := sp.NewClient(conn, cc)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	if c.WireABI().Pointer.Size == 8 {
		mem.SetBase(mem.Base() + cfg.AddressBias)
	}
	if err := c.HandshakeGuest(ctx); err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, mem, nil
}

// runBench is the RoleBench guest: it times cfg.Bench's operations and
// reports one result for each block of each.
func runBench(cfg *guestapi.Config, env Env) int {
	b := cfg.Bench
	if b == nil || len(b.Ops) == 0 {
		return ExitBroken
	}
	// Twice a scenario's time per operation: the host runs its own turns
	// while the guest waits in its reports, on the guest's deadline too.
	ctx, cancel := context.WithTimeout(context.Background(), Timeout(cfg)*time.Duration(2*len(b.Ops)+1))
	defer cancel()
	fail := func(op string, err error) int {
		env.Report(guestapi.Result{Scenario: "bench " + op, Status: guestapi.Fail, Layer: layerOf(err), Detail: err.Error()})
		return ExitFail
	}
	ops := make([]BenchOp, len(b.Ops))
	for i, o := range b.Ops {
		op, ok := LookupBenchOp(o.Name)
		if !ok {
			return fail(o.Name, errors.New("no such operation"))
		}
		if o.Iterations <= 0 || o.Warmup < 0 {
			return fail(o.Name, fmt.Errorf("%d iterations after %d untimed", o.Iterations, o.Warmup))
		}
		ops[i] = op
	}
	c, mem, err := BenchClient(ctx, cfg, env, nil)
	if err != nil {
		return fail("connect", err)
	}
	defer c.Close()
	w, err := NewWorkload(ctx, c, mem)
	if err != nil {
		return fail("setup", err)
	}
	defer w.Close(ctx)
	for i, op := range ops {
		if _, err := w.Run(ctx, op, b.Ops[i].Warmup); err != nil {
			return fail(op.Name, err)
		}
	}
	for block := range max(b.Blocks, 1) {
		for i, op := range ops {
			n := b.Ops[i].Iterations
			d, err := w.Run(ctx, op, n)
			if err != nil {
				return fail(op.Name, err)
			}
			r := guestapi.Result{Scenario: "bench " + op.Name, Status: guestapi.Pass,
				Bench: &guestapi.BenchSample{Op: op.Name, Block: block, Iterations: n, Nanos: d.Nanoseconds()}}
			if err := env.Report(r); err != nil {
				return ExitBroken
			}
		}
	}
	return ExitPass
}
