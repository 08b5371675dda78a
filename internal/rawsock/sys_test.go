//go:build unix

package rawsock_test

import (
	"syscall"
	"time"
)

// socketpair returns a connected pair, both ends closed on exec (as the
// net package's own descriptors are), so that a child started meanwhile
// inherits only what it is handed.
func socketpair() ([2]int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1])
	}
	return fds, err
}

func nowNanos() int64 { return time.Now().UnixNano() }
