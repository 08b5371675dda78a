package sp_test

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
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
	cfg.OnSignal = mem.Raise
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

// serveKernel runs a sprig server for kernel k on a real socket ("unix" or
// "tcp") and returns it with its URL; it is shut down when the test ends.
func serveKernel(t testing.TB, scheme string, k sp.Kernel, cfg sp.ServerConfig) (*sp.Server, string) {
	t.Helper()
	return serveKernelWrapped(t, scheme, k, cfg, nil)
}

// wrapListener hands the server every accepted connection through wrap.
type wrapListener struct {
	net.Listener
	wrap func(net.Conn) net.Conn
}

func (l *wrapListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.wrap(c), nil
}

// serveKernelWrapped is serveKernel with each accepted connection passed
// through wrap (nil: unchanged) before the server sees it.
func serveKernelWrapped(t testing.TB, scheme string, k sp.Kernel, cfg sp.ServerConfig, wrap func(net.Conn) net.Conn) (*sp.Server, string) {
	t.Helper()
	srv, err := sp.NewServer(k, cfg)
	require.NoError(t, err)
	url := "tcp://127.0.0.1:0"
	if scheme == "unix" {
		url = "unix://" + filepath.Join(t.TempDir(), "sp.sock")
	}
	u, err := sp.ParseURL(url)
	require.NoError(t, err)
	ln, err := u.Listen(context.Background())
	require.NoError(t, err)
	if scheme == "tcp" {
		url = "tcp://" + ln.Addr().(*net.TCPAddr).String()
	}
	if wrap != nil {
		ln = &wrapListener{Listener: ln, wrap: wrap}
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
		require.ErrorIs(t, <-done, sp.ErrServerClosed)
	})
	return srv, url
}

// assertServing shows the server at url still serves new clients: a fresh
// client's GUEST handshake and getpid work.
func assertServing(t testing.TB, url string) {
	t.Helper()
	c, _ := dialClient(t, url, sp.DefaultClientConfig(mustABI("amd64")))
	ctx := ctxT(t)
	require.NoError(t, c.HandshakeGuest(ctx), "a second client's handshake")
	r, err := c.Syscall(ctx, netbsd.SYS_getpid)
	require.NoError(t, err, "a second client's getpid")
	require.Zero(t, r.Errno)
	require.NotZero(t, r.Retval[0], "a second client's pid")
}

// wirePeer is a hand-driven amd64 peer on a real connection, for sending
// what sprig's own client or server never would. Every read and write has
// a deadline, so a peer that never answers fails the test instead of
// hanging it.
type wirePeer struct {
	t     testing.TB
	conn  net.Conn
	fr    *sp.Framer
	codec *sp.Codec
	next  uint64 // reqno of the next request
}

func newWirePeer(t testing.TB, conn net.Conn) *wirePeer {
	d := mustABI("amd64")
	p := &wirePeer{t: t, conn: conn, fr: sp.NewFramer(conn, conn, d), codec: sp.NewCodec(d), next: 1}
	p.fr.MaxFrame = 1 << 62
	t.Cleanup(func() { conn.Close() })
	return p
}

// dialWire connects to a sprig server as a raw client and reads its banner.
func dialWire(t testing.TB, url string) (*wirePeer, sp.Banner) {
	t.Helper()
	u, err := sp.ParseURL(url)
	require.NoError(t, err)
	conn, err := u.Dial(ctxT(t))
	require.NoError(t, err)
	p := newWirePeer(t, conn)
	p.deadline()
	b, err := sp.ReadBanner(conn)
	require.NoError(t, err)
	return p, b
}

func (p *wirePeer) deadline() { p.conn.SetDeadline(time.Now().Add(5 * time.Second)) }

// write sends one frame and returns its reqno: h.Reqno if set, else the
// peer's next number.
func (p *wirePeer) write(h sp.Header, body []byte) uint64 {
	p.t.Helper()
	if h.Reqno == 0 && h.Class == sp.ClassReq {
		h.Reqno = p.next
		p.next++
	}
	p.deadline()
	require.NoError(p.t, p.fr.WriteFrame(h, body))
	return h.Reqno
}

// writeRaw sends bytes as they are.
func (p *wirePeer) writeRaw(b []byte) {
	p.t.Helper()
	p.deadline()
	require.NoError(p.t, sp.WriteRaw(p.fr, b))
}

// read reads the next frame.
func (p *wirePeer) read() *sp.Frame {
	p.t.Helper()
	p.deadline()
	f, err := p.fr.ReadFrame()
	require.NoError(p.t, err)
	return f
}

// expectClosed checks the other side closed the connection without
// sending anything more.
func (p *wirePeer) expectClosed() {
	p.t.Helper()
	p.deadline()
	var one [1]byte
	n, err := p.conn.Read(one[:])
	require.Zero(p.t, n, "the peer sent more bytes instead of closing")
	require.Error(p.t, err)
	if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		require.Fail(p.t, "the peer did not close the connection", "read error: %v", err)
	}
}

// guest does a GUEST handshake with name and checks the reply.
func (p *wirePeer) guest(name string) {
	p.t.Helper()
	reqno := p.write(sp.Header{Class: sp.ClassReq, Type: sp.TypeHandshake, U: uint32(sp.HandshakeGuest)}, append([]byte(name), 0))
	f := p.read()
	require.Equal(p.t, sp.Header{Len: sp.HeaderSize + 4, Reqno: reqno, Class: sp.ClassResp, Type: sp.TypeHandshake}, f.Header)
	v, err := p.codec.ParseInt(f.Body)
	require.NoError(p.t, err)
	require.Zero(p.t, v)
}

// args lays out syscall num's arguments for amd64 with zeroed padding.
func (p *wirePeer) args(num netbsd.Sysno, vals ...uint64) []byte {
	p.t.Helper()
	b, err := netbsd.LayoutsFor(mustABI("amd64")).Args(num).Encode(0, vals...)
	require.NoError(p.t, err)
	return b
}

// syscall sends SYSCALL num with body and answers the server's requests
// with serve (nil: none expected) until the reply comes; COPYOUT and
// RAISE need no answer and are passed to serve too, whose answer is then
// ignored.
func (p *wirePeer) syscall(num netbsd.Sysno, body []byte, serve func(req *sp.Frame) []byte) sp.Result {
	p.t.Helper()
	reqno := p.write(sp.Header{Class: sp.ClassReq, Type: sp.TypeSyscall, U: uint32(num)}, body)
	for {
		f := p.read()
		if f.Class == sp.ClassReq {
			require.NotNil(p.t, serve, "unexpected request %s", f.Header)
			reply := serve(f)
			switch f.Type {
			case sp.TypeCopyIn, sp.TypeCopyInStr:
				p.write(sp.Header{Reqno: f.Reqno, Class: sp.ClassResp, Type: sp.TypeCopyIn}, reply)
			case sp.TypeAnonMmap:
				p.write(sp.Header{Reqno: f.Reqno, Class: sp.ClassResp, Type: sp.TypeAnonMmap}, reply)
			}
			continue
		}
		require.Equal(p.t, sp.Header{Len: 48, Reqno: reqno, Class: sp.ClassResp, Type: sp.TypeSyscall}, f.Header)
		r, err := p.codec.ParseSysresp(f.Body)
		require.NoError(p.t, err)
		return r
	}
}

// getpid runs getpid and checks it succeeds.
func (p *wirePeer) getpid() [2]uint64 {
	p.t.Helper()
	r := p.syscall(netbsd.SYS_getpid, nil, nil)
	require.Zero(p.t, r.Errno)
	return r.Retval
}

// fakeServer listens on a unix socket, sends banner to the one client that
// connects and then runs script on the connection. The returned channel
// yields script's result; the connection is closed after it. script runs
// on its own goroutine: it reports by returning an error.
func fakeServer(t testing.TB, banner string, script func(conn net.Conn) error) (string, <-chan error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fake.sock")
	ln, err := net.Listen("unix", path)
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	done := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.Write([]byte(banner)); err != nil {
			done <- err
			return
		}
		done <- script(conn)
	}()
	return "unix://" + path, done
}

// goldenBanner is the banner of NetBSD's rump_server 7.99.34 on amd64.
const goldenBanner = "RUMPSP-0.4-NetBSD-7.99.34/amd64\n"

// anys turns argument words into Syscall's arguments.
func anys(vals []uint64) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = v
	}
	return out
}

// words returns r's errno and return words alone, without the ABI that
// interprets them, for comparison with a literal.
func words(r sp.Result) sp.Result { return sp.Result{Errno: r.Errno, Retval: r.Retval} }
