package scenario

import (
	"fmt"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// guardFill pre-fills buffers; bytes the server must not write have to
// keep it.
const guardFill = 0xEE

// pattern returns n bytes in which neighbours always differ, so a lost,
// doubled or reordered byte shows.
func pattern(n int, seed byte) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7) + seed
	}
	return p
}

// scenarioFileIO: open by path (COPYINSTR), write (COPYIN), seek back,
// read (COPYOUT), close; the closed descriptor is then EBADF and the
// next open gets it back (the lowest free descriptor).
func scenarioFileIO(t *T) {
	t.guest()
	path := t.path("f")
	fd := t.open(path, netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
	if fd > maxFD {
		t.FailValue("open retval (a descriptor)", fmt.Sprintf("0..%d", maxFD), fd)
	}
	t.Check()
	t.requested(sp.TypeCopyInStr, "open")

	data := append([]byte("sprig file-io\n"), pattern(300, 1)...)
	t.write(fd, data)
	t.requested(sp.TypeCopyIn, "write")
	expect(t, "lseek(0, SEEK_SET)", uint64(0), t.seek(fd, 0, netbsd.SEEK_SET))

	buf, b := t.alloc(len(data)+16, guardFill)
	rv := t.ok(netbsd.SYS_read, fd, buf, uint64(len(b)))
	expect(t, "read retval", uint64(len(data)), rv[0])
	t.requested(sp.TypeCopyOut, "read")
	t.expectBytes("read data", data, b[:len(data)])
	t.untouched("read past the bytes returned", b[len(data):], guardFill)

	rv = t.ok(netbsd.SYS_read, fd, buf, uint64(len(b)))
	expect(t, "read at end of file", uint64(0), rv[0])

	t.ok(netbsd.SYS_close, fd)
	t.fails("read on a closed fd", netbsd.EBADF, netbsd.SYS_read, fd, buf, 16)
	t.fails("close of a closed fd", netbsd.EBADF, netbsd.SYS_close, fd)
	again := t.open(path, netbsd.O_RDONLY, 0)
	expect(t, "open after close (the lowest free descriptor is the one closed)", fd, again)
	t.ok(netbsd.SYS_close, again)
	t.ok(netbsd.SYS_unlink, t.str(path))
}

// maxFD bounds the descriptor numbers a fresh process's opens may get:
// NetBSD's default table is far smaller.
const maxFD = 1 << 16

// scenarioLseek4G: offsets past 4 GiB survive the trip both ways, in
// arguments and in the 64-bit result.
func scenarioLseek4G(t *T) {
	const off = 5<<30 + 3
	t.guest()
	path := t.path("big")
	fd := t.open(path, netbsd.O_CREAT|netbsd.O_RDWR, 0o644)

	expect(t, "lseek(5 GiB + 3, SEEK_SET)", uint64(off), t.seek(fd, off, netbsd.SEEK_SET))
	expect(t, "lseek(+1, SEEK_CUR)", uint64(off+1), t.seek(fd, 1, netbsd.SEEK_CUR))

	one := t.data([]byte{'Z'})
	rv := t.ok(netbsd.SYS_pwrite, fd, one, 1, off+1)
	expect(t, "pwrite at 5 GiB + 4 retval", uint64(1), rv[0])
	st := t.fstat(fd)
	if st.Size != off+2 {
		t.FailField(t.statLayout(), "st_size", int64(off+2), st.Size)
	}
	t.Check()
	expect(t, "lseek(0, SEEK_CUR) after pwrite (offset unchanged)", uint64(off+1), t.seek(fd, 0, netbsd.SEEK_CUR))
	expect(t, "lseek(0, SEEK_END)", uint64(off+2), t.seek(fd, 0, netbsd.SEEK_END))

	buf, b := t.alloc(4, guardFill)
	rv = t.ok(netbsd.SYS_pread, fd, buf, 4, off)
	expect(t, "pread at 5 GiB + 3 retval", uint64(2), rv[0])
	t.expectBytes("pread at 5 GiB + 3 (a hole, then the byte)", []byte{0, 'Z'}, b[:2])
	t.untouched("pread past the bytes returned", b[2:], guardFill)

	t.fails("lseek to -1", netbsd.EINVAL, netbsd.SYS_lseek, fd, ^uint64(0), netbsd.SEEK_SET)
	t.fails("lseek with whence 7", netbsd.EINVAL, netbsd.SYS_lseek, fd, 0, 7)
	expect(t, "offset after the failed seeks", uint64(off+2), t.seek(fd, 0, netbsd.SEEK_CUR))

	t.ok(netbsd.SYS_close, fd)
	t.ok(netbsd.SYS_unlink, t.str(path))
}

// scenarioPreadPwrite: positioned I/O reads and writes where asked and
// leaves the file offset alone.
func scenarioPreadPwrite(t *T) {
	t.guest()
	path := t.path("f")
	fd := t.open(path, netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
	t.write(fd, []byte("0123456789"))

	rv := t.ok(netbsd.SYS_pwrite, fd, t.data([]byte("AB")), 2, 3)
	expect(t, "pwrite(\"AB\", 3) retval", uint64(2), rv[0])
	rv = t.ok(netbsd.SYS_pwrite, fd, t.data([]byte("XYZ")), 3, 20)
	expect(t, "pwrite(\"XYZ\", 20) retval", uint64(3), rv[0])
	expect(t, "file offset after pwrite", uint64(10), t.seek(fd, 0, netbsd.SEEK_CUR))

	want := []byte("012AB56789\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00XYZ")
	buf, b := t.alloc(40, guardFill)
	rv = t.ok(netbsd.SYS_pread, fd, buf, 40, 0)
	expect(t, "pread(40, 0) retval", uint64(len(want)), rv[0])
	t.expectBytes("pread(40, 0) data", want, b[:len(want)])
	t.untouched("pread past the bytes returned", b[len(want):], guardFill)

	buf, b = t.alloc(4, guardFill)
	rv = t.ok(netbsd.SYS_pread, fd, buf, 4, 21)
	expect(t, "pread(4, 21) retval", uint64(2), rv[0])
	t.expectBytes("pread(4, 21) data", []byte("YZ"), b[:2])
	// Past the end POSIX gives 0 bytes; NetBSD's rumpfs (the rump
	// kernel's root file system) gives as many zero bytes as asked.
	for i := range b {
		b[i] = guardFill
	}
	rv = t.ok(netbsd.SYS_pread, fd, buf, 4, 100)
	switch rv[0] {
	case 0:
		t.untouched("pread past end of file: the buffer", b, guardFill)
	case 4:
		t.expectBytes("pread past end of file on rumpfs (zeros)", []byte{0, 0, 0, 0}, b)
	default:
		t.FailValue("pread past end of file retval", "0 (or 4 zero bytes on rumpfs)", rv[0])
	}
	t.fails("pread at offset -1", netbsd.EINVAL, netbsd.SYS_pread, fd, buf, 4, ^uint64(0))
	expect(t, "file offset after pread", uint64(10), t.seek(fd, 0, netbsd.SEEK_CUR))

	// The plain read continues from the untouched offset.
	rv = t.ok(netbsd.SYS_read, fd, buf, 4)
	expect(t, "read at offset 10 retval", uint64(4), rv[0])
	t.expectBytes("read at offset 10", []byte{0, 0, 0, 0}, b)

	t.ok(netbsd.SYS_close, fd)
	t.ok(netbsd.SYS_unlink, t.str(path))
}
