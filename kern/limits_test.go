package kern_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/kern"
)

// small is a kernel with limits a test can reach.
func small(c *kern.Config) {
	c.MaxOpenFiles = 8
	c.MaxFileSize = 1 << 20
	c.MaxFSBytes = 64 << 10 // 16 pages
}

func TestDescriptorLimitIsEMFILE(t *testing.T) {
	forEachSetup(t, small, func(t *testing.T, e *env) {
		e.create("/tmp/f", "")
		for range 4 {
			e.open("/tmp/f", netbsd.O_RDONLY, 0)
		}
		last := e.open("/tmp/f", netbsd.O_RDONLY, 0)
		require.Equal(t, uint64(7), last, "the console holds 0-2, the opens 3-7")
		cases := []struct {
			name string
			num  netbsd.Sysno
			args []uint64
		}{
			{"open", netbsd.SYS_open, []uint64{e.str("/tmp/new"), netbsd.O_CREAT | netbsd.O_RDWR, 0o644}},
			{"dup", netbsd.SYS_dup, []uint64{0}},
			{"fcntl F_DUPFD", netbsd.SYS_fcntl, []uint64{0, netbsd.F_DUPFD, 0}},
			{"pipe", netbsd.SYS_pipe, nil},
			{"pipe2", netbsd.SYS_pipe2, []uint64{e.buf(8), 0}},
		}
		for _, tc := range cases {
			t.Run(tc.name+" with a full table is EMFILE", func(t *testing.T) {
				e := e.with(t)
				assert.Equal(t, netbsd.EMFILE, e.errno(tc.num, tc.args...))
			})
		}
		_, errno := e.stat(netbsd.SYS___stat50, e.str("/tmp/new"))
		assert.Equal(t, netbsd.ENOENT, errno, "a refused open created nothing")
		e.ok(netbsd.SYS_close, 3)
		r := e.call(netbsd.SYS_pipe)
		assert.Equal(t, netbsd.EMFILE, r.Errno, "a pipe needs two free descriptors")
		assert.Equal(t, uint64(3), e.ok(netbsd.SYS_dup, 0), "the failed pipe gave its descriptor back")
	})
}

func TestFileSizeLimitIsEFBIG(t *testing.T) {
	forEachSetup(t, small, func(t *testing.T, e *env) {
		fd := e.open("/tmp/f", netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
		two := e.bytes([]byte("ab"))
		cases := []struct {
			name  string
			num   netbsd.Sysno
			args  []uint64
			errno netbsd.Errno
		}{
			{"pwrite ending at the limit", netbsd.SYS_pwrite, []uint64{fd, two, 2, 1<<20 - 2}, 0},
			{"pwrite crossing the limit", netbsd.SYS_pwrite, []uint64{fd, two, 2, 1<<20 - 1}, netbsd.EFBIG},
			{"pwrite past the limit", netbsd.SYS_pwrite, []uint64{fd, two, 2, 5 << 30}, netbsd.EFBIG},
			{"truncate to the limit", netbsd.SYS_ftruncate, []uint64{fd, 1 << 20}, 0},
			{"truncate past the limit", netbsd.SYS_ftruncate, []uint64{fd, 1<<20 + 1}, netbsd.EFBIG},
			{"seeking past the limit is allowed", netbsd.SYS_lseek, []uint64{fd, 2 << 20, netbsd.SEEK_SET}, 0},
			{"but writing there is not", netbsd.SYS_write, []uint64{fd, two, 2}, netbsd.EFBIG},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				assert.Equal(t, tc.errno, e.errno(tc.num, tc.args...))
			})
		}
		assert.Equal(t, int64(1<<20), e.statPath("/tmp/f").Size)
	})
}

func TestFileSystemSpaceLimitIsENOSPC(t *testing.T) {
	forEachSetup(t, small, func(t *testing.T, e *env) {
		fill := e.bytes([]byte(strings.Repeat("f", 64<<10)))
		fd := e.open("/tmp/full", netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
		require.Equal(t, uint64(64<<10), e.ok(netbsd.SYS_write, fd, fill, 64<<10), "16 pages fill the file system")
		one := e.bytes([]byte("1"))
		other := e.open("/tmp/other", netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
		cases := []struct {
			name  string
			num   netbsd.Sysno
			args  []uint64
			errno netbsd.Errno
		}{
			{"a write needing a page is ENOSPC", netbsd.SYS_write, []uint64{other, one, 1}, netbsd.ENOSPC},
			{"a symlink needing bytes is ENOSPC", netbsd.SYS_symlink, []uint64{e.str("target"), e.str("/tmp/l")}, netbsd.ENOSPC},
			{"overwriting written pages needs nothing", netbsd.SYS_pwrite, []uint64{fd, one, 1, 100}, 0},
			{"a hole costs nothing", netbsd.SYS_ftruncate, []uint64{other, 1 << 20}, 0},
			{"an empty file costs nothing", netbsd.SYS_open, []uint64{e.str("/tmp/empty"), netbsd.O_CREAT | netbsd.O_RDONLY, 0o644}, 0},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				assert.Equal(t, tc.errno, e.errno(tc.num, tc.args...))
			})
		}
		e.ok(netbsd.SYS_unlink, e.str("/tmp/full"))
		assert.Equal(t, netbsd.ENOSPC, e.errno(netbsd.SYS_write, other, one, 1),
			"an unlinked file keeps its pages while it is open")
		e.ok(netbsd.SYS_close, fd)
		assert.Equal(t, uint64(1), e.ok(netbsd.SYS_write, other, one, 1), "closing the last descriptor frees them")
		e.ok(netbsd.SYS_ftruncate, other, 0)
		assert.Equal(t, uint64(64<<10), e.ok(netbsd.SYS_pwrite, other, fill, 64<<10, 0), "truncating frees pages too")
	})
}

func TestLongNamesAreENAMETOOLONG(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		long := "/tmp/" + strings.Repeat("n", 255)
		far := "/tmp/" + strings.Repeat(strings.Repeat("t", 240)+"/", 4) + "end"
		e.ok(netbsd.SYS_symlink, e.str(far), e.str("/tmp/far"))
		cases := []struct {
			name  string
			path  string
			errno netbsd.Errno
		}{
			{"a 255-byte component is fine", long, 0},
			{"a 256-byte component is too long (KERNEL_NAME_MAX)", long + "n", netbsd.ENAMETOOLONG},
			{"a 1023-byte path is fine", "/tmp" + strings.Repeat("/.", 508) + "/xy", 0},
			{"a path without a NUL in 1024 bytes is too long", "/tmp" + strings.Repeat("/.", 510) + "/x", netbsd.ENAMETOOLONG},
			{"a link expanding past PATH_MAX is too long", "/tmp/far/" + strings.Repeat("y", 200), netbsd.ENAMETOOLONG},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				r := e.call(netbsd.SYS_open, e.str(tc.path), netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
				assert.Equal(t, tc.errno, r.Errno, "path of %d bytes", len(tc.path))
			})
		}
	})
}

func TestSymlinkLoopsAreELOOP(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		e.create("/tmp/end", "reached")
		// l0 -> l1 -> ... -> l32 -> end: 33 links from l0, 32 from l1.
		for i := 32; i >= 0; i-- {
			target := fmt.Sprintf("l%d", i+1)
			if i == 32 {
				target = "end"
			}
			e.ok(netbsd.SYS_symlink, e.str(target), e.str(fmt.Sprintf("/tmp/l%d", i)))
		}
		e.ok(netbsd.SYS_symlink, e.str("/tmp/pong"), e.str("/tmp/ping"))
		e.ok(netbsd.SYS_symlink, e.str("/tmp/ping"), e.str("/tmp/pong"))
		cases := []struct {
			name  string
			path  string
			errno netbsd.Errno
		}{
			{"32 links are followed", "/tmp/l1", 0},
			{"the 33rd is ELOOP", "/tmp/l0", netbsd.ELOOP},
			{"two links naming each other are ELOOP", "/tmp/ping", netbsd.ELOOP},
			{"a loop in the middle of a path too", "/tmp/ping/x", netbsd.ELOOP},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				assert.Equal(t, tc.errno, e.errno(netbsd.SYS_open, e.str(tc.path), netbsd.O_RDONLY, 0))
			})
		}
		assert.Equal(t, uint32(netbsd.S_IFLNK), e.lstatPath("/tmp/ping").Mode&netbsd.S_IFMT, "lstat does not follow, so meets no loop")
	})
}
