package sp

import (
	"errors"
	"net"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

// How much of a frame's body the server keeps, by kind; the rest is
// read and discarded as it arrives, so what a client announces never
// decides what the server allocates:
//
//   - SYSCALL: the syscall's argument struct in the client's ABI (the C
//     server reads nothing past it either); an undescribed syscall keeps
//     maxUndescribedArgs.
//   - GUEST and EXEC: MaxComLen bytes of name and MaxDeclaration of what
//     follows the name's NUL (guestBodyReader).
//   - FORK: maxForkBody, enough to tell a 20-byte handshake_fork from a
//     longer body, which is refused.
//   - COPYIN and ANONMMAP replies: at most what the request asked for,
//     after the bytes are taken from the budgets; a longer reply is
//     dropped unread and its request fails with EFAULT, and a reply to
//     nothing is dropped unread.
//   - PRELOAD: all of it, if it is no longer than the server offers and
//     the budgets hold it (else nothing, and its call copies in as
//     usual); it is held with its call.
//   - everything else (PREFORK, AUTH, ERROR, unknown types): nothing.
const (
	// maxUndescribedArgs: NetBSD syscalls take at most 8 arguments of at
	// most 8 bytes each.
	maxUndescribedArgs = 8 * 8
	maxForkBody        = 64
)

// inFrame is a frame as the server read it: the kept body, and for GUEST
// and EXEC the parts of the body it kept.
type inFrame struct {
	*Frame
	guest guestBodyParts
	call  *call    // for a SYSCALL: the call to run it, allocated with the frame
	pre   *preload // for a PRELOAD kept whole: what it becomes, allocated with the frame
}

// readFrame reads the next frame. Before the handshake it also notices a
// client whose header is in the other byte order: such a client can only
// be understood if its GUEST handshake declares its ABI, which handle
// checks.
func (sc *serverConn) readFrame() (inFrame, error) {
	if err := sc.awaitFrame(); err != nil {
		return inFrame{}, err
	}
	raw, err := sc.fr.ReadHeader()
	if err != nil {
		return inFrame{}, err
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
	h, err := sc.fr.ParseHeader(raw)
	if err != nil {
		return inFrame{}, err
	}
	in, err := sc.readBody(h)
	if err != nil {
		return inFrame{}, err
	}
	sc.fr.traceReceived(in.Frame)
	return in, nil
}

// awaitFrame waits for the first byte of the next frame under the idle
// timeout, if there is one. The wait is a Peek, so a timeout loses
// nothing: a client that still has syscalls in the server (a read
// blocked on an empty pipe, say) is not idle and the wait goes on. Once
// a frame has begun, the rest of it must come within the timeout too.
func (sc *serverConn) awaitFrame() error {
	idle := sc.srv.cfg.IdleTimeout
	if idle <= 0 || connState(sc.state.Load()) == stateNew {
		return nil
	}
	for {
		sc.nc.SetReadDeadline(time.Now().Add(idle))
		_, err := sc.br.Peek(1)
		var ne net.Error
		if err == nil {
			sc.nc.SetReadDeadline(time.Now().Add(idle))
			return nil
		}
		if !errors.As(err, &ne) || !ne.Timeout() || !sc.active() {
			return err
		}
	}
}

func swapped(o abi.ByteOrder) abi.ByteOrder {
	if o == abi.LittleEndian.ByteOrder() {
		return abi.BigEndian.ByteOrder()
	}
	return abi.LittleEndian.ByteOrder()
}

// readBody reads h's body, keeping what the frame's kind allows.
func (sc *serverConn) readBody(h Header) (inFrame, error) {
	if h.Class == ClassReq && h.Type == TypeSyscall {
		return sc.readSyscall(h)
	}
	n := h.BodyLen()
	var keep uint64
	var room []byte // lent by the request this answers (waiters.addLimit)
	switch {
	case h.Class == ClassReq && h.Type == TypeHandshake &&
		(HandshakeKind(h.U) == HandshakeGuest || HandshakeKind(h.U) == HandshakeExec):
		f := &Frame{Header: h}
		in := inFrame{Frame: f}
		var g guestBodyReader
		if err := sc.fr.copyBody(h, &g); err != nil {
			return in, err
		}
		in.guest = g.done()
		f.Body = append(append([]byte(in.guest.name), 0), g.rest...)
		sc.discarded.Add(in.guest.nameCut + g.restCut)
		return in, nil
	case h.Class == ClassReq && h.Type == TypeHandshake && HandshakeKind(h.U) == HandshakeFork:
		keep = min(n, maxForkBody)
	case h.Class == ClassReq && h.Type == TypePreload:
		switch max := sc.offeredPreload(); {
		case max == 0:
			// handle refuses it.
		case sc.info.ABI.Name != sc.srv.cfg.ABI.Name:
			// The client laid it out with the ABI the banner names (as a
			// preloading client does), the server reads it with another
			// (AssumeClientABI): its entries would be misread.
			sc.log.Warn("PRELOAD from a client read with another ABI than the banner's; dropped unread", "frame", h.String(), "abi", sc.info.ABI.Name)
		case n > max:
			sc.log.Warn("PRELOAD longer than this server offers; dropped unread", "frame", h.String(), "offered", max)
		case !sc.holdPreload(int64(n)):
			sc.log.Info("no budget for a PRELOAD; dropped unread", "frame", h.String())
		default:
			keep = n
		}
	case h.Class == ClassResp && (h.Type == TypeCopyIn || h.Type == TypeAnonMmap):
		max, r, ok := sc.w.limit(h.Reqno)
		switch {
		case !ok:
			// Dropped unread; deliver logs it.
		case n > max:
			sc.log.Warn("reply longer than its request; dropped unread", "frame", h.String(), "asked", max)
		default:
			// Never allocate before the budgets allow it. The call that
			// waits for the reply reserved its room in the connection's
			// (request); the server's is taken now, and the wait ends as
			// soon as the kernel takes earlier replies.
			if err := sc.budget.srv.acquire(sc.ctx, int64(n)); err != nil {
				return inFrame{}, err
			}
			keep, room = n, r
		}
	}
	if keep > 0 && h.Type == TypePreload {
		f, p := newPreloadFrame(h, keep, sc.preloadBodyRoom(keep))
		if err := sc.readKeeping(h, f.Body); err != nil {
			sc.releasePreload(int64(keep))
			return inFrame{Frame: f}, err
		}
		return inFrame{Frame: f, pre: p}, nil
	}
	var f *Frame
	if keep > 0 && keep <= smallBody {
		f = new(frameSmall).init(h, keep) // a COPYIN answer of a few words: one allocation
	} else {
		f = &Frame{Header: h}
		switch {
		case keep > 0 && uint64(cap(room)) >= keep:
			f.Body = room[:keep]
		case keep > 0:
			f.Body = make([]byte, keep)
		}
	}
	in := inFrame{Frame: f}
	if err := sc.readKeeping(h, f.Body); err != nil {
		if keep > 0 && h.Class == ClassResp {
			sc.budget.srv.release(int64(keep))
		}
		return in, err
	}
	return in, nil
}

// readKeeping reads the body of h into kept, what of it the server
// keeps, and reads and discards the rest.
func (sc *serverConn) readKeeping(h Header, kept []byte) error {
	if len(kept) > 0 {
		if err := sc.fr.ReadBodyPart(h, kept); err != nil {
			return err
		}
	}
	if rest := h.BodyLen() - uint64(len(kept)); rest > 0 {
		sc.discarded.Add(rest)
		return sc.fr.Discard(h, rest)
	}
	return nil
}

// readSyscall reads a SYSCALL request: its argument struct, kept in one
// allocation with the frame and the call that will run it, and the
// surplus past the struct, discarded.
func (sc *serverConn) readSyscall(h Header) (inFrame, error) {
	n := h.BodyLen()
	keep := min(n, sc.argBound(netbsd.Sysno(h.U)))
	if keep < n {
		sc.log.Warn("syscall arguments longer than their struct; surplus discarded",
			"syscall", netbsd.Sysno(h.U).String(), "kept", keep, "discarded", n-keep)
	}
	sf := sc.nextFrame()
	sc.next = nil
	f := sf.init(h, keep)
	return inFrame{Frame: f, call: &sf.c}, sc.readKeeping(h, f.Body)
}

// nextFrame is the frame the next SYSCALL is to be read into: one a
// PRELOAD took already, the spare, or a new one.
func (sc *serverConn) nextFrame() *syscallFrame {
	if sf := sc.next; sf != nil {
		return sf
	}
	sf := sc.spare.Swap(nil)
	if sf == nil {
		sf = new(syscallFrame)
	} else {
		sf.reset()
	}
	sf.c.own = sf
	return sf
}

// preloadBodyRoom is where a PRELOAD body of n bytes too large for its
// own frame may be read: the COPYIN room of the call its SYSCALL will be
// read into (nextFrame), which that call then does not lend (its copies
// come from the preload), or nil. Never with another PRELOAD still kept,
// which may lie in that room, nor where the connection lends no room of
// its size (lendsRooms).
func (sc *serverConn) preloadBodyRoom(n uint64) []byte {
	if n <= preloadSmall || sc.pre != nil || !sc.lendsRooms(n) {
		return nil
	}
	sf := sc.nextFrame()
	sc.next = sf
	return sf.c.lendCopyIn(n)
}

// argBound is how much of a SYSCALL body the server keeps.
func (sc *serverConn) argBound(num netbsd.Sysno) uint64 {
	if a := sc.codec.l.Args(num); a != nil {
		return uint64(a.Size)
	}
	return maxUndescribedArgs
}
