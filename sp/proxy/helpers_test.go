package proxy_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/kern"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/proxy"
	"github.com/rumpsprig/sprig/sp/sptest"
)

// highBase is where a 64-bit test client's memory lies: above 4 GiB, as
// on a real amd64 process, so that any truncation to 32 bits shows.
const highBase = 0x7ffe_bda2_e000

// lowBase is a 32-bit client's.
const lowBase = 0x0804_8000

// sockDir returns a short directory for unix sockets (sun_path holds 104
// bytes; test temp dirs can be longer).
func sockDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "spx")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// listen opens a unix socket in a short directory.
func listen(t testing.TB, name string) (net.Listener, string) {
	t.Helper()
	url := "unix://" + filepath.Join(sockDir(t), name)
	u, err := sp.ParseURL(url)
	require.NoError(t, err)
	ln, err := u.Listen(context.Background())
	require.NoError(t, err)
	return ln, url
}

// cServer starts an sp.Server of ABI server configured as a C server
// (it ignores declarations and hides its ABI), with kern behind it.
func cServer(t testing.TB, server string, mutate func(*sp.ServerConfig)) (*sp.Server, string) {
	t.Helper()
	d := abi.MustLookup(server)
	kc := kern.DefaultConfig()
	kc.ABI = d
	kc.Extensions = kern.ExtAll
	k, err := kern.New(kc)
	require.NoError(t, err)
	sc := sp.DefaultServerConfig(d)
	sc.IgnoreDeclarations, sc.HideABI = true, true
	if mutate != nil {
		mutate(&sc)
	}
	srv, err := sp.NewServer(k, sc)
	require.NoError(t, err)
	ln, url := listen(t, "srv.sock")
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
	return srv, url
}

// startProxy runs a proxy for clients of ABI client in front of upstream.
// The server's ABI comes from server (a C server's banner cannot tell
// every ABI apart).
func startProxy(t testing.TB, client, server, upstream string, mutate func(*proxy.Config)) (*proxy.Proxy, string) {
	t.Helper()
	cfg := proxy.DefaultConfig()
	cfg.ClientABI = abi.MustLookup(client)
	cfg.ServerABI = abi.MustLookup(server)
	cfg.Upstream = upstream
	if mutate != nil {
		mutate(&cfg)
	}
	p, err := proxy.New(cfg)
	require.NoError(t, err)
	ln, url := listen(t, "prx.sock")
	done := make(chan error, 1)
	go func() { done <- p.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, p.Shutdown(ctx))
		require.ErrorIs(t, <-done, proxy.ErrClosed)
	})
	return p, url
}

// cClient returns the configuration of an sp.Client that behaves as an
// unmodified C client of ABI name: native mode, reading what it gets the
// C way, with its memory at base.
func cClient(name string, base uint64) (sp.ClientConfig, *sptest.Memory) {
	cfg := sp.DefaultClientConfig(abi.MustLookup(name))
	cfg.Faithful = true
	cfg.ArgFill = 0
	mem := sptest.NewMemory(base, 1<<20)
	cfg.Memory = mem
	cfg.OnSignal = mem.Raise
	return cfg, mem
}

func baseFor(name string) uint64 {
	if abi.MustLookup(name).LP64() {
		return highBase
	}
	return lowBase
}

func dial(t testing.TB, url string, cfg sp.ClientConfig) *sp.Client {
	t.Helper()
	c, err := sp.Dial(ctxT(t), url, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
