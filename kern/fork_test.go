package kern_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/kern"
)

// child is the forked process's own client.
type child struct {
	*env
}

// fork runs PREFORK on e's client and claims the child over a new
// connection with a FORK handshake.
func (e *env) fork() child {
	e.t.Helper()
	ck, err := e.c.Prefork(e.ctx)
	require.NoError(e.t, err)
	c, mem := e.dial()
	require.NoError(e.t, c.HandshakeFork(e.ctx, ck, false))
	ch := *e
	ch.c, ch.mem = c, mem
	return child{&ch}
}

func TestForkedChildSharesDescriptorsAndAPipeAcrossConnections(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		e.create("/tmp/shared", "abcdef")
		file := e.open("/tmp/shared", netbsd.O_RDONLY, 0)
		p := e.call(netbsd.SYS_pipe)
		require.Zero(t, p.Errno)
		rfd, wfd := p.Retval[0], p.Retval[1]
		parentPid := e.ok(netbsd.SYS_getpid)

		ch := e.fork()
		r := ch.call(netbsd.SYS_getpid)
		// As with the C server: PREFORK makes pid+1, the FORK handshake
		// forks it once more and drops it, so the child is pid+2 and,
		// reparented, has ppid 1.
		assert.Equal(t, [2]uint64{parentPid + 2, 1}, r.Retval, "the child's pid and its parent's")
		assert.Equal(t, uint64(1), ch.ok(netbsd.SYS_getppid))

		assert.Equal(t, "abc", ch.read(file, 3), "the child reads through the parent's descriptor")
		assert.Equal(t, "def", e.read(file, 3), "and the offset is shared, as after fork(2)")

		wait := ch.blockedRead(rfd, 16)
		e.ok(netbsd.SYS_write, wfd, e.bytes([]byte("from parent")), 11)
		assert.Equal(t, "from parent", wait(), "the child reads what the parent wrote to the pipe")

		ch.ok(netbsd.SYS_close, wfd)
		e.ok(netbsd.SYS_close, wfd)
		assert.Equal(t, "", ch.read(rfd, 16), "EOF once neither process holds the write end")
	})
}

func TestExitClosesDescriptorsAndOrphansChildren(t *testing.T) {
	forEachSetup(t, withExtensions, func(t *testing.T, e *env) {
		p := e.call(netbsd.SYS_pipe)
		rfd, wfd := p.Retval[0], p.Retval[1]
		ch := e.fork()
		childPid := ch.ok(netbsd.SYS_getpid)
		e.ok(netbsd.SYS_close, rfd) // only the child reads now

		assert.Zero(t, e.errno(netbsd.SYS_kill, childPid, 0), "the child exists")
		e.ok(netbsd.SYS_kill, childPid, uint64(netbsd.SIGUSR1))
		ch.ok(netbsd.SYS_getpid) // the RAISE is on the wire before this reply
		require.Eventually(t, func() bool { return len(ch.mem.Signals()) == 1 }, 5*time.Second, time.Millisecond)
		assert.Equal(t, []int32{int32(netbsd.SIGUSR1)}, ch.mem.Signals(), "kill reaches the child's client as RAISE")

		grand := ch.fork()
		grand.ok(netbsd.SYS_close, rfd)
		require.NoError(t, ch.c.Close())
		x := e.bytes([]byte("x"))
		require.Eventually(t, func() bool {
			return e.errno(netbsd.SYS_write, wfd, x, 1) == netbsd.EPIPE
		}, 5*time.Second, time.Millisecond, "the child's exit closed the last read end")
		assert.Equal(t, netbsd.ESRCH, e.errno(netbsd.SYS_kill, childPid, 0), "an exited process is gone")
		assert.Equal(t, uint64(1), grand.ok(netbsd.SYS_getppid), "an orphan's parent is pid 1")
	})
}

func TestAPendingForkExistsButHasNoClient(t *testing.T) {
	forEachSetup(t, withExtensions, func(t *testing.T, e *env) {
		pid := e.ok(netbsd.SYS_getpid)
		ck, err := e.c.Prefork(e.ctx)
		require.NoError(t, err)
		assert.Zero(t, e.errno(netbsd.SYS_kill, pid+1, 0), "the unclaimed child exists")
		assert.Zero(t, e.errno(netbsd.SYS_kill, pid+1, uint64(netbsd.SIGUSR1)), "a signal to it is dropped")
		c, _ := e.dial()
		assert.Error(t, c.HandshakeFork(e.ctx, ck, true), "cancelling closes the connection")
		require.Eventually(t, func() bool {
			return e.errno(netbsd.SYS_kill, pid+1, 0) == netbsd.ESRCH
		}, 5*time.Second, time.Millisecond, "a cancelled fork exits")
	})
}

func TestExecClosesCloseOnExecDescriptors(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		e.create("/tmp/f", "x")
		keep := e.open("/tmp/f", netbsd.O_RDONLY, 0)
		drop := e.open("/tmp/f", netbsd.O_RDONLY|netbsd.O_CLOEXEC, 0)
		require.NoError(t, e.c.HandshakeExec(e.ctx, "newprog"))
		assert.Zero(t, e.errno(netbsd.SYS_fcntl, keep, netbsd.F_GETFD, 0))
		assert.Equal(t, netbsd.EBADF, e.errno(netbsd.SYS_fcntl, drop, netbsd.F_GETFD, 0))
	})
}

func TestKillFollowsNetBSDRulesWithinTheCallersTree(t *testing.T) {
	forEachSetup(t, withExtensions, func(t *testing.T, e *env) {
		self := e.ok(netbsd.SYS_getpid)
		other, otherMem := e.dial()
		require.NoError(t, other.HandshakeGuest(e.ctx))
		otherPid := callOn(t, e.ctx, other, netbsd.SYS_getpid).Retval[0]
		kid := e.fork()
		kidPid := kid.ok(netbsd.SYS_getpid)
		cases := []struct {
			name  string
			pid   int64
			sig   int64
			errno netbsd.Errno
		}{
			{"signal 0 to itself checks existence", int64(self), 0, 0},
			{"even signal 0 to pid 1 (the server, no client's) is EPERM", 1, 0, netbsd.EPERM},
			{"a real signal to pid 1 is EPERM", 1, int64(netbsd.SIGTERM), netbsd.EPERM},
			{"an unknown pid is ESRCH", 29999, 0, netbsd.ESRCH},
			{"a signal number past NSIG is EINVAL", int64(self), 64, netbsd.EINVAL},
			{"a negative signal is EINVAL", int64(self), -1, netbsd.EINVAL},
			{"another client's process is EPERM, root or not", int64(otherPid), int64(netbsd.SIGHUP), netbsd.EPERM},
			{"another client's process group finds no one it may signal: ESRCH", -int64(otherPid), int64(netbsd.SIGINT), netbsd.ESRCH},
			{"its own fork, in its tree", int64(kidPid), int64(netbsd.SIGUSR1), 0},
			{"an empty process group is ESRCH", -12345, int64(netbsd.SIGINT), netbsd.ESRCH},
			{"everyone but itself and pid 1 reaches only its tree", -1, int64(netbsd.SIGUSR2), 0},
			{"its own group: itself and its fork", 0, int64(netbsd.SIGALRM), 0},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				assert.Equal(t, tc.errno, e.errno(netbsd.SYS_kill, neg(tc.pid), neg(tc.sig)))
			})
		}
		e.ok(netbsd.SYS_getpid)
		kid.ok(netbsd.SYS_getpid)
		callOn(t, e.ctx, other, netbsd.SYS_getpid)
		require.Eventually(t, func() bool { return len(kid.mem.Signals()) == 3 }, 5*time.Second, time.Millisecond)
		assert.Equal(t, []int32{int32(netbsd.SIGUSR1), int32(netbsd.SIGUSR2), int32(netbsd.SIGALRM)}, kid.mem.Signals())
		assert.Equal(t, []int32{int32(netbsd.SIGALRM)}, e.mem.Signals(), "kill(-1) skips the caller")
		assert.Empty(t, otherMem.Signals(), "no signal crossed into another client's tree")
	})
}

func TestKillAnyClientLetsSignalsCrossTrees(t *testing.T) {
	tune := func(c *kern.Config) { withExtensions(c); c.KillAnyClient = true }
	e := newEnv(t, setups[0], tune)
	other, otherMem := e.dial()
	require.NoError(t, other.HandshakeGuest(e.ctx))
	otherPid := callOn(t, e.ctx, other, netbsd.SYS_getpid).Retval[0]
	assert.Zero(t, e.errno(netbsd.SYS_kill, otherPid, uint64(netbsd.SIGHUP)))
	assert.Equal(t, netbsd.EPERM, e.errno(netbsd.SYS_kill, 1, 0), "pid 1 is still no client's")
	callOn(t, e.ctx, other, netbsd.SYS_getpid)
	require.Eventually(t, func() bool { return len(otherMem.Signals()) == 1 }, 5*time.Second, time.Millisecond)
}
