package sp_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/sptest"
)

// hookConn calls onClear when a read deadline set to stop a caller is cleared.
type hookConn struct {
	net.Conn
	stopped atomic.Bool
	onClear func()
}

func (h *hookConn) SetReadDeadline(t time.Time) error {
	err := h.Conn.SetReadDeadline(t)
	if !t.IsZero() {
		h.stopped.Store(true)
	} else if h.stopped.Swap(false) && h.onClear != nil {
		h.onClear()
	}
	return err
}

// gateCtx's Err, once armed, waits for gate once: it holds its caller at
// that point, as the scheduler may.
type gateCtx struct {
	context.Context
	armed atomic.Bool
	gate  chan struct{}
}

func (g *gateCtx) Err() error {
	if g.armed.CompareAndSwap(true, false) {
		<-g.gate
	}
	return g.Context.Err()
}

// A translated call whose caller gave up keeps its regions until its
// late reply comes (clientgivenup.go). When that caller had become the
// reader before it sent its request (leadFirst), another reader may
// start as soon as it stops reading: the late reply must find the call
// kept all the same. A context whose Err pauses once holds the giving-up
// caller at the point the scheduler might, while B's call reads on.
func TestAGivenUpCallsLateReplyFindsItWhoeverReadsIt(t *testing.T) {
	gotA, gotBoth, released := make(chan struct{}), make(chan struct{}), make(chan struct{})
	url, done := fakeServer(t, goldenBanner, func(conn net.Conn) error {
		f, err := acceptedGuest(conn)
		if err != nil {
			return err
		}
		a, err := f.expect(sp.ClassReq, sp.TypeSyscall)
		if err != nil {
			return err
		}
		close(gotA)
		b, err := f.expect(sp.ClassReq, sp.TypeSyscall)
		if err != nil {
			return err
		}
		close(gotBoth)
		<-released
		if err := f.reply(a.Reqno, 0, [2]uint64{}); err != nil {
			return err
		}
		return f.reply(b.Reqno, 0, [2]uint64{222, 0})
	})
	u, err := sp.ParseURL(url)
	require.NoError(t, err)
	raw, err := u.Dial(ctxT(t))
	require.NoError(t, err)
	conn := &hookConn{Conn: raw.(net.Conn)}
	cfg := sp.DefaultClientConfig(mustABI("mips"))
	cfg.Mode = sp.ModeClientTranslates
	cfg.Memory = sptest.NewMemory(0x10000, 1<<16)
	var log logBuf
	cfg.Logger = slog.New(slog.NewTextHandler(&log, nil))
	c, err := sp.NewClient(conn, cfg)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.HandshakeGuest(ctxT(t)))

	inner, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctxA := &gateCtx{Context: inner, gate: make(chan struct{})}
	conn.onClear = func() { ctxA.armed.Store(true); close(released) }
	errA := make(chan error, 1)
	go func() {
		_, err := c.Syscall(ctxA, netbsd.SYS___fstat50, 3, 0x10040)
		errA <- err
	}()
	<-gotA
	errB := make(chan error, 1)
	go func() {
		r, err := c.Syscall(context.Background(), netbsd.SYS_getpid)
		if err == nil && r.Retval[0] != 222 {
			err = assert.AnError
		}
		errB <- err
	}()
	<-gotBoth
	cancel()
	select {
	case err := <-errB:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		require.FailNow(t, "B never got its reply")
	}
	close(ctxA.gate)
	require.ErrorIs(t, <-errA, context.Canceled)
	waitFake(t, done)
	t.Logf("log: %s", strings.TrimSpace(log.String()))
	assert.Zero(t, sp.XlateRegions(c), "the given-up call's regions outlived its late reply")
}
