package kern_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/kern"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/sptest"
)

// setup is one way a client and the server meet: both of one ABI, or an
// amd64 server reading a declaring client's frames in its ABI.
type setup struct {
	name           string
	client, server string
	mode           sp.Mode
}

// setups covers little- and big-endian, 32- and 64-bit, and i386's
// 4-aligned 64-bit integers, natively and server-translated.
var setups = []setup{
	{"amd64", "amd64", "amd64", sp.ModeNative},
	{"i386", "i386", "i386", sp.ModeNative},
	{"arm", "arm", "arm", sp.ModeNative},
	{"mips", "mips", "mips", sp.ModeNative},
	{"i386 declared to amd64", "i386", "amd64", sp.ModeServerTranslates},
	{"mips declared to amd64", "mips", "amd64", sp.ModeServerTranslates},
}

// bootTime is where every test kernel's clock starts.
var bootTime = time.Unix(1_700_000_000, 123_456_789)

// clock is a pinned kernel clock that tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// env is one kernel behind a sprig server on a unix socket, and one
// client of it that has done its GUEST handshake.
type env struct {
	t     *testing.T
	s     setup
	k     *kern.Kernel
	clock *clock
	url   string
	c     *sp.Client
	mem   *sptest.Memory
	ctx   context.Context
	// reqs records the requests the server sent the env's clients.
	reqs *reqLog
}

// reqLog records the types of the requests (COPYIN, COPYINSTR, COPYOUT,
// RAISE...) a server sends, to check what went over the wire.
type reqLog struct {
	mu    sync.Mutex
	types []sp.Type
}

func (l *reqLog) add(t sp.Type) {
	l.mu.Lock()
	l.types = append(l.types, t)
	l.mu.Unlock()
}

// since counts the requests of type t after the first n recorded.
func (l *reqLog) since(n int, t sp.Type) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	count := 0
	for _, got := range l.types[n:] {
		if got == t {
			count++
		}
	}
	return count
}

// mark returns how many requests have been recorded.
func (l *reqLog) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.types)
}

// forEachSetup runs fn once per setup, each with a fresh kernel; tune,
// when not nil, adjusts the kernel's configuration first.
func forEachSetup(t *testing.T, tune func(*kern.Config), fn func(t *testing.T, e *env)) {
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			fn(t, newEnv(t, s, tune))
		})
	}
}

// forEachTmpfsSetup is forEachSetup with a tmpfs mounted on /tmp (root's,
// mode 01777, like the rumpfs /tmp it covers), as a rump user does before
// work that needs rename, link or a POSIX-like directory: the tests of
// NetBSD semantics beyond rumpfs's run there.
func forEachTmpfsSetup(t *testing.T, tune func(*kern.Config), fn func(t *testing.T, e *env)) {
	forEachSetup(t, tune, func(t *testing.T, e *env) {
		e.mountTmpfs("/tmp", 0, 0, netbsd.S_ISVTX|0o777)
		fn(t, e)
	})
}

// withExtensions turns every kernel extension on (kill, mmap).
func withExtensions(c *kern.Config) { c.Extensions = kern.ExtAll }

// tmpfsArgs lays out a struct tmpfs_args in the client's layout.
func (e *env) tmpfsArgs(a netbsd.TmpfsArgs) (uint64, int) {
	e.t.Helper()
	l := netbsd.LayoutsFor(e.abi()).TmpfsArgs
	b, err := l.Encode(&a)
	require.NoError(e.t, err)
	return e.bytes(b), len(b)
}

// mountTmpfs mounts a tmpfs on dir with the given root owner and mode.
func (e *env) mountTmpfs(dir string, uid, gid, mode uint32) {
	e.t.Helper()
	data, n := e.tmpfsArgs(netbsd.TmpfsArgs{Version: 1, RootUID: uid, RootGID: gid, RootMode: mode})
	e.ok(netbsd.SYS___mount50, e.str("tmpfs"), e.str(dir), 0, data, uint64(n))
}

// becomeUser gives the client's process the ids of an ordinary user, as
// a root program does with setgid and setuid.
func (e *env) becomeUser(uid, gid uint32) {
	e.t.Helper()
	e.ok(netbsd.SYS_setgid, uint64(gid))
	e.ok(netbsd.SYS_setuid, uint64(uid))
}

// user is the ordinary user tests switch to.
const user = 1000

func newEnv(t *testing.T, s setup, tune func(*kern.Config)) *env {
	t.Helper()
	clk := &clock{now: bootTime}
	cfg := kern.DefaultConfig()
	cfg.ABI = abi.MustLookup(s.server)
	cfg.Clock = clk.Now
	if tune != nil {
		tune(&cfg)
	}
	k, err := kern.New(cfg)
	require.NoError(t, err)
	e := &env{t: t, s: s, k: k, clock: clk, reqs: &reqLog{}}
	e.url = serve(t, k, sp.DefaultServerConfig(cfg.ABI))
	e.c, e.mem = e.dial()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	e.ctx = ctx
	require.NoError(t, e.c.HandshakeGuest(ctx))
	return e
}

// serve runs a sprig server for k on a fresh unix socket until the test
// ends and returns its URL.
func serve(t *testing.T, k sp.Kernel, cfg sp.ServerConfig) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "kern")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	url := "unix://" + filepath.Join(dir, "s")
	srv, err := sp.NewServer(k, cfg)
	require.NoError(t, err)
	u, err := sp.ParseURL(url)
	require.NoError(t, err)
	ln, err := u.Listen(context.Background())
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
		require.ErrorIs(t, <-served, sp.ErrServerClosed)
	})
	return url
}

// dial connects another client of the setup's ABI and mode, with its own
// memory; it has not handshaken.
func (e *env) dial() (*sp.Client, *sptest.Memory) {
	e.t.Helper()
	d := abi.MustLookup(e.s.client)
	base := uint64(0x10000)
	if d.LP64() {
		base = 0x7f00_0000_0000 // high addresses expose 32-bit truncation
	}
	mem := sptest.NewMemory(base, 4<<20)
	cfg := sp.DefaultClientConfig(d)
	cfg.Mode = e.s.mode
	cfg.Memory = mem
	cfg.OnSignal = mem.Raise
	cfg.Trace = func(d sp.Direction, f *sp.Frame) {
		if d == sp.Received && f.Header.Class == sp.ClassReq {
			e.reqs.add(f.Header.Type)
		}
	}
	c, err := sp.Dial(context.Background(), e.url, cfg)
	require.NoError(e.t, err)
	e.t.Cleanup(func() { c.Close() })
	return c, mem
}

// with returns e reporting to t, for use inside a subtest.
func (e *env) with(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

// abi is the client's ABI: the layout of everything in its memory.
func (e *env) abi() *abi.Descriptor { return e.c.ABI() }

// call runs a syscall on the env's client.
func (e *env) call(num netbsd.Sysno, args ...uint64) sp.Result {
	e.t.Helper()
	return callOn(e.t, e.ctx, e.c, num, args...)
}

func callOn(t *testing.T, ctx context.Context, c *sp.Client, num netbsd.Sysno, args ...uint64) sp.Result {
	t.Helper()
	r, err := callErr(ctx, c, num, args...)
	require.NoError(t, err, "%s: transport", num)
	return r
}

// ok runs a syscall that must succeed and returns retval[0].
func (e *env) ok(num netbsd.Sysno, args ...uint64) uint64 {
	e.t.Helper()
	r := e.call(num, args...)
	require.Zero(e.t, r.Errno, "%s failed with %s", num, r.Errno)
	return r.Retval[0]
}

// errno runs a syscall and returns its errno.
func (e *env) errno(num netbsd.Sysno, args ...uint64) netbsd.Errno {
	e.t.Helper()
	return e.call(num, args...).Errno
}

// str stores s and its NUL in client memory.
func (e *env) str(s string) uint64 { return e.mem.AllocString(s) }

// buf reserves n zeroed bytes of client memory.
func (e *env) buf(n int) uint64 { return e.mem.Alloc(n, nil) }

// bytes stores b in client memory.
func (e *env) bytes(b []byte) uint64 { return e.mem.Alloc(len(b), b) }

// neg is the bit pattern of a negative C argument.
func neg(v int64) uint64 { return uint64(v) }

// word is v as the client's pointer-wide unsigned argument would carry
// it (fcntl's arg is a void *).
func (e *env) word(v int64) uint64 {
	if e.abi().Pointer.Size == 4 {
		return uint64(uint32(v))
	}
	return uint64(v)
}

func (e *env) open(path string, flags int, mode uint32) uint64 {
	e.t.Helper()
	return e.ok(netbsd.SYS_open, e.str(path), uint64(flags), uint64(mode))
}

// create writes a new file holding data and closes it.
func (e *env) create(path string, data string) {
	e.t.Helper()
	fd := e.open(path, netbsd.O_CREAT|netbsd.O_TRUNC|netbsd.O_WRONLY, 0o644)
	if data != "" {
		require.Equal(e.t, uint64(len(data)), e.ok(netbsd.SYS_write, fd, e.bytes([]byte(data)), uint64(len(data))))
	}
	e.ok(netbsd.SYS_close, fd)
}

// read reads up to n bytes from fd.
func (e *env) read(fd uint64, n int) string {
	e.t.Helper()
	b := e.buf(n)
	got := e.ok(netbsd.SYS_read, fd, b, uint64(n))
	return string(e.mem.Read(b, int(got)))
}

// blockedRead starts a read of up to n bytes from fd and fails the test
// if it returns within 50ms, for lack of anything to read. The function
// it returns waits up to five seconds for the read to end, requires it to
// succeed and returns the bytes it got.
func (e *env) blockedRead(fd uint64, n int) func() string {
	e.t.Helper()
	b := e.buf(n)
	got := make(chan sp.Result, 1)
	go func() {
		res, _ := e.c.Syscall(e.ctx, netbsd.SYS_read, fd, b, uint64(n))
		got <- res
	}()
	select {
	case <-got:
		e.t.Fatal("the read returned before anything was written")
	case <-time.After(50 * time.Millisecond):
	}
	return func() string {
		e.t.Helper()
		select {
		case res := <-got:
			require.Zero(e.t, res.Errno)
			return string(e.mem.Read(b, int(res.Retval[0])))
		case <-time.After(5 * time.Second):
			e.t.Fatal("the blocked read never ended")
			return ""
		}
	}
}

// stat decodes a struct stat from client memory in the client's layout.
func (e *env) decodeStat(addr uint64) netbsd.Stat {
	e.t.Helper()
	l := netbsd.LayoutsFor(e.abi()).Stat
	var st netbsd.Stat
	require.NoError(e.t, l.Decode(e.mem.Read(addr, l.Size), &st))
	return st
}

func (e *env) stat(num netbsd.Sysno, arg uint64) (netbsd.Stat, netbsd.Errno) {
	e.t.Helper()
	sb := e.buf(256)
	if r := e.call(num, arg, sb); r.Errno != 0 {
		return netbsd.Stat{}, r.Errno
	}
	return e.decodeStat(sb), 0
}

func (e *env) statPath(path string) netbsd.Stat {
	e.t.Helper()
	st, errno := e.stat(netbsd.SYS___stat50, e.str(path))
	require.Zero(e.t, errno, "stat %s", path)
	return st
}

func (e *env) lstatPath(path string) netbsd.Stat {
	e.t.Helper()
	st, errno := e.stat(netbsd.SYS___lstat50, e.str(path))
	require.Zero(e.t, errno, "lstat %s", path)
	return st
}

func ts(t time.Time) netbsd.Timespec {
	return netbsd.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}

// cint reads the C int at addr in the client's byte order.
func (e *env) cint(addr uint64) int32 {
	return int32(abi.Uint(e.abi().ByteOrder(), e.mem.Read(addr, 4), 4))
}

// putCInts stores C ints in the client's byte order.
func (e *env) putCInts(vs ...int32) uint64 {
	b := make([]byte, 4*len(vs))
	for i, v := range vs {
		e.abi().ByteOrder().PutUint32(b[4*i:], uint32(v))
	}
	return e.bytes(b)
}

// sizeT stores a size_t of the client's width.
func (e *env) sizeT(v uint64) uint64 {
	n := e.abi().SizeT.Size
	b := make([]byte, n)
	abi.PutUint(e.abi().ByteOrder(), b, n, v)
	return e.bytes(b)
}

func (e *env) readSizeT(addr uint64) uint64 {
	n := e.abi().SizeT.Size
	return abi.Uint(e.abi().ByteOrder(), e.mem.Read(addr, n), n)
}

// callErr runs a syscall and returns the transport error too.
func callErr(ctx context.Context, c *sp.Client, num netbsd.Sysno, args ...uint64) (sp.Result, error) {
	vals := make([]any, len(args))
	for i, a := range args {
		vals[i] = a
	}
	return c.Syscall(ctx, num, vals...)
}

// amd64Client is a client configured by cc (its Memory of 4 MiB set
// here) that has made its GUEST handshake with an amd64 kernel of the
// default configuration behind a sprig server.
func amd64Client(t *testing.T, cc sp.ClientConfig) (*sp.Client, *sptest.Memory, context.Context) {
	t.Helper()
	cfg := kern.DefaultConfig()
	cfg.ABI = abi.MustLookup("amd64")
	k, err := kern.New(cfg)
	require.NoError(t, err)
	url := serve(t, k, sp.DefaultServerConfig(cfg.ABI))
	mem := sptest.NewMemory(0x10000, 4<<20)
	cc.Memory = mem
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	c, err := sp.Dial(ctx, url, cc)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.HandshakeGuest(ctx))
	return c, mem, ctx
}
