//go:build unix && (!linux || race)

package rawsock

import "syscall"

// sysRead and sysWrite go through package syscall off Linux, where some
// systems (darwin) make system calls through their C library, and in race
// builds, where syscall.Write and syscall.Read tell the race detector that
// what one goroutine wrote to a socket happens before what another reads
// from its peer: without that, the detector reports writes a server made
// before it answered as racing with the client that read the answer.

func sysRead(fd uintptr, p []byte) (int, syscall.Errno) { return errnoOf(syscall.Read(int(fd), p)) }

func sysWrite(fd uintptr, p []byte) (int, syscall.Errno) { return errnoOf(syscall.Write(int(fd), p)) }

// errnoOf asserts rather than calls errors.As, whose target would be an
// allocation per call: package syscall returns its errors as Errno.
func errnoOf(n int, err error) (int, syscall.Errno) {
	e, ok := err.(syscall.Errno)
	if err != nil && !ok {
		e = syscall.EIO
	}
	return max(n, 0), e
}
