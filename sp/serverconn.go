package sp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
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

// serverConn is one client connection on a Server.
type serverConn struct {
	srv  *Server
	nc   net.Conn
	fr   *Framer
	info ConnInfo
	log  *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc

	// Set during the handshake by the reading goroutine, read-only after.
	codec  *Codec
	proc   Process
	tree   uint64 // connection tree: this GUEST's ID, or the forking parent's tree
	state  atomic.Uint32
	inExec atomic.Bool

	w *waiters // server→client requests, numbered from 0

	syscalls sync.WaitGroup
	execs    sync.WaitGroup // EXEC handshakes waiting for syscalls to leave
}

func newServerConn(s *Server, c net.Conn) *serverConn {
	ctx, cancel := context.WithCancel(context.Background())
	sc := &serverConn{
		srv:    s,
		nc:     c,
		ctx:    ctx,
		cancel: cancel,
		w:      newWaiters(0),
	}
	sc.info = ConnInfo{ID: s.nextID.Add(1), Remote: remoteOf(c), ABI: s.clientABIDefault()}
	sc.tree = sc.info.ID
	sc.log = s.log.With("conn", sc.info.ID)
	sc.fr = NewFramer(bufio.NewReaderSize(c, ReadBufferSize), c, sc.info.ABI)
	sc.fr.MaxFrame = s.cfg.MaxFrame
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
	sc.log.Info("client connected", "remote", sc.info.Remote)
	defer sc.teardown()
	if _, err := sc.nc.Write(sc.srv.banner); err != nil {
		sc.log.Info("banner write failed", "err", err)
		return
	}
	for {
		f, err := sc.readFrame()
		if err != nil {
			if !errors.Is(err, io.EOF) && sc.ctx.Err() == nil {
				sc.log.Warn("read failed; dropping client", "err", err)
			}
			return
		}
		if !sc.handle(f) {
			return
		}
	}
}

// readFrame reads the next frame. Before the handshake it also notices a
// client whose header is in the other byte order: such a client can only
// be understood if its GUEST handshake declares its ABI, which handle
// checks.
func (sc *serverConn) readFrame() (*Frame, error) {
	raw, err := sc.fr.ReadHeader()
	if err != nil {
		return nil, err
	}
	if connState(sc.state.Load()) == stateNew && !sc.srv.cfg.IgnoreDeclarations {
		o := sc.fr.ByteOrder()
		if h := parseHeader(o, raw[:]); h.Len < HeaderSize || h.Len > sc.fr.MaxFrame {
			other := swapped(o)
			if h2 := parseHeader(other, raw[:]); h2.Len >= HeaderSize && h2.Len <= sc.fr.MaxFrame {
				sc.fr.SetByteOrder(other)
			}
		}
	}
	return sc.fr.ReadBody(raw)
}

func swapped(o abi.ByteOrder) abi.ByteOrder {
	if o == abi.LittleEndian.ByteOrder() {
		return abi.BigEndian.ByteOrder()
	}
	return abi.LittleEndian.ByteOrder()
}

// handle processes one frame; false ends the connection.
func (sc *serverConn) handle(f *Frame) bool {
	if connState(sc.state.Load()) == stateNew {
		return sc.handleFirst(f)
	}
	switch f.Class {
	case ClassReq:
		switch f.Type {
		case TypeSyscall:
			sc.startSyscall(f)
			return true
		case TypePrefork:
			sc.prefork(f)
			return true
		case TypeHandshake:
			if HandshakeKind(f.U) == HandshakeExec && sc.srv.cfg.Version.HasExec() {
				sc.exec(f)
				return true
			}
			// A second GUEST or FORK on a running connection.
			sc.sendError(f.Reqno, ErrorMalformed)
			return false
		}
		sc.sendError(f.Reqno, ErrorMalformed)
		return true
	case ClassResp:
		sc.deliver(f)
		return true
	case ClassError:
		sc.log.Info("client sent an error frame", "code", f.U, "reqno", f.Reqno)
		return true
	}
	if sc.srv.cfg.Version.HasEnumErrors() {
		sc.sendError(f.Reqno, ErrorMalformed)
	} else {
		sc.sendRawError(f.Reqno, uint32(netbsd.ENOENT)) // 0.1 answers an unknown class with ENOENT
	}
	return true
}

// handleFirst handles the frame that must be a handshake.
func (sc *serverConn) handleFirst(f *Frame) bool {
	cfg := &sc.srv.cfg
	if f.Class != ClassReq || f.Type != TypeHandshake {
		sc.sendError(f.Reqno, ErrorAuth)
		return false
	}
	sniffed := sc.fr.ByteOrder() != sc.info.ABI.ByteOrder()
	switch kind := HandshakeKind(f.U); kind {
	case HandshakeGuest:
		name, decl := parseGuestBody(f.Body)
		if !cfg.Version.HasGuestName() {
			name = ""
		}
		declared := false
		if decl != nil && !cfg.IgnoreDeclarations {
			d, err := sc.srv.decls.resolve(decl)
			if err != nil {
				sc.log.Warn("bad ABI declaration", "err", err)
				sc.sendError(f.Reqno, ErrorMalformed)
				return false
			}
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
		sc.log.Info("guest handshake", "name", name, "abi", sc.info.ABI.Name, "declared", declared, "pid", p.Pid())
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
		p, d := pf.proc, pf.abi
		sc.tree = pf.tree
		if cancel { // any non-zero int, whatever its byte order
			p.Exit()
			sc.log.Info("fork cancelled", "pid", p.Pid())
			return false
		}
		if sc.fr.ByteOrder() != d.ByteOrder() {
			p.Exit()
			sc.log.Warn("forked client speaks another byte order than its parent", "parent abi", d.Name)
			return false
		}
		sc.setABI(d)
		np, err := p.Attach(sc.clientInfo("", false))
		if err != nil {
			p.Exit()
			sc.log.Warn("attaching a forked process failed", "err", err)
			sc.sendError(f.Reqno, ErrorRforkFailed)
			return false
		}
		p = np
		sc.proc = p
		sc.log.Info("fork handshake", "pid", p.Pid(), "abi", d.Name)
	default:
		// AUTH was never implemented by C; unknown kinds get an answer
		// rather than the 0.1 server's silence.
		sc.sendError(f.Reqno, ErrorAuth)
		return false
	}
	sc.state.Store(uint32(stateRunning))
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

func (sc *serverConn) send(h Header, body ...[]byte) error {
	err := sc.fr.WriteFrame(h, body...)
	if err != nil && sc.ctx.Err() == nil {
		sc.log.Info("write failed", "frame", h.String(), "err", err)
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
	ck, err := sc.srv.forks.add(sc, child, sc.info.ABI)
	if err != nil {
		child.Exit()
		sc.log.Warn("prefork refused", "err", err)
		sc.sendError(f.Reqno, ErrorNoMem)
		return
	}
	sc.send(Header{Reqno: f.Reqno, Class: ClassResp, Type: TypePrefork}, ck[:])
}

func (sc *serverConn) exec(f *Frame) {
	name, _ := parseGuestBody(f.Body)
	if !sc.inExec.CompareAndSwap(false, true) {
		sc.sendError(f.Reqno, ErrorInExec)
		return
	}
	// Wait for the process's other syscalls to leave, off the reading
	// goroutine: they may still need COPYIN replies from this client.
	sc.execs.Add(1) // on the reading goroutine, before teardown waits
	go func() {
		defer sc.execs.Done()
		sc.syscalls.Wait()
		err := sc.proc.Exec(sc.ctx, name)
		// Clear the flag before answering: a client may send its next
		// syscall the moment it has the reply.
		sc.inExec.Store(false)
		if err != nil {
			sc.log.Warn("exec failed", "err", err)
			sc.sendError(f.Reqno, ErrorMalformed)
			return
		}
		sc.send(Header{Reqno: f.Reqno, Class: ClassResp, Type: TypeHandshake}, sc.codec.Int(0))
	}()
}

func (sc *serverConn) startSyscall(f *Frame) {
	if sc.inExec.Load() {
		sc.sendError(f.Reqno, ErrorInExec)
		return
	}
	s := sc.srv
	s.inflightMu.RLock()
	if s.closing {
		s.inflightMu.RUnlock()
		sc.sendError(f.Reqno, ErrorTryAgain)
		return
	}
	s.inflight.Add(1)
	s.inflightMu.RUnlock()
	sc.syscalls.Add(1)
	ok := s.pool.submit(func() {
		defer s.inflight.Done()
		defer sc.syscalls.Done()
		sc.runSyscall(f)
	})
	if !ok {
		s.inflight.Done()
		sc.syscalls.Done()
		sc.sendError(f.Reqno, ErrorTryAgain)
	}
}

func (sc *serverConn) runSyscall(f *Frame) {
	req := &SyscallRequest{
		Num:  netbsd.Sysno(f.U),
		Body: f.Body,
		ABI:  sc.info.ABI,
		Mem:  &connMemory{sc: sc},
	}
	res := sc.proc.Syscall(sc.ctx, req)
	if sc.ctx.Err() != nil {
		return
	}
	sc.send(Header{Reqno: f.Reqno, Class: ClassResp, Type: TypeSyscall}, sc.codec.Sysresp(res))
}

// request sends a kernel→client request and waits for its response.
func (sc *serverConn) request(ctx context.Context, t Type, u uint32, body []byte) (*Frame, error) {
	reqno, ch, err := sc.w.add()
	if err != nil {
		return nil, err
	}
	defer sc.w.remove(reqno)
	if err := sc.send(Header{Reqno: reqno, Class: ClassReq, Type: t, U: u}, body); err != nil {
		return nil, err
	}
	select {
	case f, ok := <-ch:
		if !ok {
			return nil, errDisconnected
		}
		return f, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-sc.ctx.Done():
		return nil, errDisconnected
	}
}

// deliver hands a client's response to the kernel request waiting for it.
func (sc *serverConn) deliver(f *Frame) {
	if !sc.w.deliver(f) {
		sc.log.Info("response to no outstanding request", "frame", f.Header.String())
	}
}

func (sc *serverConn) raise(sig int32) error {
	if connState(sc.state.Load()) == stateDying {
		return errDisconnected
	}
	return sc.send(Header{Reqno: sc.w.number(), Class: ClassReq, Type: TypeRaise, U: uint32(sig)})
}

// teardown runs once the connection is gone: waiters wake with an error,
// in-flight syscalls are cancelled and awaited, the process exits, and the
// forks this client prepared but nobody claimed are dropped.
func (sc *serverConn) teardown() {
	sc.state.Store(uint32(stateDying))
	sc.cancel()
	sc.nc.Close()
	sc.w.fail(errDisconnected)
	sc.syscalls.Wait()
	sc.execs.Wait()
	if sc.proc != nil {
		sc.proc.Exit()
	}
	for _, p := range sc.srv.forks.dropOwner(sc) {
		p.Exit()
	}
	sc.log.Info("client disconnected")
}

// connMemory is the kernel's view of one client's memory.
type connMemory struct{ sc *serverConn }

func (m *connMemory) copyReq(ctx context.Context, t Type, addr uint64, n int) ([]byte, error) {
	body, err := m.sc.codec.Copydata(uint64(n), addr, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFault, err)
	}
	f, err := m.sc.request(ctx, t, 0, body)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %d bytes at %#x: %v", ErrFault, t, n, addr, err)
	}
	if f.Class != ClassResp || f.Type != TypeCopyIn {
		return nil, fmt.Errorf("%w: %s at %#x answered with %s", ErrFault, t, addr, f.Header)
	}
	if len(f.Body) > n {
		return nil, fmt.Errorf("%w: %s asked %d bytes, client sent %d", ErrFault, t, n, len(f.Body))
	}
	return f.Body, nil
}

func (m *connMemory) CopyIn(ctx context.Context, addr uint64, n int) ([]byte, error) {
	b, err := m.copyReq(ctx, TypeCopyIn, addr, n)
	if err == nil && len(b) != n {
		return nil, fmt.Errorf("%w: COPYIN asked %d bytes at %#x, client sent %d", ErrFault, n, addr, len(b))
	}
	return b, err
}

func (m *connMemory) CopyInStr(ctx context.Context, addr uint64, max int) (string, error) {
	b, err := m.copyReq(ctx, TypeCopyInStr, addr, max)
	if err != nil {
		return "", err
	}
	for i, c := range b {
		if c == 0 {
			return string(b[:i]), nil
		}
	}
	// A reply without a NUL, whatever its length, is ENAMETOOLONG, as
	// the rump kernel's copyinstr answers when it finds no NUL in what
	// came back. A client reports a bad address with an empty reply, so
	// that is ENAMETOOLONG too, as on the real server.
	return string(b), fmt.Errorf("%w: COPYINSTR at %#x: %d bytes of %d and no NUL", ErrNameTooLong, addr, len(b), max)
}

func (m *connMemory) CopyOut(ctx context.Context, addr uint64, data []byte) error {
	body, err := m.sc.codec.Copydata(uint64(len(data)), addr, data)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrFault, err)
	}
	if err := m.sc.send(Header{Reqno: m.sc.w.number(), Class: ClassReq, Type: TypeCopyOut}, body); err != nil {
		return fmt.Errorf("%w: COPYOUT %d bytes at %#x: %v", ErrFault, len(data), addr, err)
	}
	return nil
}

func (m *connMemory) AnonMmap(ctx context.Context, size uint64) (uint64, error) {
	body, err := m.sc.codec.Size(size)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", netbsd.ENOMEM, err)
	}
	f, err := m.sc.request(ctx, TypeAnonMmap, 0, body)
	if err != nil {
		return 0, fmt.Errorf("%w: ANONMMAP: %v", ErrFault, err)
	}
	if f.Class != ClassResp || f.Type != TypeAnonMmap {
		return 0, fmt.Errorf("%w: ANONMMAP answered with %s", ErrFault, f.Header)
	}
	addr, err := m.sc.codec.ParsePointer(f.Body)
	if err != nil {
		return 0, fmt.Errorf("%w: ANONMMAP reply: %v", ErrFault, err)
	}
	if addr == 0 {
		return 0, fmt.Errorf("%w: client could not map %d bytes", netbsd.ENOMEM, size)
	}
	return addr, nil
}
