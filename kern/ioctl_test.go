package kern_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

func TestIoctlCopiesAsTheCommandEncodes(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		fd := e.open("/tmp/f", netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
		cases := []struct {
			name    string
			cmd     uint32
			copyIns int
			errno   netbsd.Errno
		}{
			{"an IOC_IN command copies its argument in first", netbsd.IOC(netbsd.IOC_IN, 'x', 1, 8), 1, netbsd.EOPNOTSUPP},
			{"an IOC_OUT command copies nothing in", netbsd.IOC(netbsd.IOC_OUT, 'x', 1, 8), 0, netbsd.EOPNOTSUPP},
			{"a size past IOCPARM_MAX is ENOTTY", netbsd.IOC(netbsd.IOC_IN, 'x', 1, 8191), 0, netbsd.ENOTTY},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				mark := e.reqs.mark()
				assert.Equal(t, tc.errno, e.errno(netbsd.SYS_ioctl, fd, uint64(tc.cmd), e.buf(64)))
				assert.Equal(t, tc.copyIns, e.reqs.since(mark, sp.TypeCopyIn))
			})
		}
		assert.Equal(t, netbsd.EFAULT, e.errno(netbsd.SYS_ioctl, fd, netbsd.FIONBIO, 0), "FIONBIO's int at NULL")
		e.ok(netbsd.SYS_ioctl, fd, netbsd.FIOCLEX, 0)
		assert.Equal(t, uint64(netbsd.FD_CLOEXEC), e.ok(netbsd.SYS_fcntl, fd, netbsd.F_GETFD, 0), "FIOCLEX")
		e.ok(netbsd.SYS_ioctl, fd, netbsd.FIONCLEX, 0)
		assert.Zero(t, e.ok(netbsd.SYS_fcntl, fd, netbsd.F_GETFD, 0), "FIONCLEX")
	})
}

func TestTheConsoleRefusesWhatATtyWouldNeed(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		_, errno := e.ioctlInt(1, netbsd.FIONBIO, 1)
		assert.Equal(t, netbsd.ENOTTY, errno, "rumpcons_ioctl knows only TIOCGETA")
		assert.Equal(t, uint64(netbsd.O_WRONLY|netbsd.O_NONBLOCK), e.ok(netbsd.SYS_fcntl, 1, netbsd.F_GETFL, 0),
			"sys_ioctl set O_NONBLOCK before asking")
		_, errno = e.ioctlInt(1, netbsd.FIONBIO, 0)
		require.Equal(t, netbsd.ENOTTY, errno)
		assert.Equal(t, netbsd.ENOTTY, e.errno(netbsd.SYS_fcntl, 1, netbsd.F_SETFL, netbsd.O_NONBLOCK),
			"F_SETFL announces O_NONBLOCK as FIONBIO, which the console refuses")
		assert.Equal(t, uint64(netbsd.O_WRONLY), e.ok(netbsd.SYS_fcntl, 1, netbsd.F_GETFL, 0), "and nothing changed")
		e.ok(netbsd.SYS_fcntl, 1, netbsd.F_SETFL, netbsd.O_APPEND)
		assert.Equal(t, uint64(netbsd.O_WRONLY|netbsd.O_APPEND), e.ok(netbsd.SYS_fcntl, 1, netbsd.F_GETFL, 0), "other flags change")
		_, errno = e.ioctlInt(2, netbsd.FIONREAD, 0)
		assert.Equal(t, netbsd.ENOTTY, errno)
		assert.Equal(t, netbsd.ESPIPE, e.errno(netbsd.SYS_pwrite, 1, e.bytes([]byte("x")), 1, 0))
		assert.Equal(t, netbsd.EINVAL, e.errno(netbsd.SYS_fsync, 1), "no vnode")
		assert.Equal(t, netbsd.EINVAL, e.errno(netbsd.SYS___getdents30, 1, e.buf(64), 64))
	})
}

func TestPipesAndDevicesAnswerTheirIoctls(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		p := e.call(netbsd.SYS_pipe)
		r, w := p.Retval[0], p.Retval[1]
		e.ok(netbsd.SYS_write, w, e.bytes([]byte("abc")), 3)
		null := e.open("/dev/null", netbsd.O_RDWR, 0)
		cases := []struct {
			name  string
			fd    uint64
			cmd   uint32
			in    int32
			want  int32
			errno netbsd.Errno
		}{
			{"FIONREAD on the read end: bytes buffered", r, netbsd.FIONREAD, 0, 3, 0},
			{"FIONREAD on the write end: 0", w, netbsd.FIONREAD, 0, 0, 0},
			{"FIONWRITE on the write end: bytes waiting", w, netbsd.FIONWRITE, 0, 3, 0},
			{"FIONSPACE on the write end: room left", w, netbsd.FIONSPACE, 0, netbsd.PIPE_SIZE - 3, 0},
			{"TIOCGETA on a pipe is ENOTTY", r, netbsd.TIOCGETA, 0, 0, netbsd.ENOTTY},
			{"FIONBIO on /dev/null", null, netbsd.FIONBIO, 1, 1, 0},
			{"FIOASYNC on /dev/null is EOPNOTSUPP, as the mem driver says", null, netbsd.FIOASYNC, 1, 1, netbsd.EOPNOTSUPP},
			{"FIONREAD on /dev/null is EOPNOTSUPP", null, netbsd.FIONREAD, 0, 0, netbsd.EOPNOTSUPP},
			{"TIOCGETA on /dev/null is ENOTTY", null, netbsd.TIOCGETA, 0, 0, netbsd.ENOTTY},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				got, errno := e.ioctlInt(tc.fd, tc.cmd, tc.in)
				require.Equal(t, tc.errno, errno)
				if errno == 0 {
					assert.Equal(t, tc.want, got)
				}
			})
		}
		e.ok(netbsd.SYS_fcntl, null, netbsd.F_SETFL, netbsd.O_NONBLOCK)
		assert.Equal(t, uint64(netbsd.O_RDWR|netbsd.O_NONBLOCK), e.ok(netbsd.SYS_fcntl, null, netbsd.F_GETFL, 0),
			"a device on rumpfs takes F_SETFL: its operations are specfs's")
	})
}

func TestRumpfsListingsKeepRumpfsArithmetic(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		e.ok(netbsd.SYS_mkdir, e.str("/tmp/d"), 0o755)
		for _, n := range []string{"a", "b", "c"} {
			e.create("/tmp/d/"+n, "")
		}
		fd := e.open("/tmp/d", netbsd.O_RDONLY, 0)
		steps := []struct {
			name  string
			count int
			want  []string
			off   int64
		}{
			{"two records fit in 40 bytes, the third does not", 40, []string{"c", "b"}, 1},
			{"so the next call starts one back and repeats b", 40, []string{"b", "a"}, 3},
			{"then the end", 40, nil, 3},
		}
		for _, s := range steps {
			t.Run(s.name, func(t *testing.T) {
				e := e.with(t)
				ds, errno := e.getdents(fd, s.count)
				require.Zero(t, errno)
				assert.Equal(t, s.want, names(ds))
				assert.Equal(t, s.off, e.call(netbsd.SYS_lseek, fd, 0, netbsd.SEEK_CUR).Off())
			})
		}
		e.create("/tmp/d/"+strings.Repeat("n", 20), "")
		e.ok(netbsd.SYS_lseek, fd, 0, netbsd.SEEK_SET)
		ds, _ := e.getdents(fd, 4096)
		assert.Equal(t, []string{strings.Repeat("n", 20), "c", "b", "a"}, names(ds), "new entries come first")
	})
}
