//go:build unix

package sp

import (
	"net"
	"os"
	"syscall"
)

// nowWriter writes to a socket what it takes at once, through its file
// descriptor (Go keeps sockets in non-blocking mode). It is made once
// per Framer and used under its write lock: the function RawConn.Write
// calls is bound once, so a write allocates nothing.
type nowWriter struct {
	rc   syscall.RawConn
	conn net.Conn // for errors in net.Conn.Write's shape
	fn   func(uintptr) bool
	b    []byte
	n    int
	err  error
}

func newNowWriter(rc syscall.RawConn, conn net.Conn) *nowWriter {
	w := &nowWriter{rc: rc, conn: conn}
	w.fn = w.write
	return w
}

func (w *nowWriter) write(fd uintptr) bool {
	for {
		w.n, w.err = syscall.Write(int(fd), w.b)
		if w.err != syscall.EINTR {
			return true
		}
	}
}

// writeNow writes what the socket takes of b at once: n bytes, and
// errWouldWait when that is not all.
func (w *nowWriter) writeNow(b []byte) (n int, err error) {
	w.b = b
	cerr := w.rc.Write(w.fn)
	n, err = max(w.n, 0), w.err
	w.b, w.n, w.err = nil, 0, nil
	switch {
	case cerr != nil:
		return n, cerr
	case err == syscall.EAGAIN || err == syscall.EWOULDBLOCK:
		return n, errWouldWait
	case err != nil:
		// As net.Conn.Write reports it.
		return n, &net.OpError{Op: "write", Net: w.conn.LocalAddr().Network(), Source: w.conn.LocalAddr(),
			Addr: w.conn.RemoteAddr(), Err: os.NewSyscallError("write", err)}
	case n < len(b):
		return n, errWouldWait
	}
	return n, nil
}
