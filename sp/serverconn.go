package sp

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/internal/rawsock"
)

// connState is where a connection is in its life.
type connState uint8

const (
	stateNew     connState = iota // banner sent, no handshake yet
	stateRunning                  // handshake done, serving requests
	stateDying                    // disconnected or closing
)

func (s connState) String() string {
	return [...]string{"NEW", "RUNNING", "DYING"}[s]
}

// errDisconnected wakes kernel requests waiting on a client that left.
var errDisconnected = errors.New("sp: client disconnected")

// serverConn is one client connection on a Server. Its reading goroutine
// (serve's, or the one an inline call handed reading to) reads every
// frame, answers handshakes and PREFORK itself, runs quick syscalls
// inline and queues the others on the server's scheduler; workers run
// them.
type serverConn struct {
	srv  *Server
	nc   net.Conn
	br   *bufio.Reader
	fr   *Framer
	info ConnInfo
	log  *logLimiter

	ctx    context.Context
	cancel context.CancelFunc
	budget budgets // frames this client sent that the server holds

	// Set during the handshake by the reading goroutine, read-only after.
	codec  *Codec
	proc   Process
	tree   uint64   // connection tree: this GUEST's ID, or the forking parent's tree
	decl   *declRef // the declared ABI this connection holds, if any
	state  atomic.Uint32
	inExec atomic.Bool

	w *waiters  // server→client requests, numbered from 0
	q connQueue // guarded by srv.sched.mu

	// gen is the context syscalls run with: EXEC cancels it to end the
	// process's other syscalls, then starts a new one.
	genMu     sync.Mutex
	gen       context.Context
	genCancel context.CancelFunc

	// readEnded is closed by whichever goroutine holds reading when the
	// connection's reading ends (reading moves when an inline call waits
	// for its client).
	readEnded chan struct{}

	syscalls  sync.WaitGroup // calls on workers
	execs     sync.WaitGroup // EXEC handshakes waiting for syscalls to leave
	aux       sync.WaitGroup // goroutines sending this client answers for others (TRYAGAIN of an evicted call)
	discarded atomic.Uint64  // body bytes read and dropped unkept

	// A finished SYSCALL frame, with its call and the COPYOUT buffer the
	// call grew, kept for the next SYSCALL to be read into: a syscall
	// then allocates nothing to be read, run and answered. Never kept
	// with a Trace hook, which may keep frames.
	spare atomic.Pointer[syscallFrame]
	// next is the frame the next SYSCALL is read into, taken early by
	// the PRELOAD before it, whose body went into the call's COPYIN
	// room (preloadBodyRoom); only the goroutine holding reading
	// touches it.
	next *syscallFrame

	// pre is a PRELOAD waiting for its SYSCALL, the next frame; only the
	// goroutine holding reading touches it.
	pre *preload
	// preHeld is the bytes of the PRELOADs held, pending or with their
	// calls: at most half of MaxClientBytes, so that queued calls'
	// preloads always leave room for the COPYIN answers running calls
	// wait for (which the reader must take before anything else).
	preHeld atomic.Int64
}

func newServerConn(s *Server, c net.Conn) *serverConn {
	ctx, cancel := context.WithCancel(context.Background())
	sc := &serverConn{
		srv:    s,
		nc:     c,
		ctx:    ctx,
		cancel: cancel,
		w:      newWaiters(0),
		budget: budgets{conn: newBudget(s.cfg.MaxClientBytes), srv: s.bytes},
	}
	sc.gen, sc.genCancel = context.WithCancel(ctx)
	sc.info = ConnInfo{ID: s.nextID.Add(1), Remote: remoteOf(c), ABI: s.clientABIDefault()}
	sc.tree = sc.info.ID
	sc.log = newLogLimiter(s.log.With("conn", sc.info.ID))
	sc.br = bufio.NewReaderSize(rawsock.Reader(c, s.cfg.ReadSpin), ReadBufferSize) // (see package rawsock)
	sc.fr = NewFramer(sc.br, c, sc.info.ABI)
	sc.fr.MaxFrame = s.cfg.MaxFrame
	sc.fr.WriteTimeout = s.cfg.WriteTimeout
	if s.cfg.Trace != nil {
		sc.fr.Trace = func(d Direction, f *Frame) { s.cfg.Trace(&sc.info, d, f) }
	}
	sc.setABI(sc.info.ABI)
	return sc
}

func (s *Server) clientABIDefault() *abi.Descriptor {
	if s.cfg.AssumeClientABI != nil {
		return s.cfg.AssumeClientABI
	}
	return s.cfg.ABI
}

func (sc *serverConn) setABI(d *abi.Descriptor) {
	sc.info.ABI = d
	sc.codec = NewCodec(d)
	sc.codec.PadFill = sc.srv.cfg.PadFill
	sc.fr.SetByteOrder(d.ByteOrder())
}

func (sc *serverConn) close() {
	sc.cancel()
	sc.nc.Close()
}

func (sc *serverConn) serve() {
	sc.log.log.Info("client connected", "remote", sc.info.Remote)
	defer sc.teardown()
	// The handshake deadline covers the banner and the whole first frame.
	sc.nc.SetDeadline(time.Now().Add(sc.srv.cfg.HandshakeTimeout))
	if _, err := sc.nc.Write(sc.srv.banner); err != nil {
		sc.log.Info("banner write failed", "err", err)
		return
	}
	sc.readEnded = make(chan struct{})
	if !sc.readLoop() {
		// Reading moved to another goroutine (an inline syscall waited
		// for its client); teardown waits until it ends there.
		<-sc.readEnded
	}
}

// readLoop reads and handles frames until the connection ends, and then
// closes readEnded and returns true; or until an inline syscall it ran
// handed reading to a new goroutine, and then returns false.
func (sc *serverConn) readLoop() bool { return sc.readLoopAfter(pendingRead{}) }

// pendingRead is what an inline call read before it handed reading on:
// the next frame to handle, or the error reading it ended with.
type pendingRead struct {
	in  inFrame
	err error
	ok  bool
}

// readLoopAfter is readLoop that starts with p, when p holds anything.
func (sc *serverConn) readLoopAfter(p pendingRead) bool {
	if sc.read(p) {
		// Wake what waits on the client at once: the goroutine that will
		// tear down may be an inline call's, waiting for a COPYIN answer
		// that cannot come now. (The connection closes first, so nothing
		// woken can write; teardown repeats these harmlessly.)
		sc.nc.Close()
		sc.cancel()
		sc.w.fail(errDisconnected)
		close(sc.readEnded)
		return true
	}
	return false
}

// read is readLoop's loop: true when the connection's reading ended.
func (sc *serverConn) read(p pendingRead) bool {
	for {
		in, err := p.in, p.err
		if !p.ok {
			in, err = sc.readFrame()
		}
		p.ok = false
		if err != nil {
			var ne net.Error
			switch {
			case errors.As(err, &ne) && ne.Timeout() && connState(sc.state.Load()) == stateNew:
				sc.log.Warn("no complete handshake in time; dropping client", "timeout", sc.srv.cfg.HandshakeTimeout)
			case errors.As(err, &ne) && ne.Timeout():
				sc.log.Warn("client idle too long; dropping it", "timeout", sc.srv.cfg.IdleTimeout)
			case !errors.Is(err, io.EOF) && sc.ctx.Err() == nil:
				sc.log.Warn("read failed; dropping client", "err", err)
			}
			return true
		}
		switch sc.handle(in) {
		case readEnd:
			return true
		case readMoved:
			return false // another goroutine reads now
		}
	}
}

// after says what the reading goroutine does once it has handled a frame.
type after uint8

const (
	readOn    after = iota // read the next frame
	readEnd                // the connection ends
	readMoved              // an inline call handed reading to another goroutine
)

// handle processes one frame and says how reading goes on.
func (sc *serverConn) handle(in inFrame) after {
	f := in.Frame
	if connState(sc.state.Load()) == stateNew {
		if !sc.handleFirst(in) {
			return readEnd
		}
		return readOn
	}
	switch f.Class {
	case ClassReq:
		switch f.Type {
		case TypeSyscall:
			if c := sc.startSyscall(f, in.call, sc.claimPreload(f.Reqno)); c != nil && !sc.runInline(c) {
				return readMoved
			}
			return readOn
		case TypePrefork:
			if sc.inExec.Load() {
				// As the C server: no forking while the process execs.
				sc.log.Warn("PREFORK during EXEC; dropping client")
				sc.sendError(f.Reqno, ErrorInExec)
				return readEnd
			}
			sc.prefork(f)
			return readOn
		case TypePreload:
			if sc.offeredPreload() > 0 {
				sc.keepPreload(f, in.pre)
				return readOn
			}
		case TypeHandshake:
			if HandshakeKind(f.U) == HandshakeExec && sc.srv.cfg.Version.HasExec() {
				if !sc.exec(f, in.guest) {
					return readEnd
				}
				return readOn
			}
			// A second GUEST or FORK on a running connection.
			sc.sendError(f.Reqno, ErrorMalformed)
			return readEnd
		}
		sc.log.Warn("request of a type a client may not send", "frame", f.Header.String())
		sc.sendError(f.Reqno, ErrorMalformed)
		return readOn
	case ClassResp:
		sc.deliver(f)
		return readOn
	case ClassError:
		sc.log.Info("client sent an error frame", "code", f.U, "reqno", f.Reqno)
		return readOn
	}
	sc.log.Warn("frame of unknown class", "frame", f.Header.String())
	if sc.srv.cfg.Version.HasEnumErrors() {
		sc.sendError(f.Reqno, ErrorMalformed)
	} else {
		sc.sendRawError(f.Reqno, uint32(netbsd.ENOENT)) // 0.1 answers an unknown class with ENOENT
	}
	return readOn
}

// handleFirst handles the frame that must be a handshake.
func (sc *serverConn) handleFirst(in inFrame) bool {
	f := in.Frame
	cfg := &sc.srv.cfg
	if f.Class != ClassReq || f.Type != TypeHandshake {
		sc.sendError(f.Reqno, ErrorAuth)
		return false
	}
	sniffed := sc.fr.ByteOrder() != sc.info.ABI.ByteOrder()
	switch kind := HandshakeKind(f.U); kind {
	case HandshakeGuest:
		g := in.guest
		name := g.name
		if !cfg.Version.HasGuestName() {
			name = ""
		} else if g.nameCut > 0 {
			sc.log.Warn("program name cut to MAXCOMLEN", "name", strconv.Quote(name), "discarded", g.nameCut)
		}
		declared := false
		if g.decl != nil && !cfg.IgnoreDeclarations {
			if g.declCut > 0 {
				sc.log.Warn("ABI declaration too long", "max", MaxDeclaration, "discarded", g.declCut)
				sc.sendError(f.Reqno, ErrorMalformed)
				return false
			}
			d, ref, err := sc.srv.decls.resolve(g.decl)
			if err != nil {
				sc.log.Warn("bad ABI declaration", "err", err)
				sc.sendError(f.Reqno, ErrorMalformed)
				return false
			}
			sc.decl = ref // released at teardown
			if d.ByteOrder() != sc.fr.ByteOrder() {
				sc.log.Warn("declared ABI's byte order differs from the frame's", "abi", d.Name)
				sc.sendError(f.Reqno, ErrorMalformed)
				return false
			}
			sc.setABI(d)
			declared = true
		} else if sniffed {
			// A C server reading this header would have seen an absurd
			// length and dropped the client; so do we.
			sc.log.Warn("client speaks the other byte order and declares no ABI; dropping it like a C server would")
			return false
		}
		p, err := sc.srv.kernel.NewProcess(sc.ctx, sc.clientInfo(name, declared))
		if err != nil {
			sc.log.Warn("kernel refused a new process", "err", err)
			sc.sendError(f.Reqno, ErrorNoMem)
			return false
		}
		sc.proc = p
		sc.log.Info("guest handshake", "name", strconv.Quote(name), "abi", sc.info.ABI.Name, "declared", declared, "pid", p.Pid())
	case HandshakeFork:
		ck, cancel, err := sc.codec.ParseHandshakeFork(f.Body)
		if err != nil {
			sc.log.Warn("malformed FORK handshake", "err", err)
			sc.sendError(f.Reqno, ErrorMalformed)
			return false
		}
		pf := sc.srv.forks.take(ck)
		if pf == nil {
			sc.sendError(f.Reqno, ErrorInvalidPrefork)
			return false
		}
		if cancel { // any non-zero int, whatever its byte order
			pf.drop()
			sc.log.Info("fork cancelled", "pid", pf.proc.Pid())
			return false
		}
		if sc.fr.ByteOrder() != pf.abi.ByteOrder() {
			pf.drop()
			sc.log.Warn("forked client speaks another byte order than its parent", "parent abi", pf.abi.Name)
			return false
		}
		// The child joins its parent's connection tree, even when the
		// parent has left already.
		sc.tree, sc.decl = pf.tree, pf.decl
		sc.setABI(pf.abi)
		p, err := pf.proc.Attach(sc.clientInfo("", false))
		if err != nil {
			pf.proc.Exit()
			sc.log.Warn("attaching a forked process failed", "err", err)
			sc.sendError(f.Reqno, ErrorRforkFailed)
			return false
		}
		sc.proc = p
		sc.log.Info("fork handshake", "pid", p.Pid(), "abi", pf.abi.Name)
	default:
		// AUTH was never implemented by C; unknown kinds get an answer
		// rather than the 0.1 server's silence.
		sc.sendError(f.Reqno, ErrorAuth)
		return false
	}
	sc.state.Store(uint32(stateRunning))
	sc.nc.SetDeadline(time.Time{}) // from here on: the idle timeout, if any, and per-write deadlines
	return sc.send(Header{Reqno: f.Reqno, Class: ClassResp, Type: TypeHandshake}, sc.codec.Int(0)) == nil
}

func (sc *serverConn) clientInfo(name string, declared bool) ClientInfo {
	return ClientInfo{
		Name:     name,
		ABI:      sc.info.ABI,
		Declared: declared,
		Version:  sc.srv.cfg.Version,
		Signal:   sc.raise,
		Conn:     sc.tree,
	}
}

// send writes one frame. A frame that cannot be written whole (the
// client stopped reading past WriteTimeout, or left) ends the connection:
// what follows on the stream would be garbage, and the client's syscalls
// are cancelled.
func (sc *serverConn) send(h Header, body ...[]byte) error {
	err := sc.fr.WriteFrame(h, body...)
	if err != nil {
		if sc.ctx.Err() == nil {
			sc.log.Warn("write failed; dropping client", "frame", h.String(), "err", err)
		}
		sc.close()
	}
	return err
}

// sendAfter writes the frames c holds back (its coalesced COPYOUTs), if
// any, and then one frame of head and data, in one write. A failed
// write ends the connection, as in send.
func (sc *serverConn) sendAfter(c *call, h Header, head, data []byte) error {
	var held []byte
	if c != nil {
		held = c.held
		c.held = held[:0] // written out below: its room serves the next COPYOUT
	}
	err := sc.fr.writeFrameData(held, h, head, data)
	if err != nil {
		if sc.ctx.Err() == nil {
			sc.log.Warn("write failed; dropping client", "frame", h.String(), "err", err)
		}
		sc.close()
	}
	return err
}

func (sc *serverConn) sendError(reqno uint64, code ErrorCode) {
	sc.sendRawError(reqno, sc.srv.cfg.Version.wireError(code))
}

func (sc *serverConn) sendRawError(reqno uint64, u uint32) {
	// ERROR frames carry type 0 (HANDSHAKE), as the C server's do.
	sc.send(Header{Reqno: reqno, Class: ClassError, Type: TypeHandshake, U: u})
}

func (sc *serverConn) prefork(f *Frame) {
	child, err := sc.proc.Fork(sc.ctx)
	if err != nil {
		sc.log.Warn("prefork failed", "err", err)
		sc.sendError(f.Reqno, ErrorRforkFailed)
		return
	}
	ref := sc.decl.share()
	ck, err := sc.srv.forks.add(sc.info.ID, sc.tree, child, sc.info.ABI, ref)
	if err != nil {
		child.Exit()
		ref.release()
		sc.log.Warn("prefork refused", "err", err)
		sc.sendError(f.Reqno, ErrorNoMem)
		return
	}
	sc.send(Header{Reqno: f.Reqno, Class: ClassResp, Type: TypePrefork}, ck[:])
}

// exec handles an EXEC handshake. As the C server does, it ends the
// process's other syscalls first: queued ones are answered INEXEC,
// running ones see their context cancelled (a read blocked on an empty
// pipe returns EINTR), and once they have left the process execs. A
// second EXEC meanwhile is answered INEXEC and the client dropped.
func (sc *serverConn) exec(f *Frame, g guestBodyParts) bool {
	if !sc.inExec.CompareAndSwap(false, true) {
		sc.log.Warn("EXEC during EXEC; dropping client")
		sc.sendError(f.Reqno, ErrorInExec)
		return false
	}
	if g.nameCut > 0 {
		sc.log.Warn("program name cut to MAXCOMLEN", "name", strconv.Quote(g.name), "discarded", g.nameCut)
	}
	queued := sc.srv.sched.dropQueue(sc, false)
	sc.genMu.Lock()
	sc.genCancel()
	sc.genMu.Unlock()
	sc.execs.Add(1) // on the reading goroutine, before teardown waits
	go func() {
		defer sc.execs.Done()
		for _, c := range queued {
			sc.releaseCall(c)
			sc.sendError(c.f.Reqno, ErrorInExec)
		}
		// The cancelled syscalls may still need this client (their
		// replies); the reading goroutine goes on meanwhile.
		sc.syscalls.Wait()
		err := sc.proc.Exec(sc.ctx, g.name)
		sc.genMu.Lock()
		sc.gen, sc.genCancel = context.WithCancel(sc.ctx)
		sc.genMu.Unlock()
		// Clear the flag before answering: a client may send its next
		// syscall the moment it has the reply.
		sc.inExec.Store(false)
		if sc.ctx.Err() != nil {
			return // the client left (or was dropped) meanwhile: nothing to answer
		}
		if err != nil {
			sc.log.Warn("exec failed", "err", err)
			sc.sendError(f.Reqno, ErrorMalformed)
			return
		}
		sc.send(Header{Reqno: f.Reqno, Class: ClassResp, Type: TypeHandshake}, sc.codec.Int(0))
	}()
	return true
}

// startSyscall takes a SYSCALL frame and the call readSyscall allocated
// with it (nil: a new one): it queues the call for a worker, answers it
// TRYAGAIN, or returns it to be run inline by the reading goroutine (a
// quick call, see QuickKernel).
func (sc *serverConn) startSyscall(f *Frame, c *call, pre *preload) *call {
	drop := func() {
		if pre != nil {
			sc.releasePreload(pre.bytes)
		}
	}
	if sc.inExec.Load() {
		drop()
		sc.sendError(f.Reqno, ErrorInExec)
		return nil
	}
	if c == nil {
		c = new(call)
	}
	c.f, c.bytes = f, int64(HeaderSize+len(f.Body)+callOverhead)
	ok := sc.budget.tryAcquire(c.bytes)
	if !ok && pre != nil {
		// The preload took the room the call needs: give it up, so that
		// a preload never costs a call more than its round trips.
		drop()
		pre = nil
		ok = sc.budget.tryAcquire(c.bytes)
	}
	if !ok {
		sc.log.Warn("frame budget exhausted; answering TRYAGAIN")
		sc.sendError(f.Reqno, ErrorTryAgain)
		return nil
	}
	if pre != nil {
		// From here the call holds the preload's bytes with its own.
		c.pre, c.bytes = pre, c.bytes+pre.bytes
	}
	if q := sc.srv.quick; q != nil && q.Quick(netbsd.Sysno(f.U)) && sc.srv.sched.tryInline(sc) {
		c.inline = true
		return c
	}
	res := sc.srv.sched.submit(sc, c)
	if ev := res.evicted; ev != nil {
		v := res.victim
		go func() {
			defer v.aux.Done()
			v.releaseCall(ev)
			v.log.Warn("syscall queue full; answering this client's newest queued syscall TRYAGAIN")
			v.sendError(ev.f.Reqno, ErrorTryAgain)
		}()
	}
	if !res.ok {
		sc.releaseCall(c)
		sc.log.Warn("syscall queue full; answering TRYAGAIN", "max", sc.srv.cfg.MaxQueuedSyscalls)
		sc.sendError(f.Reqno, ErrorTryAgain)
	}
	return nil
}

// runInline runs call c, which tryInline admitted, on the reading
// goroutine. False means the call had to wait for its client and
// handed reading to a new goroutine: the caller must stop reading.
func (sc *serverConn) runInline(c *call) bool {
	sc.runCall(c)
	sc.srv.sched.finishInline(sc)
	moved := c.handedOff
	sc.recycle(c)
	return !moved
}

// recycle keeps the frame of call c, which has run and been answered,
// for the next SYSCALL (serverConn.spare). Nothing refers to it any
// more: the kernel must not keep a request past its Syscall (Process),
// and every frame c wrote has been copied out.
func (sc *serverConn) recycle(c *call) {
	if c.own != nil && sc.fr.Trace == nil {
		sc.spare.Store(c.own)
	}
}

// handOff gives reading to a new goroutine, once per inline call, before
// the call waits for an answer only a reader can deliver.
func (sc *serverConn) handOff(c *call) { sc.handOffAfter(c, pendingRead{}) }

// handOffAfter is handOff whose new reader starts with p.
func (sc *serverConn) handOffAfter(c *call, p pendingRead) {
	if !c.inline || c.handedOff {
		return
	}
	c.handedOff = true
	sc.srv.handOffs.Add(1)
	go sc.readLoopAfter(p)
}

// readsForItself reports whether inline call c reads the answers to its
// own requests: it is the connection's reader still, and no CopyTimeout
// must cut its wait short (a read cannot notice one).
func (sc *serverConn) readsForItself(c *call) bool {
	return c != nil && c.inline && !c.handedOff && sc.srv.cfg.CopyTimeout <= 0
}

// readForAnswer reads frames on inline call c's goroutine, the
// connection's reader, until the answer to the request behind ch has
// come, and delivers the responses it meets. Anything else the client
// sends (another syscall, an EXEC) or a failed read hands reading, with
// that frame or error, to a new goroutine, and the call then waits as
// any call does. This saves the hand-off and the wakeup of a fresh
// reader for each COPYIN of a quick call, as NetBSD's server has none.
func (sc *serverConn) readForAnswer(c *call, ch <-chan *Frame) {
	for len(ch) == 0 {
		in, err := sc.readFrame()
		if err != nil {
			sc.handOffAfter(c, pendingRead{err: err, ok: true})
			return
		}
		if in.Class != ClassResp || connState(sc.state.Load()) == stateNew {
			sc.handOffAfter(c, pendingRead{in: in, ok: true})
			return
		}
		sc.deliver(in.Frame)
	}
}

// runCall runs one queued syscall on a worker and answers it.
func (sc *serverConn) runCall(c *call) {
	sc.genMu.Lock()
	ctx := sc.gen
	sc.genMu.Unlock()
	f := c.f
	c.mem = connMemory{sc: sc, c: c}
	c.req = SyscallRequest{
		Num:  netbsd.Sysno(f.U),
		Body: f.Body,
		ABI:  sc.info.ABI,
		Mem:  &c.mem,

		layouts: sc.codec.l, layoutsOf: sc.info.ABI,
	}
	res := sc.proc.Syscall(ctx, &c.req)
	sc.releaseCall(c) // before the reply: a client that has it sees the bytes back
	if sc.ctx.Err() != nil {
		return
	}
	sc.sendAfter(c, Header{Reqno: f.Reqno, Class: ClassResp, Type: TypeSyscall}, sc.codec.AppendSysresp(c.resp[:0], res), nil)
}

// deliver hands a client's response to the kernel request waiting for it.
func (sc *serverConn) deliver(f *Frame) {
	if !sc.w.deliver(f) {
		sc.budget.srv.release(int64(len(f.Body)))
		sc.log.Info("response to no outstanding request", "frame", f.Header.String())
	}
}

func (sc *serverConn) raise(sig int32) error {
	if connState(sc.state.Load()) == stateDying {
		return errDisconnected
	}
	return sc.send(Header{Reqno: sc.w.number(), Class: ClassReq, Type: TypeRaise, U: uint32(sig)})
}

// active reports whether the client has work in the server: syscalls
// queued or running, or an EXEC in progress.
func (sc *serverConn) active() bool {
	q, r := sc.srv.sched.load(sc)
	return q > 0 || r > 0 || sc.inExec.Load()
}

// teardown runs once the connection is gone: waiters wake with an error,
// queued syscalls are dropped, running ones cancelled and awaited, and
// the process exits. The forks this client prepared but nobody claimed
// stay until claimed or expired (rumpclient_daemon's child connects
// after its parent left).
func (sc *serverConn) teardown() {
	sc.state.Store(uint32(stateDying))
	sc.nc.Close() // first: nothing woken by the cancel below may still write
	sc.cancel()
	sc.w.fail(errDisconnected)
	for _, c := range sc.srv.sched.dropQueue(sc, true) {
		sc.releaseCall(c)
	}
	sc.syscalls.Wait()
	sc.execs.Wait()
	sc.aux.Wait()
	if sc.proc != nil {
		sc.proc.Exit()
	}
	sc.decl.release()
	// Replies delivered to requests that gave up unread are all that can
	// be left in the connection's budget; the server gets them back.
	if n := sc.budget.conn.inUse(); n > 0 {
		sc.budget.release(n)
	}
	sc.log.flush()
	if n := sc.discarded.Load(); n > 0 {
		sc.log.log.Info("client disconnected", "discarded bytes", n)
	} else {
		sc.log.log.Info("client disconnected")
	}
}
