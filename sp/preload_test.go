package sp_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/sptest"
)

// frameLog records the types of the frames a server reads and writes.
type frameLog struct {
	mu     sync.Mutex
	frames []sp.Header
}

func (l *frameLog) trace(_ *sp.ConnInfo, _ sp.Direction, f *sp.Frame) {
	l.mu.Lock()
	l.frames = append(l.frames, f.Header)
	l.mu.Unlock()
}

// count returns how many frames of type t went by, and clears the log.
func (l *frameLog) take() []sp.Type {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []sp.Type
	for _, h := range l.frames {
		out = append(out, h.Type)
	}
	l.frames = nil
	return out
}

// preloadPair is a sprig server with a frame log and a client of the same
// ABI, with Preload as asked, past its GUEST handshake.
func preloadPair(t *testing.T, preload bool, edit func(*sp.ServerConfig)) (*sp.Client, *memoryOf, *frameLog) {
	t.Helper()
	log := &frameLog{}
	scfg := sp.DefaultServerConfig(mustABI("amd64"))
	scfg.Trace = log.trace
	if edit != nil {
		edit(&scfg)
	}
	ts := startServer(t, "unix", scfg)
	c, mem, _ := guestOf(t, ts.url, preload)
	log.take()
	return c, &memoryOf{mem.Alloc, mem.AllocString, mem.Read}, log
}

// guestOf dials url with an amd64 client, preloading or not, that has
// made its GUEST handshake.
func guestOf(t *testing.T, url string, preload bool) (*sp.Client, *sptest.Memory, context.Context) {
	t.Helper()
	ccfg := sp.DefaultClientConfig(mustABI("amd64"))
	ccfg.Preload = preload
	c, mem := dialClient(t, url, ccfg)
	ctx := ctxT(t)
	require.NoError(t, c.HandshakeGuest(ctx))
	return c, mem, ctx
}

type memoryOf struct {
	alloc    func(int, []byte) uint64
	allocStr func(string) uint64
	read     func(uint64, int) []byte
}

func TestAPreloadingClientsOpenAndWriteAskForNothing(t *testing.T) {
	for _, preload := range []bool{false, true} {
		t.Run(map[bool]string{false: "standard", true: "preload"}[preload], func(t *testing.T) {
			c, mem, log := preloadPair(t, preload, nil)
			ctx := ctxT(t)
			r, err := c.Syscall(ctx, netbsd.SYS_open, mem.allocStr("/f"), netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
			require.NoError(t, err)
			require.Zero(t, r.Errno)
			fd := r.Retval[0]
			opened := log.take()

			msg := []byte("sixty-four bytes or so, preloaded with the syscall that takes them")
			r, err = c.Syscall(ctx, netbsd.SYS_write, fd, mem.alloc(len(msg), msg), len(msg))
			require.NoError(t, err)
			require.Zero(t, r.Errno)
			assert.Equal(t, uint64(len(msg)), r.Retval[0])
			wrote := log.take()

			_, err = c.Syscall(ctx, netbsd.SYS_lseek, fd, 0, netbsd.SEEK_SET)
			require.NoError(t, err)
			out := mem.alloc(128, nil)
			r, err = c.Syscall(ctx, netbsd.SYS_read, fd, out, 128)
			require.NoError(t, err)
			require.Equal(t, uint64(len(msg)), r.Retval[0])
			assert.Equal(t, msg, mem.read(out, len(msg)), "the file holds the preloaded bytes")

			if preload {
				assert.Equal(t, []sp.Type{sp.TypePreload, sp.TypeSyscall, sp.TypeSyscall}, opened, "PRELOAD, SYSCALL in; the reply out")
				assert.Equal(t, []sp.Type{sp.TypePreload, sp.TypeSyscall, sp.TypeSyscall}, wrote)
			} else {
				assert.Equal(t, []sp.Type{sp.TypeSyscall, sp.TypeCopyInStr, sp.TypeCopyIn, sp.TypeSyscall}, opened)
				assert.Equal(t, []sp.Type{sp.TypeSyscall, sp.TypeCopyIn, sp.TypeCopyIn, sp.TypeSyscall}, wrote)
			}
		})
	}
}

func TestPreloadIsNotSentWhereItCannotBeRead(t *testing.T) {
	cases := map[string]struct {
		server func(*sp.ServerConfig)
		client func(*sp.ClientConfig)
	}{
		"the server hides its extensions": {server: func(c *sp.ServerConfig) { c.HideABI = true }},
		"the server offers none":          {server: func(c *sp.ServerConfig) { c.MaxPreload = 0 }},
		"the server has another ABI": {server: func(c *sp.ServerConfig) {
			c.ABI = mustABI("arm64") // same layouts as amd64, but not named so
		}},
		"the client translates": {client: func(c *sp.ClientConfig) { c.Mode = sp.ModeClientTranslates }},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			log := &frameLog{}
			scfg := sp.DefaultServerConfig(mustABI("amd64"))
			scfg.Trace = log.trace
			if tc.server != nil {
				tc.server(&scfg)
			}
			ts := startServer(t, "unix", scfg)
			ccfg := sp.DefaultClientConfig(mustABI("amd64"))
			ccfg.Preload = true
			if tc.client != nil {
				tc.client(&ccfg)
			}
			c, mem := dialClient(t, ts.url, ccfg)
			createdFile(t, ctxT(t), c, mem, "/f")
			assert.NotContains(t, log.take(), sp.TypePreload)
		})
	}
}

// createdFile makes c's GUEST handshake and creates path, returning its fd.
func createdFile(t *testing.T, ctx context.Context, c *sp.Client, mem *sptest.Memory, path string) uint64 {
	t.Helper()
	require.NoError(t, c.HandshakeGuest(ctx))
	r, err := c.Syscall(ctx, netbsd.SYS_open, mem.AllocString(path), netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
	require.NoError(t, err)
	require.Zero(t, r.Errno)
	return r.Retval[0]
}

// copyScriptKernel runs every syscall through script, with the
// request's memory.
type copyScriptKernel struct {
	script func(ctx context.Context, req *sp.SyscallRequest) sp.Result
}

func (k *copyScriptKernel) NewProcess(context.Context, sp.ClientInfo) (sp.Process, error) {
	return &copyScriptProc{k: k}, nil
}

type copyScriptProc struct{ k *copyScriptKernel }

func (p *copyScriptProc) Pid() int                                 { return 2 }
func (p *copyScriptProc) Fork(context.Context) (sp.Process, error) { return nil, netbsd.ENOSYS }
func (p *copyScriptProc) Attach(sp.ClientInfo) (sp.Process, error) { return p, nil }
func (p *copyScriptProc) Exec(context.Context, string) error       { return nil }
func (p *copyScriptProc) Exit()                                    {}
func (p *copyScriptProc) Syscall(ctx context.Context, req *sp.SyscallRequest) sp.Result {
	return p.k.script(ctx, req)
}

// TestAKernelSeesThroughAPreloadWhatTheClientWouldHaveAnswered: copies
// the preload covers come from it; copies it does not cover whole, and
// copies of bytes the syscall has since copied out over, go to the
// client; strings come out as COPYINSTR would have them.
func TestAKernelSeesThroughAPreloadWhatTheClientWouldHaveAnswered(t *testing.T) {
	type seen struct {
		whole, inside, beyond, after []byte
		path, short                  string
		shortErr                     error
	}
	var got seen
	k := &copyScriptKernel{script: func(ctx context.Context, req *sp.SyscallRequest) sp.Result {
		if req.Num != netbsd.SYS_write {
			return sp.Result{Errno: netbsd.ENOSYS}
		}
		args, _, _ := req.Args()
		buf, n := args[1], int(args[2])
		var err error
		got.whole, err = req.Mem.CopyIn(ctx, buf, n)
		require.NoError(t, err)
		got.inside, err = req.Mem.CopyIn(ctx, buf+2, 3)
		require.NoError(t, err)
		got.beyond, err = req.Mem.CopyIn(ctx, buf+uint64(n)-2, 4) // two bytes past the buffer
		require.NoError(t, err)
		require.NoError(t, req.Mem.CopyOut(ctx, buf+1, []byte("XY")))
		got.after, err = req.Mem.CopyIn(ctx, buf, 4)
		require.NoError(t, err)
		return sp.Result{Retval: [2]uint64{uint64(n)}}
	}}
	log := &frameLog{}
	scfg := sp.DefaultServerConfig(mustABI("amd64"))
	scfg.Trace = log.trace
	_, url := serveKernel(t, "unix", k, scfg)
	c, mem, ctx := guestOf(t, url, true)
	log.take()

	buf := mem.Alloc(10, []byte("abcdefgh..")) // 8 bytes, then ".." beyond
	r, err := c.Syscall(ctx, netbsd.SYS_write, 1, buf, 8)
	require.NoError(t, err)
	require.Zero(t, r.Errno)
	assert.Equal(t, "abcdefgh", string(got.whole))
	assert.Equal(t, "cde", string(got.inside))
	assert.Equal(t, "gh..", string(got.beyond), "past the preload: asked of the client")
	assert.Equal(t, "aXYd", string(got.after), "copied out over: asked of the client")
	assert.Equal(t, []sp.Type{sp.TypePreload, sp.TypeSyscall, sp.TypeCopyIn, sp.TypeCopyIn, sp.TypeCopyOut, sp.TypeCopyIn, sp.TypeCopyIn, sp.TypeSyscall}, log.take(),
		"two copies asked for, each a request and its answer; the COPYOUT held for the reply is traced as it is written")

	// A copyout that starts before the preloaded bytes and runs into them.
	k.script = func(ctx context.Context, req *sp.SyscallRequest) sp.Result {
		args, _, _ := req.Args()
		require.NoError(t, req.Mem.CopyOut(ctx, args[1]-1, []byte("Z!")))
		got.after, _ = req.Mem.CopyIn(ctx, args[1], 2)
		return sp.Result{}
	}
	buf = mem.Alloc(10, []byte(".abcdefgh")) + 1
	_, err = c.Syscall(ctx, netbsd.SYS_write, 1, buf, 8)
	require.NoError(t, err)
	assert.Equal(t, "!b", string(got.after), "copied out over its first byte: asked of the client")
	log.take()

	// Strings: open's path is preloaded; the kernel's copyinstr gets it
	// whole, or ENAMETOOLONG for a max shorter than it, as from a client.
	k.script = func(ctx context.Context, req *sp.SyscallRequest) sp.Result {
		args, _, _ := req.Args()
		got.path, _ = req.Mem.CopyInStr(ctx, args[0], netbsd.PATH_MAX)
		got.short, got.shortErr = req.Mem.CopyInStr(ctx, args[0], 4)
		return sp.Result{}
	}
	_, err = c.Syscall(ctx, netbsd.SYS_open, mem.AllocString("/a/long/path"), netbsd.O_RDONLY, 0)
	require.NoError(t, err)
	assert.Equal(t, "/a/long/path", got.path)
	assert.Equal(t, "/a/l", got.short)
	assert.ErrorIs(t, got.shortErr, sp.ErrNameTooLong)
	assert.Equal(t, []sp.Type{sp.TypePreload, sp.TypeSyscall, sp.TypeSyscall}, log.take(), "both copyinstrs answered from the preload")
}

// TestBadPreloadsCostTheirCallNothingButTheRoundTrip: a PRELOAD that is
// malformed, longer than offered, or not followed by its SYSCALL is
// dropped; the syscall copies in as usual and the client goes on.
func TestBadPreloadsCostTheirCallNothingButTheRoundTrip(t *testing.T) {
	ts := startServer(t, "unix", sp.DefaultServerConfig(mustABI("amd64")))
	p, b := dialWire(t, ts.url)
	require.Equal(t, uint64(sp.DefaultMaxPreload), b.Preload)
	p.guest("preloader")

	const addr = 0x10000
	path := append([]byte("/p"), 0)
	entry := func(n uint64, data []byte) []byte {
		body, err := p.codec.Copydata(n, addr, data)
		require.NoError(t, err)
		return body
	}
	asked := 0
	serve := func(req *sp.Frame) []byte {
		require.Equal(t, sp.TypeCopyInStr, req.Type, "the path is asked for")
		asked++
		return path
	}
	open := func() {
		t.Helper()
		asked = 0
		r := p.syscall(netbsd.SYS_open, p.args(netbsd.SYS_open, addr, netbsd.O_CREAT|netbsd.O_RDWR, 0o644), serve)
		assert.Zero(t, r.Errno)
		assert.Equal(t, 1, asked, "the preload was dropped: the path is asked for")
	}
	preload := func(reqno uint64, body []byte) {
		p.write(sp.Header{Reqno: reqno, Class: sp.ClassReq, Type: sp.TypePreload}, body)
	}

	// Announces more bytes than it carries.
	preload(p.next, entry(16, path)[:16+len(path)])
	open()
	// Bytes left after the last entry.
	preload(p.next, append(entry(uint64(len(path)), path), 1, 2, 3))
	open()
	// Longer than the offer: dropped unread.
	preload(p.next, entry(sp.DefaultMaxPreload, make([]byte, sp.DefaultMaxPreload)))
	open()
	// For another reqno than the SYSCALL after it.
	preload(p.next+7, entry(uint64(len(path)), path))
	open()
	// And a good one is used.
	preload(p.next, entry(uint64(len(path)), path))
	r := p.syscall(netbsd.SYS_open, p.args(netbsd.SYS_open, addr, netbsd.O_RDWR, 0), nil)
	assert.Zero(t, r.Errno, "the path came with the call: no request")
	assert.Equal(t, [2]uint64{2, 1}, p.getpid())
	assert.Zero(t, ts.srv.Stats().HeldBytes, "every dropped preload gave its bytes back")
}

func TestAServerThatOffersNoPreloadRefusesOne(t *testing.T) {
	cfg := sp.DefaultServerConfig(mustABI("amd64"))
	cfg.HideABI = true
	ts := startServer(t, "unix", cfg)
	p, b := dialWire(t, ts.url)
	require.Zero(t, b.Preload)
	p.guest("preloader")
	reqno := p.write(sp.Header{Class: sp.ClassReq, Type: sp.TypePreload}, make([]byte, 24))
	f := p.read()
	assert.Equal(t, sp.Header{Len: sp.HeaderSize, Reqno: reqno, Class: sp.ClassError, U: uint32(sp.ErrorMalformed)}, f.Header)
	assert.Equal(t, [2]uint64{2, 1}, p.getpid(), "the connection goes on")
}

func TestBannerExtensionsRoundTripAndUnknownOnesAreIgnored(t *testing.T) {
	b, err := sp.ParseBanner("RUMPSP-0.4-NetBSD-9.3/evbmips abi=mips preload=4096 later=thing\n")
	require.NoError(t, err)
	assert.Equal(t, "mips", b.ABI)
	assert.Equal(t, uint64(4096), b.Preload)
	assert.Equal(t, "RUMPSP-0.4-NetBSD-9.3/evbmips abi=mips preload=4096", b.String())
	again, err := sp.ParseBanner(b.Line())
	require.NoError(t, err)
	assert.Equal(t, b, again)

	_, err = sp.ParseBanner("RUMPSP-0.4-NetBSD-9.3/evbmips abi=mips preload=lots\n")
	assert.ErrorIs(t, err, sp.ErrBadBanner)
	assert.True(t, errors.Is(err, sp.ErrBadBanner))
}

// openSeenBy runs open("/x") by a client preloading or not, on a server
// configured by edit whose kernel answers open with script, and returns
// what script said the kernel saw.
func openSeenBy(t *testing.T, preload bool, edit func(*sp.ServerConfig), script func(ctx context.Context, req *sp.SyscallRequest) string) string {
	t.Helper()
	var got string
	k := &copyScriptKernel{script: func(ctx context.Context, req *sp.SyscallRequest) sp.Result {
		if req.Num == netbsd.SYS_open {
			got = script(ctx, req)
		}
		return sp.Result{}
	}}
	scfg := sp.DefaultServerConfig(mustABI("amd64"))
	if edit != nil {
		edit(&scfg)
	}
	_, url := serveKernel(t, "unix", k, scfg)
	c, mem, ctx := guestOf(t, url, preload)
	_, err := c.Syscall(ctx, netbsd.SYS_open, mem.AllocString("/x"), netbsd.O_RDONLY, 0)
	require.NoError(t, err)
	return got
}

// What a kernel may ask that a COPYIN could not answer (a negative
// length, one past the frame limit) it is refused with or without a
// preload, before the preload is looked at.
func TestACopyACOPYINCouldNotAnswerIsRefusedPreloadedOrNot(t *testing.T) {
	cases := map[string]struct {
		edit func(*sp.ServerConfig)
		max  int
	}{
		"negative length":           {max: -1},
		"longer than a frame holds": {edit: func(c *sp.ServerConfig) { c.MaxFrame, c.MaxClientBytes = 512, 1<<20 }, max: netbsd.PATH_MAX},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			script := func(ctx context.Context, req *sp.SyscallRequest) string {
				args, _, _ := req.Args()
				s, err := req.Mem.CopyInStr(ctx, args[0], tc.max)
				return fmt.Sprintf("%q EFAULT=%v", s, errors.Is(err, netbsd.EFAULT))
			}
			standard := openSeenBy(t, false, tc.edit, script)
			assert.Equal(t, `"" EFAULT=true`, standard)
			assert.Equal(t, standard, openSeenBy(t, true, tc.edit, script))
		})
	}
}

// A preload that leaves its call no room in the budget is given up, so
// the call runs (copying in as usual) instead of getting TRYAGAIN:
// preloading never costs a call more than its round trips. Here a
// blocked call and thirteen queued getpids hold what the PRELOAD leaves
// but its SYSCALL's share.
func TestAPreloadThatCrowdsOutItsCallIsGivenUp(t *testing.T) {
	scfg := sp.DefaultServerConfig(mustABI("amd64"))
	scfg.MaxFrame = 4096 + 64
	scfg.MaxClientBytes = int64(scfg.MaxFrame) // the least allowed
	scfg.MaxSyscallsPerClient = 1
	scfg.InlineQuickSyscalls = false
	ts := startServer(t, "unix", scfg)
	ts.kernel.Block = make(chan struct{})
	ccfg := sp.DefaultClientConfig(mustABI("amd64"))
	ccfg.Preload, ccfg.TryAgain = true, 0 // TRYAGAIN fails the call
	c, mem := dialClient(t, ts.url, ccfg)
	ctx := ctxT(t)
	fd := createdFile(t, ctx, c, mem, "/f")

	done := make(chan error, 15)
	go func() { _, err := c.Syscall(ctx, sptest.BlockSyscall, fd); done <- err }()
	require.Eventually(t, func() bool { return ts.srv.Stats().RunningSyscalls == 1 }, 5*time.Second, time.Millisecond)
	for range 13 {
		go func() { _, err := c.Syscall(ctx, netbsd.SYS_getpid); done <- err }()
	}
	require.Eventually(t, func() bool { return ts.srv.Stats().QueuedSyscalls == 13 }, 5*time.Second, time.Millisecond)
	// 160 + 13 × 152 bytes held; the PRELOAD's 2016 fit, its SYSCALL's
	// 176 after them do not.
	wrote := make(chan sp.Result, 1)
	go func() {
		r, err := c.Syscall(ctx, netbsd.SYS_write, fd, mem.Alloc(2000, nil), 2000)
		done <- err
		wrote <- r
	}()
	require.Eventually(t, func() bool { return ts.srv.Stats().QueuedSyscalls == 14 }, 5*time.Second, time.Millisecond,
		"the write is queued, not refused")
	close(ts.kernel.Block)
	for range 15 {
		require.NoError(t, <-done)
	}
	assert.Equal(t, uint64(2000), (<-wrote).Retval[0])
	assert.Zero(t, ts.srv.Stats().HeldBytes)
}

// A server that reads undeclared clients with another ABI than its banner
// names (AssumeClientABI) would misread their preloads: it drops them,
// and the call copies in as usual.
func TestAServerReadingAnotherABIThanItsBannerDropsPreloads(t *testing.T) {
	log := &frameLog{}
	scfg := sp.DefaultServerConfig(mustABI("amd64"))
	scfg.AssumeClientABI = mustABI("arm64") // amd64's layouts, another name
	scfg.Trace = log.trace
	ts := startServer(t, "unix", scfg)
	ccfg := sp.DefaultClientConfig(mustABI("amd64"))
	ccfg.Preload = true
	c, mem := dialClient(t, ts.url, ccfg)
	createdFile(t, ctxT(t), c, mem, "/f")
	types := log.take()
	assert.Equal(t, []sp.Type{sp.TypePreload, sp.TypeSyscall, sp.TypeCopyInStr, sp.TypeCopyIn, sp.TypeSyscall}, types[len(types)-5:],
		"the PRELOAD dropped, the path asked for")
}

// gatedMemory holds the copy-in of the bytes at gate until open is
// closed: the client's answer to that COPYIN waits meanwhile.
type gatedMemory struct {
	*sptest.Memory
	gate uint64
	open chan struct{}
}

func (m *gatedMemory) AppendCopyIn(ctx context.Context, dst []byte, addr uint64, n int) ([]byte, error) {
	if addr == m.gate {
		<-m.open
	}
	return m.Memory.AppendCopyIn(ctx, dst, addr, n)
}

func (m *gatedMemory) CopyIn(ctx context.Context, addr uint64, n int) ([]byte, error) {
	return m.AppendCopyIn(ctx, nil, addr, n)
}

// Queued calls' preloads must leave room for the COPYIN answers of the
// calls that run: else a running call waits for an answer the reader
// cannot take (no budget), while the calls holding the budget wait for
// the running one's slot. Preloads hold at most half the connection's
// budget; past it they are dropped unread.
func TestQueuedPreloadsLeaveRoomForTheAnswersRunningCallsWaitFor(t *testing.T) {
	scfg := sp.DefaultServerConfig(mustABI("amd64"))
	scfg.MaxFrame = 64<<10 + 64
	scfg.MaxClientBytes = 2 * int64(scfg.MaxFrame)
	scfg.MaxPreload = 32 << 10
	scfg.MaxSyscallsPerClient = 1 // the big write runs; the others queue behind it
	scfg.InlineQuickSyscalls = false
	ts := startServer(t, "unix", scfg)

	ccfg := sp.DefaultClientConfig(mustABI("amd64"))
	ccfg.Preload = true
	mem := &gatedMemory{Memory: sptest.NewMemory(0x10000, 1<<20), open: make(chan struct{})}
	ccfg.Memory = mem
	c, err := sp.Dial(ctxT(t), ts.url, ccfg)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	ctx := ctxT(t)
	fd := createdFile(t, ctx, c, mem.Memory, "/f")

	const big, small, smalls = 60000, 30000, 4
	mem.gate, _ = mem.AllocBytes(big) // past the offer: asked for by COPYIN
	results := make(chan error, 1+smalls)
	write := func(buf uint64, n int) {
		r, err := c.Syscall(ctx, netbsd.SYS_write, fd, buf, n)
		if err == nil && r.Retval[0] != uint64(n) {
			err = fmt.Errorf("wrote %d of %d: %v", r.Retval[0], n, r.Err())
		}
		results <- err
	}
	go write(mem.gate, big)
	require.Eventually(t, func() bool { return ts.srv.Stats().RunningSyscalls == 1 }, 5*time.Second, time.Millisecond)
	for range smalls {
		buf, _ := mem.AllocBytes(small)
		go write(buf, small)
	}
	require.Eventually(t, func() bool { return ts.srv.Stats().QueuedSyscalls == smalls }, 5*time.Second, time.Millisecond)
	close(mem.open) // the big write's COPYIN answer goes out now

	for range 1 + smalls {
		select {
		case err := <-results:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Fatalf("a write is stuck: the server holds %d bytes", ts.srv.Stats().HeldBytes)
		}
	}
	assert.Zero(t, ts.srv.Stats().HeldBytes)
}
