package sp_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/sptest"
)

func TestServerConfigIsVerifiedNamingTheBadField(t *testing.T) {
	cases := []struct {
		name  string
		mod   func(*sp.ServerConfig)
		field string
	}{
		{"nil ABI", func(c *sp.ServerConfig) { c.ABI = nil }, "ABI"},
		{"unknown version", func(c *sp.ServerConfig) { c.Version = sp.Version{Major: 0, Minor: 3} }, "Version"},
		{"no clients allowed", func(c *sp.ServerConfig) { c.MaxClients = 0 }, "MaxClients"},
		{"no workers", func(c *sp.ServerConfig) { c.MaxSyscalls = 0 }, "MaxSyscalls"},
		{"more idle than workers", func(c *sp.ServerConfig) { c.IdleWorkers = 1000 }, "IdleWorkers"},
		{"tiny frames", func(c *sp.ServerConfig) { c.MaxFrame = 10 }, "MaxFrame"},
		{"no syscalls per client", func(c *sp.ServerConfig) { c.MaxSyscallsPerClient = 0 }, "MaxSyscallsPerClient"},
		{"no queue", func(c *sp.ServerConfig) { c.MaxQueuedSyscalls = 0 }, "MaxQueuedSyscalls"},
		{"a client budget smaller than a frame", func(c *sp.ServerConfig) { c.MaxClientBytes = int64(c.MaxFrame) - 1 }, "MaxClientBytes"},
		{"a server budget smaller than a client's", func(c *sp.ServerConfig) { c.MaxServerBytes = c.MaxClientBytes - 1 }, "MaxServerBytes"},
		{"no pending forks", func(c *sp.ServerConfig) { c.MaxPendingForks = 0 }, "MaxPendingForks"},
		{"no pending forks per client", func(c *sp.ServerConfig) { c.MaxPendingForksPerClient = 0 }, "MaxPendingForksPerClient"},
		{"forks that never expire", func(c *sp.ServerConfig) { c.PendingForkTimeout = 0 }, "PendingForkTimeout"},
		{"no declared ABIs", func(c *sp.ServerConfig) { c.MaxDeclaredABIs = 0 }, "MaxDeclaredABIs"},
		{"no handshake timeout", func(c *sp.ServerConfig) { c.HandshakeTimeout = 0 }, "HandshakeTimeout"},
		{"a negative idle timeout", func(c *sp.ServerConfig) { c.IdleTimeout = -1 }, "IdleTimeout"},
		{"no write timeout", func(c *sp.ServerConfig) { c.WriteTimeout = 0 }, "WriteTimeout"},
		{"a negative copy timeout", func(c *sp.ServerConfig) { c.CopyTimeout = -1 }, "CopyTimeout"},
		{"a negative read spin", func(c *sp.ServerConfig) { c.ReadSpin = -1 }, "ReadSpin"},
		{"a read spin that never sleeps", func(c *sp.ServerConfig) { c.ReadSpin = sp.MaxReadSpin + 1 }, "ReadSpin"},
		{"banner too long", func(c *sp.ServerConfig) { c.OSRelease = string(bytes.Repeat([]byte("9"), 90)) }, "OSRelease"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := sp.DefaultServerConfig(mustABI("amd64"))
			tc.mod(&cfg)
			_, err := sp.NewServer(sptest.NewKernel(), cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "config: "+tc.field+" ")
		})
	}
}

func TestDefaultServerConfigIsValid(t *testing.T) {
	_, err := sp.NewServer(sptest.NewKernel(), sp.DefaultServerConfig(mustABI("amd64")))
	require.NoError(t, err)
}

func TestFullQueueAnswersTryAgainToTheClientHoldingTheMost(t *testing.T) {
	for _, v := range []sp.Version{sp.Version01, sp.Version04} {
		t.Run(v.String(), func(t *testing.T) {
			cfg := sp.DefaultServerConfig(mustABI("amd64"))
			cfg.Version = v
			cfg.MaxSyscalls, cfg.MaxSyscallsPerClient, cfg.MaxQueuedSyscalls, cfg.IdleWorkers = 1, 1, 1, 0
			ts := startServer(t, "unix", cfg)
			ts.kernel.Block = make(chan struct{})
			ctx := ctxT(t)

			// The hog runs one blocked call and queues a second: the
			// queue (one call) is full.
			hcfg := sp.DefaultClientConfig(mustABI("amd64"))
			hcfg.TryAgain = 0
			hog, _ := dialClient(t, ts.url, hcfg)
			require.NoError(t, hog.HandshakeGuest(ctx))
			first, second := make(chan error, 1), make(chan error, 1)
			go func() { _, err := hog.Syscall(ctx, sptest.BlockSyscall, 0); first <- err }()
			require.Eventually(t, func() bool { return ts.srv.Stats().RunningSyscalls == 1 }, 5*time.Second, time.Millisecond)
			go func() { _, err := hog.Syscall(ctx, sptest.BlockSyscall, 0); second <- err }()
			require.Eventually(t, func() bool { return ts.srv.Stats().QueuedSyscalls == 1 }, 5*time.Second, time.Millisecond)

			var se *sp.ServerError
			_, err := hog.Syscall(ctx, sptest.NullSyscall)
			require.ErrorAs(t, err, &se, "the client holding the most queued calls gets TRYAGAIN/EAGAIN")
			assert.Equal(t, netbsd.EAGAIN, se.Errno())

			// Another client is served at once: its call pushes the hog's
			// newest queued call out (TRYAGAIN) and runs although the one
			// worker is blocked, as it has none running.
			other, _ := dialClient(t, ts.url, sp.DefaultClientConfig(mustABI("amd64")))
			require.NoError(t, other.HandshakeGuest(ctx))
			_, err = other.Syscall(ctx, sptest.NullSyscall)
			require.NoError(t, err, "a client with nothing queued is served while the queue is full")
			require.ErrorAs(t, <-second, &se, "the hog's queued call was pushed out")
			assert.Equal(t, netbsd.EAGAIN, se.Errno())

			close(ts.kernel.Block)
			require.NoError(t, <-first)
		})
	}
}

func TestShutdownDrainsInFlightSyscalls(t *testing.T) {
	k := sptest.NewKernel()
	k.Block = make(chan struct{})
	srv, err := sp.NewServer(k, sp.DefaultServerConfig(mustABI("amd64")))
	require.NoError(t, err)
	u, err := sp.ParseURL("unix://" + t.TempDir() + "/s")
	require.NoError(t, err)
	ln, err := u.Listen(context.Background())
	require.NoError(t, err)
	go srv.Serve(ln)

	ctx := ctxT(t)
	c, _ := dialClient(t, u.String(), sp.DefaultClientConfig(mustABI("amd64")))
	require.NoError(t, c.HandshakeGuest(ctx))
	res := make(chan error, 1)
	go func() { _, err := c.Syscall(ctx, sptest.BlockSyscall, 0); res <- err }()
	require.Eventually(t, func() bool { return k.Procs() == 1 }, time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond)

	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(ctx) }()
	time.Sleep(20 * time.Millisecond)
	select {
	case <-shut:
		t.Fatal("Shutdown returned while a syscall was still running")
	default:
	}
	close(k.Block)
	require.NoError(t, <-res, "the in-flight syscall completes during a draining shutdown")
	require.NoError(t, <-shut)
	assert.Equal(t, 1, k.Exits(), "the client's process exits at shutdown")
	_, err = sp.Dial(ctx, u.String(), sp.DefaultClientConfig(mustABI("amd64")))
	assert.Error(t, err, "the socket is gone after shutdown")
}

func TestShutdownCancelsInFlightSyscallsWhenItsContextEnds(t *testing.T) {
	k := sptest.NewKernel()
	k.Block = make(chan struct{}) // never closed
	srv, err := sp.NewServer(k, sp.DefaultServerConfig(mustABI("amd64")))
	require.NoError(t, err)
	u, _ := sp.ParseURL("unix://" + t.TempDir() + "/s")
	ln, err := u.Listen(context.Background())
	require.NoError(t, err)
	go srv.Serve(ln)
	ctx := ctxT(t)
	c, _ := dialClient(t, u.String(), sp.DefaultClientConfig(mustABI("amd64")))
	require.NoError(t, c.HandshakeGuest(ctx))
	res := make(chan error, 1)
	go func() { _, err := c.Syscall(ctx, sptest.BlockSyscall, 0); res <- err }()
	time.Sleep(30 * time.Millisecond)

	sctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, srv.Shutdown(sctx), context.DeadlineExceeded)
	require.ErrorIs(t, <-res, sp.ErrClosed, "the cancelled syscall's client sees its connection end")
	assert.Equal(t, 1, k.Exits())
}

func TestManySyscallsInFlightOnOneConnectionMatchByReqno(t *testing.T) {
	ts := startServer(t, "unix", sp.DefaultServerConfig(mustABI("amd64")))
	ctx := ctxT(t)
	c, mem := dialClient(t, ts.url, sp.DefaultClientConfig(mustABI("arm64")))
	require.NoError(t, c.HandshakeGuest(ctx))
	ts.kernel.Block = make(chan struct{})
	blocked := make(chan error, 1)
	go func() { _, err := c.Syscall(ctx, sptest.BlockSyscall, 0); blocked <- err }()

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			path := mem.AllocString("/f" + string(rune('a'+i%26)))
			r, err := c.Syscall(ctx, netbsd.SYS_open, path, netbsd.O_CREAT|netbsd.O_RDWR, 0o600)
			if err == nil && r.Errno != 0 {
				err = r.Errno
			}
			if err == nil {
				r, err = c.Syscall(ctx, netbsd.SYS_getpid)
				if err == nil && r.Retval != [2]uint64{2, 1} {
					err = errors.New("getpid answered another call's reply")
				}
			}
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	close(ts.kernel.Block)
	require.NoError(t, <-blocked, "a blocked syscall does not hold up the others on its connection")
}

func TestPreforkAndForkHandshakeGiveTheChildTheParentsFdsAndABI(t *testing.T) {
	for _, mode := range []sp.Mode{sp.ModeNative, sp.ModeServerTranslates} {
		t.Run(mode.String(), func(t *testing.T) {
			ts := startServer(t, "unix", sp.DefaultServerConfig(mustABI("amd64")))
			ctx := ctxT(t)
			client := "amd64"
			if mode == sp.ModeServerTranslates {
				client = "mips"
			}
			cfg := sp.DefaultClientConfig(mustABI(client))
			cfg.Mode = mode
			parent, mem := dialClient(t, ts.url, cfg)
			require.NoError(t, parent.HandshakeGuest(ctx))
			r, err := parent.Syscall(ctx, netbsd.SYS_open, mem.AllocString("/shared"), netbsd.O_CREAT|netbsd.O_RDWR, 0o600)
			require.NoError(t, err)
			fd := r.Retval[0]
			ck, err := parent.Prefork(ctx)
			require.NoError(t, err)
			assert.Equal(t, 1, ts.srv.PendingForks())

			childCfg := cfg
			childCfg.Mode = sp.ModeNative // the child's ABI comes from its parent
			child, cmem := dialClient(t, ts.url, childCfg)
			require.NoError(t, child.HandshakeFork(ctx, ck, false))
			assert.Equal(t, 0, ts.srv.PendingForks())
			r, err = child.Syscall(ctx, netbsd.SYS_getpid)
			require.NoError(t, err)
			assert.Equal(t, uint64(3), r.Retval[0])
			assert.Equal(t, uint64(2), r.Retval[1], "the child's parent is the preforking process")

			msg := []byte("from the child")
			r, err = child.Syscall(ctx, netbsd.SYS_write, fd, cmem.Alloc(len(msg), msg), uint64(len(msg)))
			require.NoError(t, err)
			require.Zero(t, r.Errno, "the inherited fd is open in the child")
			assert.Equal(t, uint64(len(msg)), r.Retval[0])

			require.NoError(t, child.HandshakeExec(ctx, "newprog"))

			again, _ := dialClient(t, ts.url, childCfg)
			err = again.HandshakeFork(ctx, ck, false)
			var se *sp.ServerError
			require.ErrorAs(t, err, &se, "a cookie is single-use")
			assert.Equal(t, netbsd.ESRCH, se.Errno())
		})
	}
}

func TestForkCancelDropsThePendingProcess(t *testing.T) {
	ts := startServer(t, "unix", sp.DefaultServerConfig(mustABI("amd64")))
	ctx := ctxT(t)
	parent, _ := dialClient(t, ts.url, sp.DefaultClientConfig(mustABI("amd64")))
	require.NoError(t, parent.HandshakeGuest(ctx))
	ck, err := parent.Prefork(ctx)
	require.NoError(t, err)
	child, _ := dialClient(t, ts.url, sp.DefaultClientConfig(mustABI("amd64")))
	assert.Error(t, child.HandshakeFork(ctx, ck, true), "the server closes a cancelled fork's connection")
	require.Eventually(t, func() bool { return ts.kernel.Exits() == 1 }, time.Second, time.Millisecond)
	assert.Equal(t, 0, ts.srv.PendingForks())
}

func TestNativeModeAcrossMismatchedABIsFailsAsRealMachinesWould(t *testing.T) {
	t.Run("an ILP32 client cannot read an LP64 server's sysresp", func(t *testing.T) {
		ts := startServer(t, "unix", sp.DefaultServerConfig(mustABI("amd64")))
		ctx := ctxT(t)
		c, _ := dialClient(t, ts.url, sp.DefaultClientConfig(mustABI("i386")))
		require.NoError(t, c.HandshakeGuest(ctx))
		_, err := c.Syscall(ctx, netbsd.SYS_getpid)
		require.ErrorIs(t, err, sp.ErrBodySize)
		assert.Contains(t, err.Error(), "rsp_sysresp body is 24 bytes, i386 expects 12")
	})
	t.Run("a big-endian client's first header is an absurd length to a little-endian server", func(t *testing.T) {
		ts := startServer(t, "unix", sp.DefaultServerConfig(mustABI("amd64")))
		ctx := ctxT(t)
		c, _ := dialClient(t, ts.url, sp.DefaultClientConfig(mustABI("mips")))
		require.Error(t, c.HandshakeGuest(ctx), "the server drops the client like a C server would")
		ok, _ := dialClient(t, ts.url, sp.DefaultClientConfig(mustABI("amd64")))
		require.NoError(t, ok.HandshakeGuest(ctx), "and keeps serving others")
	})
	t.Run("a server told to assume the client's ABI serves it without a declaration", func(t *testing.T) {
		cfg := sp.DefaultServerConfig(mustABI("amd64"))
		cfg.AssumeClientABI = mustABI("i386")
		ts := startServer(t, "unix", cfg)
		ctx := ctxT(t)
		c, _ := dialClient(t, ts.url, sp.DefaultClientConfig(mustABI("i386")))
		require.NoError(t, c.HandshakeGuest(ctx))
		r, err := c.Syscall(ctx, netbsd.SYS_getpid)
		require.NoError(t, err)
		assert.Equal(t, [2]uint64{2, 1}, r.Retval)
	})
}

func TestIgnoringDeclarationsMakesServerTranslatesBehaveNative(t *testing.T) {
	cfg := sp.DefaultServerConfig(mustABI("amd64"))
	cfg.IgnoreDeclarations = true
	ts := startServer(t, "unix", cfg)
	ctx := ctxT(t)
	ccfg := sp.DefaultClientConfig(mustABI("i386"))
	ccfg.Mode = sp.ModeServerTranslates
	c, _ := dialClient(t, ts.url, ccfg)
	require.NoError(t, c.HandshakeGuest(ctx))
	_, err := c.Syscall(ctx, netbsd.SYS_getpid)
	require.ErrorIs(t, err, sp.ErrBodySize)
}

func TestAnonMmapReturnsTheClientsAddress(t *testing.T) {
	ts := startServer(t, "tcp", sp.DefaultServerConfig(mustABI("amd64")))
	ctx := ctxT(t)
	ccfg := sp.DefaultClientConfig(mustABI("i386"))
	ccfg.Mode = sp.ModeClientTranslates
	c, mem := dialClient(t, ts.url, ccfg)
	require.NoError(t, c.HandshakeGuest(ctx))
	r, err := c.Syscall(ctx, netbsd.SYS_mmap, 0, 4096, netbsd.PROT_READ|netbsd.PROT_WRITE, netbsd.MAP_ANON|netbsd.MAP_PRIVATE, ^uint64(0)&0xffffffff, 0)
	require.NoError(t, err)
	require.Zero(t, r.Errno)
	assert.GreaterOrEqual(t, r.Retval[0], mem.Base())
	require.NoError(t, mem.CopyOut(ctx, r.Retval[0], []byte("mapped")), "the address is the client's own memory")
}

func TestTraceSeesEveryFrameBothWays(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	cfg := sp.DefaultServerConfig(mustABI("amd64"))
	cfg.Trace = func(c *sp.ConnInfo, d sp.Direction, f *sp.Frame) {
		mu.Lock()
		seen = append(seen, d.String()+" "+f.Class.String()+" "+f.Type.String())
		mu.Unlock()
	}
	ts := startServer(t, "unix", cfg)
	ctx := ctxT(t)
	c, mem := dialClient(t, ts.url, sp.DefaultClientConfig(mustABI("amd64")))
	require.NoError(t, c.HandshakeGuest(ctx))
	_, err := c.Syscall(ctx, netbsd.SYS_open, mem.AllocString("/x"), netbsd.O_CREAT, 0)
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{
		"received REQ HANDSHAKE", "sent RESP HANDSHAKE",
		"received REQ SYSCALL", "sent REQ COPYINSTR", "received RESP COPYIN", "sent RESP SYSCALL",
	}, seen)
}

func TestClientForkIsPreforkPlusAForkHandshake(t *testing.T) {
	ts := startServer(t, "unix", sp.DefaultServerConfig(mustABI("amd64")))
	ctx := ctxT(t)
	parent, _ := dialClient(t, ts.url, sp.DefaultClientConfig(mustABI("amd64")))
	require.NoError(t, parent.HandshakeGuest(ctx))
	u, err := sp.ParseURL(ts.url)
	require.NoError(t, err)
	conn, err := u.Dial(ctx)
	require.NoError(t, err)
	cfg := sp.DefaultClientConfig(mustABI("amd64"))
	cfg.Memory = sptest.NewMemory(0x1000, 4096)
	child, err := parent.Fork(ctx, conn, cfg)
	require.NoError(t, err)
	defer child.Close()
	r, err := child.Syscall(ctx, netbsd.SYS_getpid)
	require.NoError(t, err)
	assert.Equal(t, [2]uint64{3, 2}, r.Retval, "the test kernel's child of pid 2")
	assert.Equal(t, 0, ts.srv.PendingForks())
}

// A call waiting for a COPYIN answer must not hold the room the answer
// needs: with the least budget allowed (MaxClientBytes = MaxFrame), a
// write of nearly a frame once hung its connection for ever, the reader
// waiting for budget that only the call waiting for the reader held. The
// call now reserves its answer's room when it asks, or, when that can
// never fit beside what it holds, is refused at once (EFAULT).
func TestACallNeverWaitsForAnAnswerItsOwnBudgetCannotHold(t *testing.T) {
	scfg := sp.DefaultServerConfig(mustABI("amd64"))
	scfg.MaxFrame = 4096 + 64
	scfg.MaxClientBytes = int64(scfg.MaxFrame)
	ts := startServer(t, "unix", scfg)
	c, mem := dialClient(t, ts.url, sp.DefaultClientConfig(mustABI("amd64")))
	ctx := ctxT(t)
	fd := createdFile(t, ctx, c, mem, "/f")
	for _, n := range []int{3800, 3990, 4096} {
		r, err := c.Syscall(ctx, netbsd.SYS_write, fd, mem.Alloc(n, nil), n)
		require.NoError(t, err, "write of %d bytes", n)
		if r.Errno == 0 {
			assert.Equal(t, uint64(n), r.Retval[0])
		} else {
			assert.Equal(t, netbsd.EFAULT, r.Errno, "write of %d bytes: refused, not hung", n)
		}
	}
	r, err := c.Syscall(ctx, netbsd.SYS_write, fd, mem.Alloc(3800, nil), 3800)
	require.NoError(t, err)
	assert.Equal(t, uint64(3800), r.Retval[0], "a write that fits beside the call's own bytes is served")
	assert.Zero(t, ts.srv.Stats().HeldBytes)
}

func TestInvalidClientConfigsAreRefused(t *testing.T) {
	cases := []struct {
		name  string
		mod   func(*sp.ClientConfig)
		field string
	}{
		{"nil ABI", func(c *sp.ClientConfig) { c.ABI = nil }, "ABI"},
		{"tiny frames", func(c *sp.ClientConfig) { c.MaxFrame = 10 }, "MaxFrame"},
		{"negative retries", func(c *sp.ClientConfig) { c.TryAgain = -1 }, "TryAgain"},
		{"a negative read spin", func(c *sp.ClientConfig) { c.ReadSpin = -1 }, "ReadSpin"},
		{"a read spin that never sleeps", func(c *sp.ClientConfig) { c.ReadSpin = sp.MaxReadSpin + 1 }, "ReadSpin"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := sp.DefaultClientConfig(mustABI("amd64"))
			tc.mod(&cfg)
			a, b := net.Pipe()
			defer a.Close()
			defer b.Close()
			_, err := sp.NewClient(a, cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "client config: "+tc.field+" ")
		})
	}
}
