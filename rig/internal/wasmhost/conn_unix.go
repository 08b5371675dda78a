//go:build unix

package wasmhost

import "syscall"

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
