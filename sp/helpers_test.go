package sp_test

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/sptest"
)

// testServer is a sprig server with the test kernel on a real socket.
type testServer struct {
	srv    *sp.Server
	kernel *sptest.Kernel
	url    string
}

func startServer(t testing.TB, scheme string, cfg sp.ServerConfig) *testServer {
	t.Helper()
	k := sptest.NewKernel()
	srv, err := sp.NewServer(k, cfg)
	require.NoError(t, err)
	var url string
	switch scheme {
	case "unix":
		url = "unix://" + filepath.Join(t.TempDir(), "sp.sock")
	case "tcp":
		url = "tcp://127.0.0.1:0"
	}
	u, err := sp.ParseURL(url)
	require.NoError(t, err)
	ln, err := u.Listen(context.Background())
	require.NoError(t, err)
	if scheme == "tcp" {
		url = "tcp://" + ln.Addr().(*net.TCPAddr).String()
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
		require.ErrorIs(t, <-done, sp.ErrServerClosed)
	})
	return &testServer{srv: srv, kernel: k, url: url}
}

// dialClient connects a client of ABI d with its own memory.
func dialClient(t testing.TB, url string, cfg sp.ClientConfig) (*sp.Client, *sptest.Memory) {
	t.Helper()
	base := uint64(0x10000)
	if cfg.ABI.LP64() {
		base = 0x7f00_0000_0000 // high addresses expose 32-bit truncation
	}
	mem := sptest.NewMemory(base, 1<<20)
	cfg.Memory = mem
	c, err := sp.Dial(context.Background(), url, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c, mem
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustABI(name string) *abi.Descriptor { return abi.MustLookup(name) }
