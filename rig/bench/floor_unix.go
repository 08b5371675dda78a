//go:build unix

package bench

import (
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
)

// rawSocket returns c as the floor uses it: read and write are the
// kernel's blocking read(2) and write(2) on the socket, as in a C
// ping-pong, not Go's netpoller (a read that would wait parks the
// goroutine, and epoll wakes it), which costs a round trip a couple of
// microseconds the floor must not pay. c is closed with it. A conn that
// is not a unix socket (a test's pipe) is used as it is.
func rawSocket(c net.Conn) (net.Conn, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return c, nil
	}
	f, err := uc.File() // a descriptor of its own, of the same socket
	if err != nil {
		return nil, fmt.Errorf("bench: floor: %w", err)
	}
	// Blocking mode belongs to the socket, not the descriptor: from here
	// uc's descriptor blocks too, and nothing but Close uses it. (Fd
	// sets it as well; say so rather than rely on it.)
	fd := int(f.Fd())
	if err := syscall.SetNonblock(fd, false); err != nil {
		f.Close()
		return nil, fmt.Errorf("bench: floor: %w", err)
	}
	return &blockingSocket{UnixConn: uc, f: f, fd: fd}, nil
}

type blockingSocket struct {
	*net.UnixConn
	f  *os.File
	fd int
}

func (s *blockingSocket) Read(p []byte) (int, error) {
	for {
		n, err := syscall.Read(s.fd, p)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return 0, err
		case n == 0 && len(p) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

func (s *blockingSocket) Write(p []byte) (int, error) {
	written := 0
	for written < len(p) {
		n, err := syscall.Write(s.fd, p[written:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return written, err
		}
		written += n
	}
	return written, nil
}

func (s *blockingSocket) Close() error {
	s.f.Close()
	return s.UnixConn.Close()
}
