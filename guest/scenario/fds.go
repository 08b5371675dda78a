package scenario

import (
	"fmt"

	"github.com/rumpsprig/sprig/abi/netbsd"
)

// fcntl runs fcntl(fd, cmd, arg) and returns retval[0].
func (t *T) fcntl(fd, cmd, arg uint64) uint64 {
	return t.ok(netbsd.SYS_fcntl, fd, cmd, arg)[0]
}

// pread reads n bytes at off and returns them.
func (t *T) pread(fd uint64, n int, off int64) []byte {
	buf, b := t.alloc(n, guardFill)
	got := t.ok(netbsd.SYS_pread, fd, buf, uint64(n), uint64(off))[0]
	if got > uint64(n) {
		t.FailValue("pread retval", n, got)
	}
	return b[:got]
}

// freeFD returns a descriptor number that is not open, checking with
// F_GETFD (EBADF) rather than assuming which numbers a server's fresh
// process has in use.
func (t *T) freeFD(from uint64) uint64 {
	for fd := from; fd < from+16; fd++ {
		if e, _ := t.sys(netbsd.SYS_fcntl, fd, netbsd.F_GETFD, 0); e == netbsd.EBADF {
			t.Check()
			return fd
		}
	}
	t.FailValue(fmt.Sprintf("fcntl(F_GETFD) of descriptors %d..%d", from, from+15), "one of them EBADF (not open)", "all open")
	return 0
}

// scenarioDupFcntl: dup2, dup, F_DUPFD, descriptor flags per descriptor
// and status flags per open file, with no assumption about which
// descriptor numbers a fresh process has.
func scenarioDupFcntl(t *T) {
	t.guest()
	path := t.path("f")
	fd := t.open(path, netbsd.O_CREAT|netbsd.O_RDWR|netbsd.O_APPEND, 0o644)

	d2 := t.freeFD(40)
	expect(t, fmt.Sprintf("dup2(fd, %d)", d2), d2, t.ok(netbsd.SYS_dup2, fd, d2)[0])
	t.write(d2, []byte("abc"))
	// Both descriptors share one open file and so one offset.
	expect(t, "offset of fd after writing 3 bytes through its dup", uint64(3), t.seek(fd, 0, netbsd.SEEK_CUR))
	// O_APPEND: a write after seeking to 0 still lands at the end.
	t.seek(fd, 0, netbsd.SEEK_SET)
	t.write(fd, []byte("d"))
	t.expectBytes("file after an O_APPEND write at offset 0", []byte("abcd"), t.pread(fd, 8, 0))

	expect(t, "F_GETFD of a dup2 copy", uint64(0), t.fcntl(d2, netbsd.F_GETFD, 0))
	expect(t, "F_SETFD FD_CLOEXEC", uint64(0), t.fcntl(d2, netbsd.F_SETFD, netbsd.FD_CLOEXEC))
	expect(t, "F_GETFD after F_SETFD FD_CLOEXEC", uint64(netbsd.FD_CLOEXEC), t.fcntl(d2, netbsd.F_GETFD, 0))
	expect(t, "F_GETFD of the original (flags are per descriptor)", uint64(0), t.fcntl(fd, netbsd.F_GETFD, 0))
	expect(t, "F_GETFL of a file opened O_RDWR|O_APPEND", uint64(netbsd.O_RDWR|netbsd.O_APPEND), t.fcntl(fd, netbsd.F_GETFL, 0))
	expect(t, "F_GETFL through the dup", uint64(netbsd.O_RDWR|netbsd.O_APPEND), t.fcntl(d2, netbsd.F_GETFL, 0))

	d3 := t.freeFD(d2 + 10)
	expect(t, fmt.Sprintf("F_DUPFD(fd, %d)", d3), d3, t.fcntl(fd, netbsd.F_DUPFD, d3))
	expect(t, "F_GETFD of an F_DUPFD copy", uint64(0), t.fcntl(d3, netbsd.F_GETFD, 0))
	t.expectBytes("file read through the F_DUPFD copy", []byte("abcd"), t.pread(d3, 8, 0))
	expect(t, "dup2(fd, fd)", fd, t.ok(netbsd.SYS_dup2, fd, fd)[0])

	// dup takes the lowest free descriptor: the one a second open got
	// is that again once closed.
	g := t.open(path, netbsd.O_RDONLY, 0)
	t.ok(netbsd.SYS_close, g)
	expect(t, "dup(fd) (the lowest free descriptor, just closed)", g, t.ok(netbsd.SYS_dup, fd)[0])

	// Status flags belong to the open file, which dups share. Pipes
	// show it: every file system has them, and NetBSD's rumpfs refuses
	// F_SETFL on its files for remote clients.
	pp := t.ok(netbsd.SYS_pipe)
	r2 := t.ok(netbsd.SYS_dup, pp[0])[0]
	expect(t, "F_GETFL of a pipe's read end", uint64(netbsd.O_RDONLY), t.fcntl(pp[0], netbsd.F_GETFL, 0))
	expect(t, "F_SETFL O_NONBLOCK on the read end", uint64(0), t.fcntl(pp[0], netbsd.F_SETFL, netbsd.O_NONBLOCK))
	expect(t, "F_GETFL through its dup after F_SETFL O_NONBLOCK", uint64(netbsd.O_RDONLY|netbsd.O_NONBLOCK), t.fcntl(r2, netbsd.F_GETFL, 0))
	buf, _ := t.alloc(8, guardFill)
	t.fails("read of the empty pipe through the dup (non-blocking)", netbsd.EAGAIN, netbsd.SYS_read, r2, buf, 8)
	expect(t, "F_SETFL 0 through the dup", uint64(0), t.fcntl(r2, netbsd.F_SETFL, 0))
	expect(t, "F_GETFL of the read end after F_SETFL 0 through its dup", uint64(netbsd.O_RDONLY), t.fcntl(pp[0], netbsd.F_GETFL, 0))

	t.ok(netbsd.SYS_close, d2)
	t.fails("F_GETFD of a closed fd", netbsd.EBADF, netbsd.SYS_fcntl, d2, netbsd.F_GETFD, 0)
	t.fails("dup2 from a closed fd", netbsd.EBADF, netbsd.SYS_dup2, d2, d3+1)
	t.fails("dup of a closed fd", netbsd.EBADF, netbsd.SYS_dup, d2)
	for _, n := range []uint64{fd, g, d3, pp[0], pp[1], r2} {
		t.ok(netbsd.SYS_close, n)
	}
	t.ok(netbsd.SYS_unlink, t.str(path))
}

// scenarioPipe: pipe's two return values, data through it, non-blocking
// reads, the errors of the wrong end, and pipe2's int array.
func scenarioPipe(t *T) {
	t.guest()
	rv := t.ok(netbsd.SYS_pipe)
	rfd, wfd := rv[0], rv[1]
	if rfd == wfd || rfd > maxFD || wfd > maxFD {
		t.FailValue("pipe retval (read end, write end)", "two different descriptors", fmt.Sprintf("%d, %d", rfd, wfd))
	}
	t.Check()

	t.write(wfd, []byte("ping\n"))
	buf, b := t.alloc(64, guardFill)
	n := t.ok(netbsd.SYS_read, rfd, buf, 64)[0]
	expect(t, "read from the pipe retval", uint64(5), n)
	t.expectBytes("read from the pipe", []byte("ping\n"), b[:5])
	t.untouched("read buffer past the bytes returned", b[5:], guardFill)

	expect(t, "F_GETFL of the read end", uint64(netbsd.O_RDONLY), t.fcntl(rfd, netbsd.F_GETFL, 0))
	expect(t, "F_GETFL of the write end", uint64(netbsd.O_WRONLY), t.fcntl(wfd, netbsd.F_GETFL, 0))
	st := t.fstat(rfd)
	if st.Mode&netbsd.S_IFMT != netbsd.S_IFIFO {
		t.FailFieldIn("__fstat50 of a pipe", t.statLayout(), "st_mode", "S_IFIFO", netbsd.FileTypeString(st.Mode))
	}
	t.Check()

	t.fails("write to the read end", netbsd.EBADF, netbsd.SYS_write, rfd, t.data([]byte("x")), 1)
	t.fails("read from the write end", netbsd.EBADF, netbsd.SYS_read, wfd, buf, 1)
	t.fails("lseek on a pipe", netbsd.ESPIPE, netbsd.SYS_lseek, rfd, 0, netbsd.SEEK_SET)
	t.fails("pread on a pipe", netbsd.ESPIPE, netbsd.SYS_pread, rfd, buf, 1, 0)

	expect(t, "F_SETFL O_NONBLOCK on the read end", uint64(0), t.fcntl(rfd, netbsd.F_SETFL, netbsd.O_NONBLOCK))
	t.fails("non-blocking read of an empty pipe", netbsd.EAGAIN, netbsd.SYS_read, rfd, buf, 64)
	t.ok(netbsd.SYS_close, wfd)
	expect(t, "read of an empty pipe with no writer (end of file)", uint64(0), t.ok(netbsd.SYS_read, rfd, buf, 64)[0])
	t.ok(netbsd.SYS_close, rfd)

	// pipe2 returns the descriptors through memory, as two C ints: the
	// two lowest free descriptors, which are pipe's again now.
	fds, fb := t.alloc(8+8, guardFill)
	expect(t, "pipe2 retval", uint64(0), t.ok(netbsd.SYS_pipe2, fds, netbsd.O_NONBLOCK|netbsd.O_CLOEXEC)[0])
	o := t.own.ByteOrder()
	expect(t, "pipe2 fildes[0] (the lowest free descriptor)", uint32(rfd), o.Uint32(fb[0:]))
	expect(t, "pipe2 fildes[1] (the next)", uint32(wfd), o.Uint32(fb[4:]))
	t.untouched("pipe2 fildes past two ints", fb[8:], guardFill)
	expect(t, "F_GETFL of pipe2's read end", uint64(netbsd.O_RDONLY|netbsd.O_NONBLOCK), t.fcntl(rfd, netbsd.F_GETFL, 0))
	expect(t, "F_GETFL of pipe2's write end", uint64(netbsd.O_WRONLY|netbsd.O_NONBLOCK), t.fcntl(wfd, netbsd.F_GETFL, 0))
	expect(t, "F_GETFD of pipe2's read end", uint64(netbsd.FD_CLOEXEC), t.fcntl(rfd, netbsd.F_GETFD, 0))
	t.fails("non-blocking read of an empty pipe2 pipe", netbsd.EAGAIN, netbsd.SYS_read, rfd, buf, 64)
	t.ok(netbsd.SYS_close, rfd)
	t.ok(netbsd.SYS_close, wfd)
}
