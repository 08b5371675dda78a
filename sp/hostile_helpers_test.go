package sp_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/sptest"
)

// logBuf collects a server's log output.
type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuf) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Len()
}

// hostile is one server under attack: a real listening socket, the test
// kernel (with a record of program names and calls) and its log.
type hostile struct {
	t      *testing.T
	srv    *sp.Server
	k      *recKernel
	url    string
	scheme string
	logs   *logBuf
}

// hostileConfig is the server configuration of the catalogue: defaults
// with timeouts short enough for tests.
func hostileConfig() sp.ServerConfig {
	cfg := sp.DefaultServerConfig(mustABI("amd64"))
	cfg.HandshakeTimeout = 300 * time.Millisecond
	cfg.WriteTimeout = 5 * time.Second // a loaded test machine may not read for a while
	cfg.PendingForkTimeout = 2 * time.Second
	return cfg
}

func newHostile(t *testing.T, scheme string, mod func(*sp.ServerConfig)) *hostile {
	t.Helper()
	return newHostileCase(t, scheme, hostileCase{cfg: mod})
}

// newHostileCase is newHostile set up as catalogue entry hc asks.
func newHostileCase(t *testing.T, scheme string, hc hostileCase) *hostile {
	t.Helper()
	cfg := hostileConfig()
	logs := &logBuf{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if hc.cfg != nil {
		hc.cfg(&cfg)
	}
	var wrap func(net.Conn) net.Conn
	if hc.smallSendBuffer {
		wrap = func(c net.Conn) net.Conn {
			if wb, ok := c.(interface{ SetWriteBuffer(int) error }); ok {
				require.NoError(t, wb.SetWriteBuffer(4096))
			}
			return c
		}
	}
	k := newRecKernel()
	srv, url := serveKernelWrapped(t, scheme, k, cfg, wrap)
	return &hostile{t: t, srv: srv, k: k, url: url, scheme: scheme, logs: logs}
}

// raw connects a raw client that has read the banner and no more.
func (h *hostile) raw() *wirePeer {
	h.t.Helper()
	p, _ := dialWire(h.t, h.url)
	return p
}

// guest connects a raw client and does its GUEST handshake.
func (h *hostile) guest() *wirePeer {
	h.t.Helper()
	p := h.raw()
	p.guest("hostile")
	return p
}

// innocent shows another client is served meanwhile: a fresh raw client
// handshakes and gets a getpid answer (not TRYAGAIN) within two seconds.
func (h *hostile) innocent() {
	h.t.Helper()
	start := time.Now()
	p := h.raw()
	p.guest("innocent")
	r := p.syscallTimed(netbsd.SYS_getpid, nil, 2*time.Second)
	require.Zero(h.t, r.Errno, "the innocent client's getpid")
	require.Less(h.t, time.Since(start), 2*time.Second, "the innocent client waited too long")
	p.conn.Close()
}

// syscallTimed is syscall with its own deadline, for latency checks;
// ERROR answers (TRYAGAIN) fail the test.
func (p *wirePeer) syscallTimed(num netbsd.Sysno, body []byte, d time.Duration) sp.Result {
	p.t.Helper()
	reqno := p.write(sp.Header{Class: sp.ClassReq, Type: sp.TypeSyscall, U: uint32(num)}, body)
	p.conn.SetDeadline(time.Now().Add(d))
	f, err := p.fr.ReadFrame()
	require.NoError(p.t, err, "waiting for the answer to %s", num)
	require.Equal(p.t, sp.Header{Len: 48, Reqno: reqno, Class: sp.ClassResp, Type: sp.TypeSyscall}, f.Header, "the answer to %s", num)
	r, err := p.codec.ParseSysresp(f.Body)
	require.NoError(p.t, err)
	return r
}

// send writes a SYSCALL request without waiting for its answer.
func (p *wirePeer) send(num netbsd.Sysno, body []byte) uint64 {
	p.t.Helper()
	return p.write(sp.Header{Class: sp.ClassReq, Type: sp.TypeSyscall, U: uint32(num)}, body)
}

// expectError reads the next frame and checks it is ERROR code for reqno.
func (p *wirePeer) expectError(reqno uint64, code sp.ErrorCode) {
	p.t.Helper()
	f := p.read()
	require.Equal(p.t, sp.Header{Len: sp.HeaderSize, Reqno: reqno, Class: sp.ClassError, Type: sp.TypeHandshake, U: uint32(code)}, f.Header)
}

// expectDropped waits up to d for the server to close the connection,
// ignoring whatever it sends first, and returns how long it took.
func (p *wirePeer) expectDropped(d time.Duration) time.Duration {
	p.t.Helper()
	took, ok := p.awaitDrop(d)
	if !ok {
		require.Fail(p.t, "the server did not drop the client", "within %v", d)
	}
	return took
}

// awaitDrop is expectDropped that reports a wait past d (false) instead
// of failing the test, for a goroutine other than the test's.
func (p *wirePeer) awaitDrop(d time.Duration) (time.Duration, bool) {
	start := time.Now()
	p.conn.SetReadDeadline(start.Add(d))
	_, err := io.Copy(io.Discard, p.conn)
	var ne net.Error
	return time.Since(start), !(errors.As(err, &ne) && ne.Timeout())
}

// pipe makes a pipe in p's process and returns its read and write fds.
func (p *wirePeer) pipe() (rfd, wfd uint64) {
	p.t.Helper()
	r := p.syscall(netbsd.SYS_pipe, nil, nil)
	require.Zero(p.t, r.Errno)
	return r.Retval[0], r.Retval[1]
}

// latencies runs n getpids on a fresh raw client and returns their
// round-trip times, sorted.
func latencies(t testing.TB, url string, n int) []time.Duration {
	t.Helper()
	p, _ := dialWire(t, url)
	p.guest("probe")
	out := make([]time.Duration, n)
	for i := range out {
		start := time.Now()
		reqno := p.send(netbsd.SYS_getpid, nil)
		p.conn.SetDeadline(time.Now().Add(10 * time.Second))
		f, err := p.fr.ReadFrame()
		require.NoError(t, err)
		require.Equal(t, sp.ClassResp, f.Class, "getpid %d answered %s", i, f.Header)
		require.Equal(t, reqno, f.Reqno)
		out[i] = time.Since(start)
	}
	p.conn.Close()
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

// drain reads and drops everything p's connection receives until it ends.
func drain(p *wirePeer) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.conn.SetReadDeadline(time.Time{})
		io.Copy(io.Discard, p.conn)
	}()
	return done
}

// logLines counts the lines of log text that contain all of words.
func logLines(log string, words ...string) int {
	n := 0
	for _, line := range strings.Split(log, "\n") {
		ok := line != ""
		for _, w := range words {
			ok = ok && strings.Contains(line, w)
		}
		if ok {
			n++
		}
	}
	return n
}

// waitFor polls cond for up to d.
func waitFor(t testing.TB, d time.Duration, msg string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, d, time.Millisecond, msg)
}

// blockingReads sends n reads of one byte on rfd, which block on an
// empty pipe, and returns their reqnos.
func blockingReads(p *wirePeer, rfd uint64, n int) []uint64 {
	reqnos := make([]uint64, n)
	for i := range reqnos {
		reqnos[i] = p.send(netbsd.SYS_read, p.args(netbsd.SYS_read, rfd, 0x5000, 1))
	}
	return reqnos
}

// guestFrame is a GUEST handshake request with body.
func guestFrame(reqno uint64, body []byte) []byte {
	return append(rawHeader(uint64(sp.HeaderSize+len(body)), reqno, sp.ClassReq, sp.TypeHandshake, uint32(sp.HandshakeGuest)), body...)
}

var _ = context.Background
var _ = sptest.NullSyscall
