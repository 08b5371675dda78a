//go:build unix

package wasmhost

import (
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// haveNonblock: hostConn reads sockets without waiting through their
// file descriptors.
const haveNonblock = true

// readNonblock reads once from the socket behind rc, which Go keeps in
// non-blocking mode: EAGAIN is errWouldBlock, 0 bytes the end of stream.
func readNonblock(rc syscall.RawConn, p []byte) (n int, err error) {
	cerr := rc.Read(func(fd uintptr) bool {
		for {
			n, err = syscall.Read(int(fd), p)
			if err != syscall.EINTR {
				return true
			}
		}
	})
	if cerr != nil {
		return 0, cerr
	}
	if err == syscall.EAGAIN || err == syscall.EWOULDBLOCK {
		return 0, errWouldBlock
	}
	if n < 0 {
		n = 0
	}
	return n, err
}

// pollReadable waits up to d for the socket behind rc to be readable (or
// to fail), in poll(2) on this thread. The caller's guest is blocked in
// its host call anyway; parking in Go's netpoller instead costs a timer
// set and cleared, a scheduler pass and an epoll wake-up, which made the
// guest's round trip a fifth longer. Only short waits may come here:
// nothing but their end stops them.
func pollReadable(rc syscall.RawConn, d time.Duration) error {
	ms := int(max(d.Round(time.Millisecond)/time.Millisecond, 1))
	var perr error
	cerr := rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			_, perr = unix.Poll(fds, ms)
			if perr != unix.EINTR {
				return
			}
		}
	})
	if cerr != nil {
		return cerr
	}
	return perr
}
