package sp_test

// The quick path (ServerConfig.InlineQuickSyscalls: a quick syscall runs
// on the connection's reader) and COPYOUT coalescing
// (ServerConfig.CoalesceCopyOut) change only how the server spends its
// threads and writes, never what a client sees.

import (
	"encoding/binary"
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

func inlineServer(t *testing.T, mod func(*sp.ServerConfig), wrap func(net.Conn) net.Conn) (*sp.Server, *wirePeer) {
	t.Helper()
	cfg := sp.DefaultServerConfig(mustABI("amd64"))
	if mod != nil {
		mod(&cfg)
	}
	srv, url := serveKernelWrapped(t, "unix", sptest.NewKernel(), cfg, wrap)
	p, _ := dialWire(t, url)
	p.guest("inline")
	return srv, p
}

func TestQuickSyscallsRunOnTheReaderWithoutAWorker(t *testing.T) {
	for _, inline := range []bool{true, false} {
		srv, p := inlineServer(t, func(c *sp.ServerConfig) { c.InlineQuickSyscalls = inline }, nil)
		for range 20 {
			assert.Equal(t, uint64(2), p.getpid()[0])
		}
		if inline {
			assert.Zero(t, srv.Stats().Workers, "quick calls start no worker")
		} else {
			assert.Positive(t, srv.Stats().Workers, "with InlineQuickSyscalls off, workers run every call")
		}
	}
}

// A quick call that waits for its client (open's COPYINSTR) hands reading
// to a new goroutine first: the client's next call is read and answered
// while the first one waits.
func TestAQuickCallWaitingForItsClientLeavesTheConnectionReading(t *testing.T) {
	_, p := inlineServer(t, nil, nil)
	path := uint64(0x1000)
	open := p.send(netbsd.SYS_open, p.args(netbsd.SYS_open, path, netbsd.O_CREAT|netbsd.O_RDWR, 0o644))
	req := p.read()
	require.Equal(t, sp.TypeCopyInStr, req.Type, "open asks for its path")

	pid := p.send(netbsd.SYS_getpid, nil)
	f := p.read()
	require.Equal(t, sp.Header{Len: 48, Reqno: pid, Class: sp.ClassResp, Type: sp.TypeSyscall}, f.Header,
		"getpid is answered while open waits for its path")

	p.write(sp.Header{Reqno: req.Reqno, Class: sp.ClassResp, Type: sp.TypeCopyIn}, []byte("/f\x00"))
	f = p.read()
	require.Equal(t, sp.Header{Len: 48, Reqno: open, Class: sp.ClassResp, Type: sp.TypeSyscall}, f.Header)
	r, err := p.codec.ParseSysresp(f.Body)
	require.NoError(t, err)
	assert.Zero(t, r.Errno, "the open succeeds")
	assert.Equal(t, uint64(2), p.getpid()[0], "and the connection goes on")
}

// A client that leaves while an inline call waits for it is torn down:
// the waiting call wakes, the server forgets the client.
func TestAClientLeavingWhileAQuickCallWaitsForItIsCleanedUp(t *testing.T) {
	srv, p := inlineServer(t, nil, nil)
	p.send(netbsd.SYS_open, p.args(netbsd.SYS_open, 0x1000, netbsd.O_RDONLY, 0))
	require.Equal(t, sp.TypeCopyInStr, p.read().Type)
	p.conn.Close()
	waitFor(t, 5*time.Second, "the server lets the client go", func() bool {
		s := srv.Stats()
		return s.Clients == 0 && s.RunningSyscalls == 0
	})
}

// frameTypes splits one write into its frames' types.
func frameTypes(t *testing.T, w []byte) []sp.Type {
	var out []sp.Type
	for len(w) > 0 {
		require.GreaterOrEqual(t, len(w), sp.HeaderSize)
		n := binary.LittleEndian.Uint64(w)
		require.True(t, n >= sp.HeaderSize && n <= uint64(len(w)), "a write holds whole frames")
		out = append(out, sp.Type(binary.LittleEndian.Uint16(w[18:])))
		w = w[n:]
	}
	return out
}

func TestACallsCopyOutGoesOutWithItsReplyInOneWrite(t *testing.T) {
	for _, coalesce := range []bool{true, false} {
		var mu sync.Mutex
		var logs []*writeLog
		wrap := func(c net.Conn) net.Conn {
			l := &writeLog{side: "server"}
			mu.Lock()
			logs = append(logs, l)
			mu.Unlock()
			return loggedConn{Conn: c, log: l}
		}
		_, p := inlineServer(t, func(c *sp.ServerConfig) { c.CoalesceCopyOut = coalesce }, wrap)
		r := p.syscall(netbsd.SYS_open, p.args(netbsd.SYS_open, 0x1000, netbsd.O_CREAT|netbsd.O_RDWR, 0o644),
			func(*sp.Frame) []byte { return []byte("/f\x00") })
		require.Zero(t, r.Errno)
		var copied []byte
		r = p.syscall(netbsd.SYS___fstat50, p.args(netbsd.SYS___fstat50, r.Retval[0], 0x2000), func(f *sp.Frame) []byte {
			require.Equal(t, sp.TypeCopyOut, f.Type)
			copied = f.Body
			return nil
		})
		require.Zero(t, r.Errno)
		require.NotEmpty(t, copied, "the stat arrives before the reply either way")

		mu.Lock()
		require.Len(t, logs, 1)
		l := logs[0]
		mu.Unlock()
		l.mu.Lock()
		last := frameTypes(t, l.writes[len(l.writes)-1])
		l.mu.Unlock()
		if coalesce {
			assert.Equal(t, []sp.Type{sp.TypeCopyOut, sp.TypeSyscall}, last, "COPYOUT and reply in one write, in order")
		} else {
			assert.Equal(t, []sp.Type{sp.TypeSyscall}, last, "the reply alone")
		}
	}
}

// A quick call reads the answers to its own COPYINs on the connection's
// reader, as NetBSD's server does: no new reader and no wakeup between
// goroutines per COPYIN. Only when the client sends something else
// meanwhile, or CopyTimeout must be able to cut the wait, does reading
// move to a new goroutine.
func TestAQuickCallReadsItsOwnCopyInAnswers(t *testing.T) {
	for _, tc := range []struct {
		name        string
		copyTimeout time.Duration
		handOffs    bool
	}{
		{"by default", 0, false},
		{"with a CopyTimeout", 5 * time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, p := inlineServer(t, func(c *sp.ServerConfig) { c.CopyTimeout = tc.copyTimeout }, nil)
			serve := func(req *sp.Frame) []byte { return []byte("/f\x00") }
			for range 10 {
				r := p.syscall(netbsd.SYS_open, p.args(netbsd.SYS_open, 0x1000, netbsd.O_CREAT|netbsd.O_RDWR, 0o644), serve)
				require.Zero(t, r.Errno)
				p.syscall(netbsd.SYS_close, p.args(netbsd.SYS_close, r.Retval[0]), nil)
			}
			assert.Equal(t, tc.handOffs, srv.Stats().ReaderHandOffs > 0, "%d hand-offs", srv.Stats().ReaderHandOffs)
			if !tc.handOffs {
				// After a hand-off the new reader may meet the next call
				// while the last one is still finishing, and queue it for
				// a worker; reading its own answers, the call never races
				// its successor.
				assert.Zero(t, srv.Stats().Workers, "no worker ran them")
			}
		})
	}
	t.Run("a frame meanwhile moves reading", func(t *testing.T) {
		srv, p := inlineServer(t, nil, nil)
		p.send(netbsd.SYS_open, p.args(netbsd.SYS_open, 0x1000, netbsd.O_RDONLY, 0))
		require.Equal(t, sp.TypeCopyInStr, p.read().Type)
		assert.Zero(t, srv.Stats().ReaderHandOffs)
		assert.Equal(t, uint64(2), p.getpid()[0], "getpid is answered while open waits")
		assert.Equal(t, uint64(1), srv.Stats().ReaderHandOffs)
	})
}
