//go:build linux

package sp

import (
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withUmask runs f with the process umask set to mask. The umask is process
// wide, so callers must not be parallel tests.
func withUmask(mask int, f func()) {
	old := syscall.Umask(mask)
	defer syscall.Umask(old)
	f()
}

func TestListenUnixModeIsIndependentOfTheUmask(t *testing.T) {
	for _, mask := range []int{0, 0o022, 0o077, 0o277, 0o777} {
		t.Run("umask "+fs.FileMode(mask).String(), func(t *testing.T) {
			ctx := listenTestContext(t)
			u := unixTestURL(t, "rump.sock")
			var l net.Listener
			var err error
			withUmask(mask, func() { l, err = u.Listen(ctx) })
			require.NoError(t, err)
			defer l.Close()

			fi, err := os.Stat(u.Path)
			require.NoError(t, err)
			assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm())
		})
	}
}

// Proves the race-free claim: the socket file is born 0600, before the chmod
// that Listen does afterwards, even when the umask would allow everything.
func TestListenUnixSocketIsBornWithMode0600(t *testing.T) {
	path := filepath.Join(t.TempDir(), "born.sock")
	lc := net.ListenConfig{Control: unixSocketControl}
	var l net.Listener
	var err error
	withUmask(0, func() { l, err = lc.Listen(listenTestContext(t), "unix", path) })
	require.NoError(t, err)
	defer l.Close()

	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm())
}

func TestDialedAndAcceptedTCPConnectionsHaveNoDelay(t *testing.T) {
	ctx := listenTestContext(t)
	su, err := ParseURL("tcp://127.0.0.1:0")
	require.NoError(t, err)
	l, err := su.Listen(ctx)
	require.NoError(t, err)
	defer l.Close()

	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			c = nil
		}
		accepted <- c
	}()
	client, err := tcpURLFor(t, SchemeTCP, l.Addr()).Dial(ctx)
	require.NoError(t, err)
	defer client.Close()
	server := <-accepted
	require.NotNil(t, server)
	defer server.Close()

	assert.True(t, tcpNoDelay(t, client), "the dialed connection has TCP_NODELAY")

	// Undo net's default, so the check below shows tuneConn itself sets it.
	require.NoError(t, server.(*net.TCPConn).SetNoDelay(false))
	require.False(t, tcpNoDelay(t, server))
	tuneConn(server)
	assert.True(t, tcpNoDelay(t, server), "tuneConn sets TCP_NODELAY on an accepted connection")
}

// tcpNoDelay reads TCP_NODELAY back from the kernel.
func tcpNoDelay(t *testing.T, c net.Conn) bool {
	t.Helper()
	rc, err := c.(*net.TCPConn).SyscallConn()
	require.NoError(t, err)
	var v int
	var gerr error
	require.NoError(t, rc.Control(func(fd uintptr) {
		v, gerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_NODELAY)
	}))
	require.NoError(t, gerr)
	return v != 0
}
