package rig_test

import (
	"context"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/kern"
	"github.com/rumpsprig/sprig/rig"
	"github.com/rumpsprig/sprig/sp"
)

// lackingKernel is kern's kernel without some syscalls: they answer
// ENOSYS, as a server whose kernel lacks them does.
type lackingKernel struct {
	sp.Kernel
	missing map[netbsd.Sysno]bool
}

func (k lackingKernel) NewProcess(ctx context.Context, c sp.ClientInfo) (sp.Process, error) {
	p, err := k.Kernel.NewProcess(ctx, c)
	return lackingProc{p, k.missing}, err
}

type lackingProc struct {
	sp.Process
	missing map[netbsd.Sysno]bool
}

func (p lackingProc) Syscall(ctx context.Context, req *sp.SyscallRequest) sp.Result {
	if p.missing[req.Num] {
		return sp.Result{Errno: netbsd.ENOSYS}
	}
	return p.Process.Syscall(ctx, req)
}

func (p lackingProc) Fork(ctx context.Context) (sp.Process, error) {
	c, err := p.Process.Fork(ctx)
	return lackingProc{c, p.missing}, err
}

func (p lackingProc) Attach(c sp.ClientInfo) (sp.Process, error) {
	a, err := p.Process.Attach(c)
	return lackingProc{a, p.missing}, err
}

// outsideServer runs an sp server with k on a unix socket as an outside
// server would be, behind a listener wrapper, until the test ends.
func outsideServer(t *testing.T, d *abi.Descriptor, k sp.Kernel, wrap func(net.Listener) net.Listener) string {
	t.Helper()
	url := "unix://" + filepath.Join(t.TempDir(), "rump.sock")
	u, err := sp.ParseURL(url)
	require.NoError(t, err)
	ln, err := u.Listen(context.Background())
	require.NoError(t, err)
	if wrap != nil {
		ln = wrap(ln)
	}
	cfg := sp.DefaultServerConfig(d)
	cfg.HideABI, cfg.IgnoreDeclarations = true, true
	srv, err := sp.NewServer(k, cfg)
	require.NoError(t, err)
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return url
}

func kernFor(t *testing.T, d *abi.Descriptor) *kern.Kernel {
	t.Helper()
	cfg := kern.DefaultConfig()
	cfg.ABI = d
	cfg.Extensions = kern.ExtAll // as sprig's own kernel runs for the rig
	k, err := kern.New(cfg)
	require.NoError(t, err)
	return k
}

// TestRunAgainstAServerLackingSyscalls: what the server lacks makes the
// scenarios that need it unsupported, saying which syscall, and never
// failed; the others pass.
func TestRunAgainstAServerLackingSyscalls(t *testing.T) {
	d := abi.MustLookup("amd64")
	k := lackingKernel{kernFor(t, d), map[netbsd.Sysno]bool{
		netbsd.SYS_pipe: true, netbsd.SYS___sysctl: true, netbsd.SYS___mount50: true, netbsd.SYS_rename: true,
	}}
	url := outsideServer(t, d, k, nil)
	r := newRig(t, rig.Options{})
	rep, err := r.Run(context.Background(), rig.Pair{Client: d, URL: url})
	require.NoError(t, err)
	assert.Equal(t, "amd64", rep.Server, "from the banner's machine word")
	want := map[string]string{
		"pipe": "pipe (ENOSYS)", "concurrent": "pipe (ENOSYS)", "fork": "pipe (ENOSYS)",
		"mmap-anon": "pipe (ENOSYS)", "dup-fcntl": "pipe (ENOSYS)", "sysctl": "__sysctl (ENOSYS)",
		"dirs": "no rename",
	}
	for _, x := range rep.Results {
		if w, ok := want[x.Scenario]; ok {
			assert.Equal(t, guestapi.Unsupported, x.Status, "%s: %s", x.Scenario, x.Detail)
			assert.Contains(t, x.Detail, w, x.Scenario)
			continue
		}
		assert.Equal(t, guestapi.Pass, x.Status, "%s: %s %s", x.Scenario, x.Layer, x.Detail)
	}
	n := rep.Counts
	assert.Equal(t, len(want), n.Unsupported)
	assert.Zero(t, n.Fail)

	j := rep.JUnit()
	assert.Equal(t, len(want), j.Skipped, "unsupported scenarios are skipped testcases")
	assert.Zero(t, j.Failures)
}

// droppingListener closes the nth accepted connection after it has
// carried limit bytes from the client, like a server that dies or a
// network that breaks mid-scenario.
type droppingListener struct {
	net.Listener
	n, limit int
	accepted atomic.Int32
}

func (l *droppingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil || int(l.accepted.Add(1)) != l.n {
		return c, err
	}
	return &droppingConn{Conn: c, left: l.limit}, nil
}

type droppingConn struct {
	net.Conn
	mu   sync.Mutex
	left int
}

func (c *droppingConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	left := c.left
	c.mu.Unlock()
	if left <= 0 {
		c.Conn.Close()
		return 0, net.ErrClosed
	}
	n, err := c.Conn.Read(p[:min(len(p), left)])
	c.mu.Lock()
	c.left -= n
	c.mu.Unlock()
	return n, err
}

// TestRunAgainstAServerThatDropsTheConnection: a connection dropped in
// the middle of a scenario is that scenario's clear failure
// (disconnect); every other scenario runs on a connection of its own and
// passes.
func TestRunAgainstAServerThatDropsTheConnection(t *testing.T) {
	d := abi.MustLookup("arm64")
	// The scenarios connect in order: 1 is handshake, 2 getpid, 3 file-io.
	// (evbarm64 is arm64's and aarch64eb's machine word: the server's ABI
	// is named, so no connection reads the banner first.)
	url := outsideServer(t, d, kernFor(t, d), func(ln net.Listener) net.Listener {
		return &droppingListener{Listener: ln, n: 3, limit: 200}
	})
	r := newRig(t, rig.Options{})
	rep, err := r.Run(context.Background(), rig.Pair{Client: d, Server: d, URL: url})
	require.NoError(t, err)
	for _, x := range rep.Results {
		if x.Scenario == "file-io" {
			assert.Equal(t, guestapi.Fail, x.Status)
			assert.Equal(t, guestapi.LayerDisconnect, x.Layer, x.Detail)
			assert.Contains(t, x.Detail, "connection closed")
			assert.NotEmpty(t, x.Trace, "the failure carries the client's last syscalls")
			continue
		}
		assert.Contains(t, []guestapi.Status{guestapi.Pass, guestapi.Unsupported}, x.Status, "%s: %s", x.Scenario, x.Detail)
	}
	assert.Equal(t, 1, rep.Counts.Fail)
}
