//go:build unix

package bench

import (
	"net"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The floor is a C-like ping-pong: both of its ends block in read(2)
// and write(2), with no netpoller in between, and each turn's bytes
// arrive whole.
func TestTheFloorsSocketsBlockInTheKernel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "floor.sock")
	ln, err := net.Listen("unix", path)
	require.NoError(t, err)
	defer ln.Close()
	peer := make(chan syscall.RawConn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(peer)
			return
		}
		rc, _ := c.(*net.UnixConn).SyscallConn()
		peer <- rc
		servePeer(c)
	}()
	s := Script{{In: 24, Out: 48}, {In: 40, Out: 152}}
	f, err := dialFloor(path, s, true)
	require.NoError(t, err)
	defer f.Close()
	for range 3 {
		require.NoError(t, f.iteration())
	}
	blocking := func(fd uintptr) bool {
		flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
		require.Zero(t, errno)
		return flags&syscall.O_NONBLOCK == 0
	}
	bs, ok := f.c.(*blockingSocket)
	require.True(t, ok, "the floor's client end is a %T", f.c)
	assert.True(t, blocking(uintptr(bs.fd)), "the client's end blocks")
	rc := <-peer
	require.NotNil(t, rc)
	rc.Control(func(fd uintptr) { assert.True(t, blocking(fd), "the peer's end blocks") })
}
