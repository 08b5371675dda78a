package sp

import (
	"context"
	"fmt"

	"github.com/rumpsprig/sprig/abi/netbsd"
)

// request sends a kernel→client request whose answer may carry at most
// max body bytes and waits for it, up to CopyTimeout when one is set.
// The returned frame's body is the caller's until its syscall ends (it
// may lie in the call's room, lendRoom); its bytes have already left the
// budgets.
//
// The answer's room in the connection's budget is reserved here, by the
// call that waits for it, not by the reader when the answer comes: the
// reader must never wait for room that only the connection's calls can
// free, as they may be waiting for it (a call holding the budget while
// it waits for its own answer hung its connection so). An answer that
// could never fit beside what the call holds is refused at once. The
// server's budget, which other connections share, is taken by the
// reader as the answer comes, so that a client that never answers holds
// none of it.
func (sc *serverConn) request(ctx context.Context, c *call, t Type, u uint32, body []byte, max uint64) (_ *Frame, err error) {
	if d := sc.srv.cfg.CopyTimeout; d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	var holds int64
	if c != nil {
		holds = c.bytes
	}
	if room := sc.srv.cfg.MaxClientBytes - holds; int64(max) > room {
		return nil, fmt.Errorf("an answer of %d bytes cannot fit the connection's budget beside the call's %d (MaxClientBytes %d)", max, holds, sc.srv.cfg.MaxClientBytes)
	}
	if err := sc.budget.conn.acquire(ctx, int64(max)); err != nil {
		return nil, err
	}
	defer sc.budget.conn.release(int64(max))
	room := sc.lendRoom(c, max)
	reqno, ch, err := sc.w.addLimit(max, room)
	if err != nil {
		return nil, err
	}
	if room != nil {
		defer func() {
			if err != nil {
				c.copyIn = nil // a reader may be filling it still
			}
		}()
	}
	defer func() {
		// A reply that came after we stopped waiting gives its bytes back.
		if late := sc.w.remove(reqno); late != nil {
			sc.budget.srv.release(int64(len(late.Body)))
		}
	}()
	self := sc.readsForItself(c)
	if c != nil && !self {
		sc.handOff(c) // only a reader can deliver the answer
	}
	if err := sc.sendAfter(c, Header{Reqno: reqno, Class: ClassReq, Type: t, U: u}, body, nil); err != nil {
		return nil, err
	}
	if self {
		sc.readForAnswer(c, ch)
	}
	select {
	case f, ok := <-ch:
		if !ok {
			return nil, errDisconnected
		}
		sc.budget.srv.release(int64(len(f.Body)))
		return f, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-sc.ctx.Done():
		return nil, errDisconnected
	}
}

// lendRoom returns the room call c lends the reader for the answer to
// its next request, of at most max bytes, or nil. A call lends its room
// once per syscall, so that what CopyIn returned stays the kernel's
// until its Syscall returns (Memory); and only a call whose allocation
// is recycled, for an answer too large for a frame's own room, where
// the connection lends rooms of its size at all (lendsRooms).
func (sc *serverConn) lendRoom(c *call, max uint64) []byte {
	if c == nil || c.own == nil || c.lent || max <= smallBody || !sc.lendsRooms(max) {
		return nil
	}
	return c.lendCopyIn(max)
}

// lendsRooms reports whether a call's room may take n bytes read from
// the client: never with a Trace (which may keep the frames it is
// shown), nor past maxLentRoom, which bounds what an idle connection
// keeps.
func (sc *serverConn) lendsRooms(n uint64) bool { return sc.fr.Trace == nil && n <= maxLentRoom }

// maxLentRoom bounds the COPYIN room a call keeps: a 64 KiB copy, or a
// PRELOAD as large as a sprig server offers by default (preloadBodyRoom).
const maxLentRoom = DefaultMaxPreload

// connMemory is the kernel's view of one client's memory, for call c.
type connMemory struct {
	sc *serverConn
	c  *call
}

// maxHeld bounds the COPYOUT bytes a call holds back to send with its
// next frame.
const maxHeld = 4 << 10

// refuse refuses a copy of n bytes whose answer could not reach us (the
// reader would drop the client), before anything is asked or looked up:
// a preloaded copy answers only what a COPYIN could have.
func (m *connMemory) refuse(t Type, n int) error {
	if limit := m.sc.srv.cfg.MaxFrame - HeaderSize; uint64(n) > limit {
		return fmt.Errorf("%w: %s of %d bytes exceeds the frame limit %d", ErrFault, t, n, limit)
	}
	return nil
}

func (m *connMemory) copyReq(ctx context.Context, t Type, addr uint64, n int) ([]byte, error) {
	if err := m.refuse(t, n); err != nil {
		return nil, err
	}
	var room [maxCopydata]byte
	body, err := m.sc.codec.appendCopydata(room[:0], uint64(n), addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFault, err)
	}
	f, err := m.sc.request(ctx, m.c, t, 0, body, uint64(n))
	if err != nil {
		return nil, fmt.Errorf("%w: %s %d bytes at %#x: %v", ErrFault, t, n, addr, err)
	}
	if f.Class != ClassResp || f.Type != TypeCopyIn {
		return nil, fmt.Errorf("%w: %s at %#x answered with %s", ErrFault, t, addr, f.Header)
	}
	if got := f.BodyLen(); got > uint64(n) {
		// The reader dropped the body unread; the header says its size.
		return nil, fmt.Errorf("%w: %s asked %d bytes, client sent %d", ErrFault, t, n, got)
	}
	return f.Body, nil
}

// preloaded is what the client preloaded for the call, if anything.
func (m *connMemory) preloaded() *preload {
	if m.c == nil {
		return nil
	}
	return m.c.pre
}

func (m *connMemory) CopyIn(ctx context.Context, addr uint64, n int) ([]byte, error) {
	if err := m.refuse(TypeCopyIn, n); err != nil {
		return nil, err
	}
	if b, ok := m.preloaded().bytesAt(addr, n); ok {
		return b, nil
	}
	b, err := m.copyReq(ctx, TypeCopyIn, addr, n)
	if err == nil && len(b) != n {
		return nil, fmt.Errorf("%w: COPYIN asked %d bytes at %#x, client sent %d", ErrFault, n, addr, len(b))
	}
	return b, err
}

func (m *connMemory) CopyInStr(ctx context.Context, addr uint64, max int) (string, error) {
	if err := m.refuse(TypeCopyInStr, max); err != nil {
		return "", err
	}
	if s, err, ok := m.preloaded().stringAt(addr, max); ok {
		return s, err
	}
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
	// that is ENAMETOOLONG too, as on NetBSD's rump_server.
	return string(b), nameTooLong(addr, len(b), max)
}

func (m *connMemory) CopyOut(ctx context.Context, addr uint64, data []byte) error {
	m.preloaded().forget(addr, len(data))
	var room [maxCopydata]byte
	head, err := m.sc.codec.appendCopydata(room[:0], uint64(len(data)), addr)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrFault, err)
	}
	h := Header{Reqno: m.sc.w.number(), Class: ClassReq, Type: TypeCopyOut}
	if c := m.c; c != nil && m.sc.srv.cfg.CoalesceCopyOut && len(c.held)+HeaderSize+len(head)+len(data) <= maxHeld {
		// The client only needs the bytes before the call's reply, which
		// carries them in the same write.
		c.held, err = m.sc.fr.appendFrame(c.held, h, head, data)
		if err != nil {
			return fmt.Errorf("%w: COPYOUT %d bytes at %#x: %v", ErrFault, len(data), addr, err)
		}
		return nil
	}
	if err := m.sc.sendAfter(m.c, h, head, data); err != nil {
		return fmt.Errorf("%w: COPYOUT %d bytes at %#x: %v", ErrFault, len(data), addr, err)
	}
	return nil
}

func (m *connMemory) AnonMmap(ctx context.Context, size uint64) (uint64, error) {
	body, err := m.sc.codec.Size(size)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", netbsd.ENOMEM, err)
	}
	f, err := m.sc.request(ctx, m.c, TypeAnonMmap, 0, body, uint64(m.sc.info.ABI.Pointer.Size))
	if err != nil {
		return 0, fmt.Errorf("%w: ANONMMAP: %v", ErrFault, err)
	}
	if f.Class != ClassResp || f.Type != TypeAnonMmap {
		return 0, fmt.Errorf("%w: ANONMMAP answered with %s", ErrFault, f.Header)
	}
	if f.BodyLen() != uint64(len(f.Body)) {
		return 0, fmt.Errorf("%w: ANONMMAP reply of %d bytes", ErrFault, f.BodyLen())
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
