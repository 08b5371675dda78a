package wasmhost

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"syscall"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/rumpsprig/sprig/guest/guestapi"
)

// Conn is a host-owned byte stream a guest reads and writes.
type Conn interface {
	io.ReadWriteCloser
	SetReadDeadline(time.Time) error
}

// Limits on what a guest may ask of the host.
const (
	maxConnsPerInstance = 16
	maxChildren         = 4
	maxReportBytes      = 64 << 10
	maxRecvWaitMillis   = 1000
)

type stateKey struct{}

func withState(ctx context.Context, st *instanceState) context.Context {
	return context.WithValue(ctx, stateKey{}, st)
}

func stateOf(ctx context.Context) *instanceState {
	st, _ := ctx.Value(stateKey{}).(*instanceState)
	return st
}

// instanceState is the host's side of one guest instance.
type instanceState struct {
	run    *Run
	config []byte

	mu       sync.Mutex
	conns    map[int32]*hostConn
	nextConn int32
	binds    map[int32]*hostConn // wake-file descriptor → the connection it waits for
	stopped  bool                // the instance's context ended: no more waiting
	// nextTimer is when the guest's next timer is due, as of its last
	// poll_oneoff with a clock; a recv that waits ends there.
	nextTimer time.Time
	children  map[int32]chan Exit
	nextKid   int32
	kids      sync.WaitGroup
	cancel    context.CancelFunc
}

func newInstanceState(r *Run, config []byte) *instanceState {
	return &instanceState{run: r, config: config, conns: map[int32]*hostConn{}, binds: map[int32]*hostConn{}, children: map[int32]chan Exit{}}
}

// readSpin is the engine's Options.ReadSpin (none for a bare Run).
func (st *instanceState) readSpin() time.Duration {
	if st.run.Engine == nil {
		return 0
	}
	return st.run.Engine.readSpin
}

func (st *instanceState) closeAll() {
	st.mu.Lock()
	for h, c := range st.conns {
		c.c.Close()
		delete(st.conns, h)
	}
	clear(st.binds)
	st.mu.Unlock()
}

// stop ends every wait in progress and refuses new ones: the instance's
// context ended, and a guest blocked in poll_oneoff must return for
// wazero to stop it.
func (st *instanceState) stop() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.stopped = true
	for _, c := range st.conns {
		c.stop()
	}
}

// alive reports whether the instance may still wait.
func (st *instanceState) alive() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return !st.stopped
}

func (st *instanceState) setNextTimer(t time.Time) {
	st.mu.Lock()
	st.nextTimer = t
	st.mu.Unlock()
}

// recvWait cuts a recv's wait d short at the guest's next known timer.
// A time already past says nothing (the timer may have fired since), so
// it does not shorten the wait: a guest that polls recv must not spin.
func (st *instanceState) recvWait(d time.Duration) time.Duration {
	st.mu.Lock()
	defer st.mu.Unlock()
	if left := time.Until(st.nextTimer); !st.nextTimer.IsZero() && left > 0 {
		d = min(d, left)
	}
	return d
}

// bound returns the connection wake-file descriptor fd waits for.
func (st *instanceState) bound(fd int32) *hostConn {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.binds[fd]
}

// wait returns once every spawned child has ended.
func (st *instanceState) wait() { st.kids.Wait() }

func marshalConfig(cfg *guestapi.Config) ([]byte, error) { return json.Marshal(cfg) }

func errno(e guestapi.Errno) uint64 { return api.EncodeI32(-int32(e)) }

// read returns the guest bytes [p, p+n), or false when out of bounds.
func read(m api.Module, p, n uint32) ([]byte, bool) {
	return m.Memory().Read(p, n)
}

func instantiateHostModule(ctx context.Context, rt wazero.Runtime, wrap func(api.GoModuleFunc) api.GoModuleFunc) error {
	i32 := api.ValueTypeI32
	b := rt.NewHostModuleBuilder(guestapi.ModuleName)
	fn := func(name string, f api.GoModuleFunc, params ...api.ValueType) {
		b.NewFunctionBuilder().WithGoModuleFunction(wrap(f), params, []api.ValueType{i32}).Export(name)
	}
	fn("config", hostConfig, i32, i32)
	fn("dial", hostDial, i32, i32)
	fn("send", hostSend, i32, i32, i32)
	fn("recv", hostRecv, i32, i32, i32, i32)
	fn("bind", hostBind, i32, i32)
	fn("close", hostClose, i32)
	fn("report", hostReport, i32, i32)
	fn("spawn", hostSpawn, i32, i32)
	fn("wait", hostWait, i32, i32)
	_, err := b.Instantiate(ctx)
	return err
}

// config(buf, cap) → length of the configuration JSON; copied when it fits.
func hostConfig(ctx context.Context, m api.Module, stack []uint64) {
	st := stateOf(ctx)
	p, capacity := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	if int(capacity) >= len(st.config) && !m.Memory().Write(p, st.config) {
		stack[0] = errno(guestapi.EFAULT)
		return
	}
	stack[0] = api.EncodeI32(int32(len(st.config)))
}

// dial(url, len) → handle or -errno.
func hostDial(ctx context.Context, m api.Module, stack []uint64) {
	st := stateOf(ctx)
	b, ok := read(m, api.DecodeU32(stack[0]), api.DecodeU32(stack[1]))
	if !ok || len(b) > 1024 {
		stack[0] = errno(guestapi.EFAULT)
		return
	}
	st.mu.Lock()
	full := len(st.conns) >= maxConnsPerInstance
	st.mu.Unlock()
	if full {
		stack[0] = errno(guestapi.EMFILE)
		return
	}
	c, err := st.run.Dial(ctx, string(b))
	if err != nil {
		stack[0] = errno(toErrno(err, guestapi.ECONNREFUSED))
		return
	}
	st.mu.Lock()
	h := st.nextConn
	st.nextConn++
	st.conns[h] = newHostConn(c, st.readSpin())
	st.mu.Unlock()
	stack[0] = api.EncodeI32(h)
}

func (st *instanceState) conn(h int32) *hostConn {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.conns[h]
}

// send(h, p, n) → n or -errno; writes everything.
func hostSend(ctx context.Context, m api.Module, stack []uint64) {
	hc := stateOf(ctx).conn(api.DecodeI32(stack[0]))
	if hc == nil {
		stack[0] = errno(guestapi.EBADF)
		return
	}
	b, ok := read(m, api.DecodeU32(stack[1]), api.DecodeU32(stack[2]))
	if !ok {
		stack[0] = errno(guestapi.EFAULT)
		return
	}
	if _, err := hc.write(b); err != nil {
		stack[0] = errno(toErrno(err, guestapi.EPIPE))
		return
	}
	stack[0] = api.EncodeI32(int32(len(b)))
}

// recv(h, p, cap, timeout_ms) → n > 0, 0 at EOF, -EAGAIN when no data
// came: at once for timeout 0 (the guest then waits in poll_oneoff on its
// bound wake file), else after up to timeout_ms, cut short at the guest's
// next timer as its last poll_oneoff told it.
func hostRecv(ctx context.Context, m api.Module, stack []uint64) {
	st := stateOf(ctx)
	hc := st.conn(api.DecodeI32(stack[0]))
	if hc == nil {
		stack[0] = errno(guestapi.EBADF)
		return
	}
	// Read straight into the guest's memory: the guest is blocked in
	// this call, so nothing else touches the view meanwhile.
	view, ok := read(m, api.DecodeU32(stack[1]), min(api.DecodeU32(stack[2]), 1<<20))
	if !ok {
		stack[0] = errno(guestapi.EFAULT)
		return
	}
	var got int
	var err error
	if wait := time.Duration(min(max(api.DecodeI32(stack[3]), 0), maxRecvWaitMillis)) * time.Millisecond; wait > 0 {
		got, err = hc.recvWait(view, st.recvWait(wait))
	} else {
		got, err = hc.recv(view)
	}
	switch {
	case got > 0:
		stack[0] = api.EncodeI32(int32(got))
	case errors.Is(err, io.EOF):
		stack[0] = 0
	case errors.Is(err, errWouldBlock), isTimeout(err):
		stack[0] = errno(guestapi.EAGAIN)
	default:
		stack[0] = errno(toErrno(err, guestapi.ECONNRESET))
	}
}

// bind(h, fd) → 0 or -errno: from now on poll_oneoff read subscriptions
// on fd (the guest's descriptor of WakeFile) wait until h is readable.
func hostBind(ctx context.Context, m api.Module, stack []uint64) {
	st := stateOf(ctx)
	h, fd := api.DecodeI32(stack[0]), api.DecodeI32(stack[1])
	st.mu.Lock()
	defer st.mu.Unlock()
	hc := st.conns[h]
	if hc == nil || fd < 0 {
		stack[0] = errno(guestapi.EBADF)
		return
	}
	st.binds[fd] = hc
	stack[0] = 0
}

// close(h) → 0 or -errno.
func hostClose(ctx context.Context, m api.Module, stack []uint64) {
	st := stateOf(ctx)
	h := api.DecodeI32(stack[0])
	st.mu.Lock()
	c := st.conns[h]
	delete(st.conns, h)
	for fd, b := range st.binds {
		if b == c {
			delete(st.binds, fd)
		}
	}
	st.mu.Unlock()
	if c == nil {
		stack[0] = errno(guestapi.EBADF)
		return
	}
	c.c.Close()
	stack[0] = 0
}

// report(p, n) → 0 or -errno: one guestapi.Result as JSON.
func hostReport(ctx context.Context, m api.Module, stack []uint64) {
	st := stateOf(ctx)
	n := api.DecodeU32(stack[1])
	b, ok := read(m, api.DecodeU32(stack[0]), n)
	if !ok || n > maxReportBytes {
		stack[0] = errno(guestapi.EFAULT)
		return
	}
	var r guestapi.Result
	if err := json.Unmarshal(b, &r); err != nil || r.Scenario == "" {
		stack[0] = errno(guestapi.EINVAL)
		return
	}
	if st.run.Report != nil {
		st.run.mu.Lock()
		st.run.Report(r)
		st.run.mu.Unlock()
	}
	stack[0] = 0
}

// spawn(cfg, n) → handle or -errno: runs another instance concurrently.
func hostSpawn(ctx context.Context, m api.Module, stack []uint64) {
	st := stateOf(ctx)
	b, ok := read(m, api.DecodeU32(stack[0]), api.DecodeU32(stack[1]))
	if !ok {
		stack[0] = errno(guestapi.EFAULT)
		return
	}
	var cfg guestapi.Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		stack[0] = errno(guestapi.EINVAL)
		return
	}
	st.mu.Lock()
	if len(st.children) >= maxChildren {
		st.mu.Unlock()
		stack[0] = errno(guestapi.EAGAIN)
		return
	}
	h := st.nextKid
	st.nextKid++
	done := make(chan Exit, 1)
	st.children[h] = done
	st.kids.Add(1)
	st.mu.Unlock()
	// The child outlives the host call, not the parent's context: it
	// runs under that, and stops when it ends, cancelled or past its
	// deadline. The parent's Instance waits for its children, so a child
	// that outlived a cancelled parent would hold the parent's caller
	// until it ended.
	go func() {
		defer st.kids.Done()
		done <- st.run.Instance(ctx, &cfg)
	}()
	stack[0] = api.EncodeI32(h)
}

// wait(h, timeout_ms) → exit code, -EAGAIN while running.
func hostWait(ctx context.Context, m api.Module, stack []uint64) {
	st := stateOf(ctx)
	h := api.DecodeI32(stack[0])
	st.mu.Lock()
	done := st.children[h]
	st.mu.Unlock()
	if done == nil {
		stack[0] = errno(guestapi.ECHILD)
		return
	}
	wait := time.Duration(min(max(api.DecodeI32(stack[1]), 0), 60_000)) * time.Millisecond
	select {
	case ex := <-done:
		st.mu.Lock()
		delete(st.children, h)
		st.mu.Unlock()
		if ex.Err != nil && ex.Code == 0 {
			ex.Code = -1
		}
		stack[0] = api.EncodeI32(int32(ex.Code))
	case <-time.After(wait):
		stack[0] = errno(guestapi.EAGAIN)
	case <-ctx.Done():
		stack[0] = errno(guestapi.EINTR)
	}
}

// toErrno maps a host error to the host-function numbering.
func toErrno(err error, fallback guestapi.Errno) guestapi.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		switch e {
		case syscall.ECONNREFUSED:
			return guestapi.ECONNREFUSED
		case syscall.ECONNRESET:
			return guestapi.ECONNRESET
		case syscall.EPIPE:
			return guestapi.EPIPE
		}
	}
	return fallback
}
