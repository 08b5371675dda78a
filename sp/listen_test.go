package sp

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// listenTestContext bounds every network operation in these tests.
func listenTestContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// unixTestURL returns a unix URL for a fresh socket path in a private
// temporary directory.
func unixTestURL(t *testing.T, name string) *URL {
	t.Helper()
	u, err := ParseURL("unix://" + filepath.Join(t.TempDir(), name))
	require.NoError(t, err)
	return u
}

// requireSocketRoundTrip dials u, accepts on l, and moves a few bytes in each
// direction, proving the listener really serves u.
func requireSocketRoundTrip(t *testing.T, ctx context.Context, l net.Listener, u *URL) {
	t.Helper()
	type accepted struct {
		c   net.Conn
		err error
	}
	ch := make(chan accepted, 1)
	go func() {
		c, err := l.Accept()
		ch <- accepted{c, err}
	}()
	client, err := u.Dial(ctx)
	require.NoError(t, err)
	defer client.Close()
	a := <-ch
	require.NoError(t, a.err)
	server := a.c
	defer server.Close()
	tuneConn(server)

	_, err = client.Write([]byte("ping"))
	require.NoError(t, err)
	buf := make([]byte, 4)
	_, err = io.ReadFull(server, buf)
	require.NoError(t, err)
	assert.Equal(t, "ping", string(buf))

	_, err = server.Write([]byte("pong"))
	require.NoError(t, err)
	_, err = io.ReadFull(client, buf)
	require.NoError(t, err)
	assert.Equal(t, "pong", string(buf))
}

// makeStaleSocket leaves a socket file at path with no server behind it, as a
// server that died without cleaning up would.
func makeStaleSocket(t *testing.T, path string) {
	t.Helper()
	l, err := net.Listen("unix", path)
	require.NoError(t, err)
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	require.NoError(t, l.Close())
	fi, err := os.Lstat(path)
	require.NoError(t, err)
	require.Equal(t, fs.ModeSocket, fi.Mode().Type())
}

func TestListenUnixCreatesTheSocketWithMode0600(t *testing.T) {
	ctx := listenTestContext(t)
	u := unixTestURL(t, "rump.sock")
	l, err := u.Listen(ctx)
	require.NoError(t, err)
	defer l.Close()

	fi, err := os.Stat(u.Path)
	require.NoError(t, err)
	assert.Equal(t, fs.ModeSocket, fi.Mode().Type())
	assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm())
	requireSocketRoundTrip(t, ctx, l, u)
}

func TestListenUnixRemovesTheSocketOnClose(t *testing.T) {
	ctx := listenTestContext(t)
	u := unixTestURL(t, "rump.sock")
	l, err := u.Listen(ctx)
	require.NoError(t, err)
	_, err = os.Lstat(u.Path)
	require.NoError(t, err)

	require.NoError(t, l.Close())
	_, err = os.Lstat(u.Path)
	assert.ErrorIs(t, err, fs.ErrNotExist)

	_, err = l.Accept()
	assert.ErrorIs(t, err, net.ErrClosed)
	assert.Error(t, l.Close(), "a second Close reports an error like any net.Listener")
}

func TestListenUnixCloseLeavesAReplacementSocketAlone(t *testing.T) {
	ctx := listenTestContext(t)
	u := unixTestURL(t, "rump.sock")
	l, err := u.Listen(ctx)
	require.NoError(t, err)

	// Someone removes our file and another server binds the path.
	require.NoError(t, os.Remove(u.Path))
	other, err := net.Listen("unix", u.Path)
	require.NoError(t, err)
	defer other.Close()

	require.NoError(t, l.Close())
	_, err = os.Lstat(u.Path)
	assert.NoError(t, err, "the other server's socket must survive our Close")
}

func TestListenUnixReplacesAStaleSocket(t *testing.T) {
	ctx := listenTestContext(t)
	u := unixTestURL(t, "rump.sock")
	makeStaleSocket(t, u.Path)

	l, err := u.Listen(ctx)
	require.NoError(t, err)
	defer l.Close()

	fi, err := os.Stat(u.Path)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm())
	requireSocketRoundTrip(t, ctx, l, u)
}

func TestListenUnixDoesNotStealALiveSocket(t *testing.T) {
	ctx := listenTestContext(t)
	u := unixTestURL(t, "rump.sock")
	first, err := u.Listen(ctx)
	require.NoError(t, err)
	defer first.Close()

	second, err := u.Listen(ctx)
	require.Error(t, err)
	assert.Nil(t, second)
	assert.ErrorIs(t, err, ErrAddrInUse)
	assert.Contains(t, err.Error(), "a server is accepting connections there")

	// The probe that found the server alive is a real connection: the
	// server sees it as an accepted connection that closes at once.
	probe, err := first.Accept()
	require.NoError(t, err)
	_, err = probe.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF)
	probe.Close()

	// The first server still owns the path and still works.
	fi, err := os.Stat(u.Path)
	require.NoError(t, err)
	assert.Equal(t, fs.ModeSocket, fi.Mode().Type())
	requireSocketRoundTrip(t, ctx, first, u)
}

func TestListenUnixNeverRemovesSomethingThatIsNotASocket(t *testing.T) {
	tests := []struct {
		name   string
		create func(t *testing.T, path string)
		check  func(t *testing.T, path string)
	}{
		{
			name: "a regular file is kept with its contents",
			create: func(t *testing.T, path string) {
				require.NoError(t, os.WriteFile(path, []byte("precious"), 0o644))
			},
			check: func(t *testing.T, path string) {
				b, err := os.ReadFile(path)
				require.NoError(t, err)
				assert.Equal(t, "precious", string(b))
			},
		},
		{
			name: "a directory is kept",
			create: func(t *testing.T, path string) {
				require.NoError(t, os.Mkdir(path, 0o755))
			},
			check: func(t *testing.T, path string) {
				fi, err := os.Stat(path)
				require.NoError(t, err)
				assert.True(t, fi.IsDir())
			},
		},
		{
			name: "a symbolic link to a stale socket is kept",
			create: func(t *testing.T, path string) {
				target := path + ".target"
				makeStaleSocket(t, target)
				require.NoError(t, os.Symlink(target, path))
			},
			check: func(t *testing.T, path string) {
				fi, err := os.Lstat(path)
				require.NoError(t, err)
				assert.Equal(t, fs.ModeSymlink, fi.Mode().Type())
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := listenTestContext(t)
			u := unixTestURL(t, "rump.sock")
			tt.create(t, u.Path)

			l, err := u.Listen(ctx)
			require.Error(t, err)
			assert.Nil(t, l)
			assert.ErrorIs(t, err, ErrAddrInUse)
			assert.Contains(t, err.Error(), "is not a socket; not removing it")
			tt.check(t, u.Path)
		})
	}
}

func TestListenUnixWorksAtTheSunPathLimit(t *testing.T) {
	ctx := listenTestContext(t)
	dir := t.TempDir()
	room := MaxUnixPath - len(dir) - 1
	if room < 1 {
		t.Skipf("temporary directory %q leaves no room for a %d-byte socket path", dir, MaxUnixPath)
	}
	u, err := ParseURL("unix://" + filepath.Join(dir, strings.Repeat("s", room)))
	require.NoError(t, err)
	require.Len(t, u.Path, MaxUnixPath)

	l, err := u.Listen(ctx)
	require.NoError(t, err)
	defer l.Close()
	requireSocketRoundTrip(t, ctx, l, u)
}

func TestListenAndDialRecheckAHandBuiltURL(t *testing.T) {
	ctx := listenTestContext(t)
	tests := []struct {
		name string
		u    URL
	}{
		{"a relative unix path is refused", URL{Scheme: SchemeUnix, Path: "rel.sock"}},
		{"an empty unix path is refused", URL{Scheme: SchemeUnix}},
		{"an over-long unix path is refused", URL{Scheme: SchemeUnix, Path: "/" + strings.Repeat("x", MaxUnixPath)}},
		{"an unknown scheme is refused", URL{Scheme: "udp", Addr: netip.MustParseAddr("127.0.0.1"), Port: 1}},
		{"an IPv6 address under tcp is refused", URL{Scheme: SchemeTCP, Addr: netip.MustParseAddr("::1"), Port: 1}},
		{"an IPv4 address under tcp6 is refused", URL{Scheme: SchemeTCP6, Addr: netip.MustParseAddr("127.0.0.1"), Port: 1}},
		{"a missing tcp address is refused", URL{Scheme: SchemeTCP, Port: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := tt.u.Listen(ctx)
			assert.Nil(t, l)
			assert.ErrorIs(t, err, ErrBadURL)
			c, err := tt.u.Dial(ctx)
			assert.Nil(t, c)
			assert.ErrorIs(t, err, ErrBadURL)
		})
	}
}

func TestListenAndDialOverUnix(t *testing.T) {
	ctx := listenTestContext(t)
	u := unixTestURL(t, "rump.sock")
	l, err := u.Listen(ctx)
	require.NoError(t, err)
	defer l.Close()
	requireSocketRoundTrip(t, ctx, l, u)
}

func TestListenAndDialOverTCPOnLoopback(t *testing.T) {
	ctx := listenTestContext(t)
	su, err := ParseURL("tcp://127.0.0.1:0")
	require.NoError(t, err)
	l, err := su.Listen(ctx)
	require.NoError(t, err)
	defer l.Close()

	cu := tcpURLFor(t, SchemeTCP, l.Addr())
	assert.Equal(t, "127.0.0.1", cu.Addr.String())
	assert.NotZero(t, cu.Port)
	requireSocketRoundTrip(t, ctx, l, cu)
}

func TestListenAndDialOverTCP6OnLoopback(t *testing.T) {
	skipWithoutIPv6Loopback(t)
	ctx := listenTestContext(t)
	su, err := ParseURL("tcp6://[::1]:0")
	require.NoError(t, err)
	l, err := su.Listen(ctx)
	require.NoError(t, err)
	defer l.Close()

	cu := tcpURLFor(t, SchemeTCP6, l.Addr())
	assert.Equal(t, "::1", cu.Addr.String())
	requireSocketRoundTrip(t, ctx, l, cu)
}

func TestListenAcceptsTheWildcardAddress(t *testing.T) {
	tests := []struct {
		name, url, dial string
		needsIPv6       bool
	}{
		{"a tcp star server is reachable on 127.0.0.1", "tcp://*:0", "127.0.0.1", false},
		{"a tcp zero server is reachable on 127.0.0.1", "tcp://0:0", "127.0.0.1", false},
		{"a tcp6 bracketed :: server is reachable on ::1", "tcp6://[::]:0", "::1", true},
		{"a tcp6 star server is reachable on ::1", "tcp6://*:0", "::1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needsIPv6 {
				skipWithoutIPv6Loopback(t)
			}
			ctx := listenTestContext(t)
			su, err := ParseURL(tt.url)
			require.NoError(t, err)
			l, err := su.Listen(ctx)
			require.NoError(t, err)
			defer l.Close()

			cu := tcpURLFor(t, su.Scheme, l.Addr())
			require.True(t, cu.Addr.IsUnspecified())
			cu.Addr = netip.MustParseAddr(tt.dial)
			requireSocketRoundTrip(t, ctx, l, cu)
		})
	}
}

func TestListenTCPReportsABoundPortAsInUse(t *testing.T) {
	ctx := listenTestContext(t)
	su, err := ParseURL("tcp://127.0.0.1:0")
	require.NoError(t, err)
	first, err := su.Listen(ctx)
	require.NoError(t, err)
	defer first.Close()

	again := tcpURLFor(t, SchemeTCP, first.Addr())
	second, err := again.Listen(ctx)
	require.Error(t, err)
	assert.Nil(t, second)
	assert.ErrorIs(t, err, ErrAddrInUse)
}

func TestDialRejectsAddressesOnlyAServerMayUse(t *testing.T) {
	ctx := listenTestContext(t)
	tests := []struct {
		name, url, reason string
	}{
		{"a tcp star host is refused", "tcp://*:4000", "the wildcard address is only valid for a server"},
		{"a tcp zero host is refused", "tcp://0:4000", "the wildcard address is only valid for a server"},
		{"a tcp 0.0.0.0 host is refused", "tcp://0.0.0.0:4000", "the wildcard address is only valid for a server"},
		{"a tcp6 bracketed :: host is refused", "tcp6://[::]:4000", "the wildcard address is only valid for a server"},
		{"a tcp6 star host is refused", "tcp6://*:4000", "the wildcard address is only valid for a server"},
		{"tcp port zero is refused", "tcp://127.0.0.1:0", "port 0 is only valid for a server"},
		{"tcp6 port zero is refused", "tcp6://[::1]:0", "port 0 is only valid for a server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := ParseURL(tt.url)
			require.NoError(t, err)
			c, err := u.Dial(ctx)
			assert.Nil(t, c)
			assert.ErrorIs(t, err, ErrBadURL)
			assert.ErrorContains(t, err, tt.reason)
		})
	}
}

func TestDialReportsAMissingServer(t *testing.T) {
	ctx := listenTestContext(t)
	u := unixTestURL(t, "nobody.sock")
	c, err := u.Dial(ctx)
	assert.Nil(t, c)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "sp: dial unix://"+u.Path), "error %q", err)
	assert.False(t, errors.Is(err, ErrBadURL))
}

func TestDialTuneConnIgnoresNonTCPConnections(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	assert.NotPanics(t, func() { tuneConn(a) })
}

// tcpURLFor turns a listener address into a client URL of the given scheme.
func tcpURLFor(t *testing.T, scheme string, a net.Addr) *URL {
	t.Helper()
	ta, ok := a.(*net.TCPAddr)
	require.True(t, ok, "listener address %v is not TCP", a)
	ap := ta.AddrPort()
	return &URL{Scheme: scheme, Addr: ap.Addr().Unmap(), Port: ap.Port()}
}

// skipWithoutIPv6Loopback skips the test, saying why, when ::1 cannot be
// bound on this machine.
func skipWithoutIPv6Loopback(t *testing.T) {
	t.Helper()
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("skipping: this machine has no usable IPv6 loopback (listen on [::1]:0: %v)", err)
	}
	l.Close()
}
