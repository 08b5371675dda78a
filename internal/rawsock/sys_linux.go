//go:build linux && !race

package rawsock

import (
	"syscall"
	"unsafe"
)

// sysRead and sysWrite are read(2) and write(2) as raw system calls: on a
// non-blocking descriptor neither blocks, so the runtime need not know.
// A write copies what the socket takes into its buffer while the P is
// held, up to the buffer's size: bounded, and what a net.Conn write does
// inside its system call too. Race builds take sys_unix.go's instead (see
// there).

func sysRead(fd uintptr, p []byte) (int, syscall.Errno) {
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	return int(n), e
}

func sysWrite(fd uintptr, p []byte) (int, syscall.Errno) {
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	return int(n), e
}
