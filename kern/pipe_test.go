package kern_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/kern"
	"github.com/rumpsprig/sprig/sp"
)

func TestPipeCarriesBytesThenEOF(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		r := e.call(netbsd.SYS_pipe)
		require.Zero(t, r.Errno)
		rfd, wfd := r.Retval[0], r.Retval[1]
		assert.Equal(t, [2]uint64{3, 4}, r.Retval, "the read end, then the write end, in retval")
		steps := []struct {
			name  string
			num   netbsd.Sysno
			fd    uint64
			data  string
			want  string
			errno netbsd.Errno
		}{
			{"writing fills the buffer", netbsd.SYS_write, wfd, "hello", "", 0},
			{"reading takes what is there", netbsd.SYS_read, rfd, "", "hello", 0},
			{"writing to the read end is EBADF", netbsd.SYS_write, rfd, "x", "", netbsd.EBADF},
			{"reading the write end is EBADF", netbsd.SYS_read, wfd, "", "", netbsd.EBADF},
		}
		for _, s := range steps {
			t.Run(s.name, func(t *testing.T) {
				e := e.with(t)
				b := e.buf(64)
				n := uint64(64)
				if s.num == netbsd.SYS_write {
					b, n = e.bytes([]byte(s.data)), uint64(len(s.data))
				}
				res := e.call(s.num, s.fd, b, n)
				require.Equal(t, s.errno, res.Errno)
				if s.num == netbsd.SYS_read && s.errno == 0 {
					assert.Equal(t, s.want, string(e.mem.Read(b, int(res.Retval[0]))))
				}
			})
		}
		e.ok(netbsd.SYS_write, wfd, e.bytes([]byte("last")), 4)
		e.ok(netbsd.SYS_close, wfd)
		assert.Equal(t, "last", e.read(rfd, 64), "bytes written before the close still arrive")
		assert.Equal(t, "", e.read(rfd, 64), "then EOF, without blocking")
	})
}

func TestPipeWithoutReadersIsEPIPEAndRaisesSIGPIPE(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		r := e.call(netbsd.SYS_pipe)
		e.ok(netbsd.SYS_close, r.Retval[0])
		assert.Equal(t, netbsd.EPIPE, e.errno(netbsd.SYS_write, r.Retval[1], e.bytes([]byte("x")), 1))
		e.ok(netbsd.SYS_getpid) // the RAISE went out before this reply
		assert.Equal(t, []int32{int32(netbsd.SIGPIPE)}, e.mem.Signals())

		fds := e.buf(8)
		e.ok(netbsd.SYS_pipe2, fds, netbsd.O_NOSIGPIPE)
		e.ok(netbsd.SYS_close, uint64(e.cint(fds)))
		assert.Equal(t, netbsd.EPIPE, e.errno(netbsd.SYS_write, uint64(e.cint(fds+4)), e.bytes([]byte("x")), 1))
		e.ok(netbsd.SYS_getpid)
		assert.Len(t, e.mem.Signals(), 1, "O_NOSIGPIPE keeps the signal back")
	})
}

func TestPipeReaderBlocksUntilDataArrives(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		r := e.call(netbsd.SYS_pipe)
		rfd, wfd := r.Retval[0], r.Retval[1]
		wait := e.blockedRead(rfd, 16)
		e.ok(netbsd.SYS_write, wfd, e.bytes([]byte("wake")), 4)
		assert.Equal(t, "wake", wait(), "the reader wakes with the bytes")
	})
}

func TestNonBlockingPipesAnswerEAGAIN(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		fds := e.buf(8)
		r := e.call(netbsd.SYS_pipe2, fds, netbsd.O_NONBLOCK|netbsd.O_CLOEXEC)
		require.Zero(t, r.Errno)
		rfd, wfd := uint64(e.cint(fds)), uint64(e.cint(fds+4))
		assert.Equal(t, []uint64{3, 4}, []uint64{rfd, wfd}, "pipe2 stores two C ints in the client's byte order")
		assert.Equal(t, [2]uint64{0, 4}, r.Retval, "and returns 0, leaving the write end in retval[1]")
		assert.Equal(t, uint64(netbsd.FD_CLOEXEC), e.ok(netbsd.SYS_fcntl, rfd, netbsd.F_GETFD, 0))
		assert.Equal(t, netbsd.EAGAIN, e.errno(netbsd.SYS_read, rfd, e.buf(4), 4), "an empty pipe")
		small := e.bytes([]byte(strings.Repeat("p", 1000)))
		assert.Equal(t, uint64(1000), e.ok(netbsd.SYS_write, wfd, small, 1000))
		big := e.bytes([]byte(strings.Repeat("q", 100000)))
		assert.Equal(t, uint64(netbsd.PIPE_SIZE-1000), e.ok(netbsd.SYS_write, wfd, big, 100000),
			"a pipe that holds bytes does not grow: a long write takes what fits")
		assert.Equal(t, netbsd.EAGAIN, e.errno(netbsd.SYS_write, wfd, big, 1), "a full pipe")
		e.ok(netbsd.SYS_fcntl, rfd, netbsd.F_SETFL, 0)
		assert.Equal(t, uint64(100), e.ok(netbsd.SYS_read, rfd, e.buf(100), 100), "blocking again, with data")
		assert.Equal(t, netbsd.EINVAL, e.errno(netbsd.SYS_pipe2, fds, netbsd.O_APPEND), "pipe2 takes only its flags")
	})
}

func TestABlockedPipeReadEndsWithItsContext(t *testing.T) {
	d := abi.MustLookup("amd64")
	k, err := kern.New(kern.DefaultConfig())
	require.NoError(t, err)
	p, err := k.NewProcess(context.Background(), sp.ClientInfo{ABI: d})
	require.NoError(t, err)
	mem := newFlatMem(0x1000, make([]byte, 256))
	res := p.Syscall(context.Background(), &sp.SyscallRequest{Num: netbsd.SYS_pipe, ABI: d, Mem: mem})
	require.Zero(t, res.Errno)
	body, err := netbsd.LayoutsFor(d).Args(netbsd.SYS_read).Encode(0, res.Retval[0], 0x1000, 16)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	got := p.Syscall(ctx, &sp.SyscallRequest{Num: netbsd.SYS_read, Body: body, ABI: d, Mem: mem})
	assert.Equal(t, netbsd.EINTR, got.Errno)
	assert.Less(t, time.Since(start), 5*time.Second)
	p.Exit()
}
