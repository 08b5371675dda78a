package wasmhost

import (
	"errors"
	"net"
	"os"
	"sync"
	"time"

	"github.com/rumpsprig/sprig/internal/rawsock"
)

// aheadSize is how much a wait reads ahead of the guest: a frame header
// and the reply behind it, as sp's own read buffer.
const aheadSize = 4096

// errWouldBlock: a read that must not wait found no data.
var errWouldBlock = errors.New("no data yet")

// hostConn is one connection a guest dialed: the socket, and the bytes a
// wait in poll_oneoff read ahead of the guest, which recv hands out
// before it reads the socket again. Host functions of one instance run
// on that instance's goroutine, one at a time; interrupt may come from
// another goroutine, so the deadline is set under mu.
type hostConn struct {
	c   Conn
	raw *rawsock.Conn // c's descriptor I/O; nil when c is no bare socket

	buf   []byte // aheadSize, allocated on the first wait
	ahead []byte // unread part of buf
	err   error  // end of stream or failure a wait ran into, reported once ahead is drained

	mu          sync.Mutex
	interrupted bool // a wait on this conn must end now
	deadline    bool // a read deadline is set on c
}

func newHostConn(c Conn, spin time.Duration) *hostConn {
	hc := &hostConn{c: c}
	if nc, ok := c.(net.Conn); ok {
		if hc.raw = rawsock.New(nc); hc.raw != nil {
			hc.raw.SetSpin(spin)
		}
	}
	return hc
}

// ready reports whether recv would return at once: read-ahead bytes or an
// end to report.
func (hc *hostConn) ready() bool { return len(hc.ahead) > 0 || hc.err != nil }

// recv reads into p without waiting: the read-ahead bytes first, then
// the socket. errWouldBlock means no data yet.
func (hc *hostConn) recv(p []byte) (int, error) {
	if len(hc.ahead) > 0 {
		n := copy(p, hc.ahead)
		hc.ahead = hc.ahead[n:]
		return n, nil
	}
	if hc.err != nil {
		return 0, hc.err
	}
	if err := hc.clearDeadline(); err != nil {
		return 0, err
	}
	return hc.readNow(p)
}

// recvWait is recv that waits up to d for data (the legacy recv with a
// timeout).
func (hc *hostConn) recvWait(p []byte, d time.Duration) (int, error) {
	if hc.ready() {
		return hc.recv(p)
	}
	if !hc.setDeadline(time.Now().Add(d)) {
		return 0, errWouldBlock
	}
	n, err := hc.read(p)
	if n > 0 {
		return n, nil
	}
	if isTimeout(err) {
		return 0, errWouldBlock
	}
	return 0, err
}

// fill reads ahead without waiting, for a poll with a zero timeout.
func (hc *hostConn) fill() {
	if hc.ready() {
		return
	}
	hc.ensureBuf()
	if err := hc.clearDeadline(); err != nil {
		hc.err = err
		return
	}
	n, err := hc.readNow(hc.buf)
	hc.took(n, err)
}

// wait reads ahead until data comes, the deadline passes (zero: none) or
// the wait is interrupted.
func (hc *hostConn) wait(deadline time.Time) {
	if hc.ready() {
		return
	}
	hc.ensureBuf()
	if !hc.setDeadline(deadline) {
		return
	}
	n, err := hc.read(hc.buf)
	hc.took(n, err)
}

func (hc *hostConn) took(n int, err error) {
	switch {
	case n > 0:
		hc.ahead = hc.buf[:n]
	case err == nil, errors.Is(err, errWouldBlock), isTimeout(err):
	default:
		hc.err = err
	}
}

func (hc *hostConn) ensureBuf() {
	if hc.buf == nil {
		hc.buf = make([]byte, aheadSize)
	}
}

// setDeadline sets the read deadline for a wait, unless the wait was
// interrupted; false means do not wait.
func (hc *hostConn) setDeadline(t time.Time) bool {
	hc.mu.Lock()
	defer hc.mu.Unlock()
	if hc.interrupted {
		hc.interrupted = false
		return false
	}
	if t.IsZero() && !hc.deadline {
		return true
	}
	hc.deadline = !t.IsZero()
	hc.c.SetReadDeadline(t) // a closed conn fails the read that follows
	return true
}

// clearDeadline removes a deadline an earlier wait left, which would make
// a read that must not wait fail before it tries.
func (hc *hostConn) clearDeadline() error {
	hc.mu.Lock()
	defer hc.mu.Unlock()
	hc.interrupted = false
	if !hc.deadline {
		return nil
	}
	hc.deadline = false
	return hc.c.SetReadDeadline(time.Time{})
}

// interrupt ends a wait in progress on hc, or the next one to start.
func (hc *hostConn) interrupt() {
	hc.mu.Lock()
	defer hc.mu.Unlock()
	hc.interrupted = true
	hc.deadline = true
	hc.c.SetReadDeadline(time.Unix(1, 0))
}

// stop ends every wait on hc for good, as its instance ends: a wait for
// data, and a send blocked on a server that does not read.
func (hc *hostConn) stop() {
	hc.interrupt()
	if w, ok := hc.c.(interface{ SetWriteDeadline(time.Time) error }); ok {
		w.SetWriteDeadline(time.Unix(1, 0))
	}
}

// clearInterrupt forgets an interrupt no wait consumed.
func (hc *hostConn) clearInterrupt() {
	hc.mu.Lock()
	hc.interrupted = false
	hc.mu.Unlock()
}

// read is c.Read, through the descriptor when there is one (package
// rawsock: no system-call bookkeeping, a fifth of a guest's round trip).
func (hc *hostConn) read(p []byte) (int, error) {
	if hc.raw != nil {
		return hc.raw.Read(p)
	}
	return hc.c.Read(p)
}

// write is c.Write, through the descriptor when there is one.
func (hc *hostConn) write(p []byte) (int, error) {
	if hc.raw != nil {
		return hc.raw.Write(p)
	}
	return hc.c.Write(p)
}

// readNow reads what the socket holds without waiting for more.
func (hc *hostConn) readNow(p []byte) (int, error) {
	if hc.raw == nil {
		return hc.readSoon(p)
	}
	n, err := hc.raw.ReadNow(p)
	if errors.Is(err, rawsock.ErrWouldBlock) {
		return 0, errWouldBlock
	}
	return n, err
}

// readSoon stands in for a nonblocking read on a connection without a
// file descriptor: it waits a moment at most.
func (hc *hostConn) readSoon(p []byte) (int, error) {
	hc.mu.Lock()
	hc.deadline = true
	hc.c.SetReadDeadline(time.Now().Add(50 * time.Microsecond))
	hc.mu.Unlock()
	n, err := hc.c.Read(p)
	if n == 0 && isTimeout(err) {
		return 0, errWouldBlock
	}
	return n, err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}
