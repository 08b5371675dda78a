package kern_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

func TestReadAndWriteMoveTheSharedOffset(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		fd := e.open("/tmp/f", netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
		cases := []struct {
			name  string
			num   netbsd.Sysno
			fd    uint64
			data  string // to write, or expected from a read
			count uint64
			want  uint64
			errno netbsd.Errno
		}{
			{"writing stores the bytes and advances the offset", netbsd.SYS_write, fd, "hello world", 11, 11, 0},
			{"reading at the end returns 0", netbsd.SYS_read, fd, "", 5, 0, 0},
			{"writing nothing returns 0", netbsd.SYS_write, fd, "", 0, 0, 0},
			{"a bad descriptor is EBADF", netbsd.SYS_read, 77, "", 5, 0, netbsd.EBADF},
			{"a negative descriptor is EBADF", netbsd.SYS_write, neg(-1), "", 5, 0, netbsd.EBADF},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				buf := e.bytes([]byte(tc.data + "\x00"))
				r := e.call(tc.num, tc.fd, buf, tc.count)
				assert.Equal(t, tc.errno, r.Errno)
				assert.Equal(t, tc.want, r.Retval[0])
			})
		}
		e.ok(netbsd.SYS_lseek, fd, 6, netbsd.SEEK_SET)
		assert.Equal(t, "world", e.read(fd, 64), "reading after a seek")
		e.ok(netbsd.SYS_lseek, fd, 0, netbsd.SEEK_SET)
		assert.Equal(t, "hello", e.read(fd, 5), "a short count reads part")
		assert.Equal(t, " world", e.read(fd, 64), "the next read goes on")
	})
}

func TestReadAndWriteCheckTheAccessMode(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		e.create("/tmp/f", "data")
		ro := e.open("/tmp/f", netbsd.O_RDONLY, 0)
		wo := e.open("/tmp/f", netbsd.O_WRONLY, 0)
		dir := e.open("/tmp", netbsd.O_RDONLY, 0)
		b := e.buf(8)
		assert.Equal(t, netbsd.EBADF, e.errno(netbsd.SYS_write, ro, b, 1), "writing a read-only descriptor")
		assert.Equal(t, netbsd.EBADF, e.errno(netbsd.SYS_read, wo, b, 1), "reading a write-only descriptor")
		assert.Equal(t, netbsd.EISDIR, e.errno(netbsd.SYS_read, dir, b, 1), "reading a directory")
		assert.Equal(t, netbsd.EISDIR, e.errno(netbsd.SYS_pread, dir, b, 1, 0), "pread on a directory")
		if !e.abi().LP64() {
			assert.Equal(t, netbsd.EINVAL, e.errno(netbsd.SYS_read, ro, b, 0x8000_0000), "a count past SSIZE_MAX")
		}
		assert.Equal(t, netbsd.EFAULT, e.errno(netbsd.SYS_write, wo, 8, 4), "writing from an unmapped address")
	})
}

func TestAppendWritesGoToTheEnd(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		e.create("/tmp/log", "one\n")
		fd := e.open("/tmp/log", netbsd.O_WRONLY|netbsd.O_APPEND, 0)
		e.ok(netbsd.SYS_write, fd, e.bytes([]byte("two\n")), 4)
		e.ok(netbsd.SYS_pwrite, fd, e.bytes([]byte("three\n")), 6, 0)
		rd := e.open("/tmp/log", netbsd.O_RDONLY, 0)
		assert.Equal(t, "one\ntwo\nthree\n", e.read(rd, 64), "write and pwrite both append, as on NetBSD")
	})
}

func TestPreadAndPwriteLeaveTheOffsetAlone(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		fd := e.open("/tmp/p", netbsd.O_CREAT|netbsd.O_RDWR, 0o600)
		cases := []struct {
			name   string
			num    netbsd.Sysno
			data   string
			off    int64
			want   uint64
			errno  netbsd.Errno
			expect string // for reads
		}{
			{"pwrite past the end leaves a hole", netbsd.SYS_pwrite, "tail", 10, 4, 0, ""},
			{"pwrite at the start", netbsd.SYS_pwrite, "head", 0, 4, 0, ""},
			{"pread reads the hole as zeros", netbsd.SYS_pread, "", 2, 10, 0, "ad\x00\x00\x00\x00\x00\x00ta"},
			{"pread at the end returns 0", netbsd.SYS_pread, "", 14, 0, 0, ""},
			{"a negative offset is EINVAL", netbsd.SYS_pread, "", -1, 0, netbsd.EINVAL, ""},
			{"a negative pwrite offset is EINVAL", netbsd.SYS_pwrite, "x", -5, 0, netbsd.EINVAL, ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				var b uint64
				count := uint64(len(tc.data))
				if tc.num == netbsd.SYS_pread {
					b, count = e.buf(16), 10
				} else {
					b = e.bytes([]byte(tc.data))
				}
				r := e.call(tc.num, fd, b, count, neg(tc.off))
				require.Equal(t, tc.errno, r.Errno)
				assert.Equal(t, tc.want, r.Retval[0])
				if tc.num == netbsd.SYS_pread {
					assert.Equal(t, tc.expect, string(e.mem.Read(b, int(r.Retval[0]))))
				}
			})
		}
		assert.Equal(t, "head", e.read(fd, 4), "the offset never moved")
	})
}

func TestLseekReturnsTheWhole64BitOffset(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		e.create("/tmp/big", "0123456789")
		fd := e.open("/tmp/big", netbsd.O_RDONLY, 0)
		seek := func(off int64, whence int) sp.Result {
			return e.call(netbsd.SYS_lseek, fd, neg(off), uint64(whence))
		}
		const past4G = 5<<30 + 3
		cases := []struct {
			name   string
			off    int64
			whence int
			want   uint64
			errno  netbsd.Errno
		}{
			{"SEEK_SET past 4 GiB", past4G, netbsd.SEEK_SET, past4G, 0},
			{"SEEK_CUR goes on from there", 7, netbsd.SEEK_CUR, past4G + 7, 0},
			{"SEEK_END counts from the size", -4, netbsd.SEEK_END, 6, 0},
			{"SEEK_END past 4 GiB", 8 << 30, netbsd.SEEK_END, 8<<30 + 10, 0},
			{"a negative result is EINVAL", -100, netbsd.SEEK_SET, 0, netbsd.EINVAL},
			{"an unknown whence is EINVAL", 0, 3, 0, netbsd.EINVAL},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				r := seek(tc.off, tc.whence)
				require.Equal(t, tc.errno, r.Errno)
				if tc.errno == 0 {
					assert.Equal(t, tc.want, sp.JoinOff(e.abi(), r.Retval))
				}
			})
		}
		r := seek(0, netbsd.SEEK_CUR)
		assert.Equal(t, uint64(8<<30+10), sp.JoinOff(e.abi(), r.Retval), "failed seeks leave the offset")
		e.ok(netbsd.SYS_lseek, fd, 8, netbsd.SEEK_SET)
		assert.Equal(t, "89", e.read(fd, 10))
	})
}

// A 32-bit client's lseek result spans two registers; this is the one
// thing a 64-bit test cannot show, so it gets its own test per ABI.
func TestThirtyTwoBitClientsSeekPastFourGiB(t *testing.T) {
	for _, s := range setups {
		if s.client != "i386" && s.client != "arm" && s.client != "mips" {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			e := newEnv(t, s, nil)
			fd := e.open("/tmp/f", netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
			const off = 5<<30 + 3
			r := e.call(netbsd.SYS_lseek, fd, off, netbsd.SEEK_SET)
			require.Zero(t, r.Errno)
			assert.Equal(t, uint64(off), sp.JoinOff(e.abi(), r.Retval))
			assert.NotEqual(t, uint64(off), r.Retval[0], "the offset is split over both words")
			assert.Equal(t, uint64(1), e.ok(netbsd.SYS_write, fd, e.bytes([]byte("x")), 1))
			r = e.call(netbsd.SYS_lseek, fd, 0, netbsd.SEEK_CUR)
			assert.Equal(t, uint64(off+1), sp.JoinOff(e.abi(), r.Retval))
			st, errno := e.stat(netbsd.SYS___fstat50, fd)
			require.Zero(t, errno)
			assert.Equal(t, int64(off+1), st.Size, "the file grew past 4 GiB without holding it")
			b := e.buf(4)
			assert.Equal(t, uint64(1), e.ok(netbsd.SYS_pread, fd, b, 4, off))
			assert.Equal(t, "x", string(e.mem.Read(b, 1)))
		})
	}
}

func TestSeekingAPipeIsESPIPE(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		r := e.call(netbsd.SYS_pipe)
		require.Zero(t, r.Errno)
		assert.Equal(t, netbsd.ESPIPE, e.errno(netbsd.SYS_lseek, r.Retval[0], 0, netbsd.SEEK_SET))
		assert.Equal(t, netbsd.ESPIPE, e.errno(netbsd.SYS_pread, r.Retval[0], e.buf(4), 4, 0))
		assert.Equal(t, netbsd.ESPIPE, e.errno(netbsd.SYS_pwrite, r.Retval[1], e.buf(4), 4, 0))
	})
}

func TestTruncateAndFtruncateResize(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		e.create("/tmp/t", strings.Repeat("a", 10000))
		rw := e.open("/tmp/t", netbsd.O_RDWR, 0)
		ro := e.open("/tmp/t", netbsd.O_RDONLY, 0)
		cases := []struct {
			name  string
			num   netbsd.Sysno
			arg   uint64
			size  int64
			errno netbsd.Errno
		}{
			{"ftruncate shrinks", netbsd.SYS_ftruncate, rw, 5, 0},
			{"ftruncate grows with zeros", netbsd.SYS_ftruncate, rw, 5000, 0},
			{"truncate by path", netbsd.SYS_truncate, e.str("/tmp/t"), 7, 0},
			{"truncate past 4 GiB", netbsd.SYS_truncate, e.str("/tmp/t"), 6 << 30, 0},
			{"truncate back", netbsd.SYS_truncate, e.str("/tmp/t"), 3, 0},
			{"a negative length is EINVAL", netbsd.SYS_ftruncate, rw, -1, netbsd.EINVAL},
			{"a read-only descriptor is EINVAL", netbsd.SYS_ftruncate, ro, 0, netbsd.EINVAL},
			{"a directory is EISDIR", netbsd.SYS_truncate, e.str("/tmp"), 0, netbsd.EISDIR},
			{"a missing file is ENOENT", netbsd.SYS_truncate, e.str("/tmp/nope"), 0, netbsd.ENOENT},
			{"a bad descriptor is EBADF", netbsd.SYS_ftruncate, 99, 0, netbsd.EBADF},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				require.Equal(t, tc.errno, e.errno(tc.num, tc.arg, neg(tc.size)))
				if tc.errno == 0 {
					assert.Equal(t, tc.size, e.statPath("/tmp/t").Size)
				}
			})
		}
		e.ok(netbsd.SYS_ftruncate, rw, 6)
		b := e.buf(8)
		assert.Equal(t, uint64(6), e.ok(netbsd.SYS_pread, rw, b, 8, 0))
		assert.Equal(t, "aaa\x00\x00\x00", string(e.mem.Read(b, 6)), "bytes cut off come back as zeros")
	})
}

func TestFsyncAndSyncSucceed(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		fd := e.open("/tmp/s", netbsd.O_CREAT|netbsd.O_WRONLY, 0o644)
		p := e.call(netbsd.SYS_pipe)
		assert.Zero(t, e.errno(netbsd.SYS_fsync, fd))
		assert.Equal(t, netbsd.EINVAL, e.errno(netbsd.SYS_fsync, p.Retval[0]), "a pipe has nothing to sync")
		assert.Equal(t, netbsd.EBADF, e.errno(netbsd.SYS_fsync, 42))
		assert.Zero(t, e.errno(netbsd.SYS_sync))
	})
}

func TestLargeTransfersAreShortNotRefused(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		fd := e.open("/tmp/l", netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
		data := []byte(strings.Repeat("z", 3<<20/2)) // 1.5 MiB
		n := e.ok(netbsd.SYS_write, fd, e.bytes(data), uint64(len(data)))
		assert.Equal(t, uint64(1<<20), n, "one write moves at most MaxIO bytes")
		e.ok(netbsd.SYS_lseek, fd, 0, netbsd.SEEK_SET)
		b := e.buf(len(data))
		assert.Equal(t, uint64(1<<20), e.ok(netbsd.SYS_read, fd, b, uint64(len(data))))
	})
}
