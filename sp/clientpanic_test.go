package sp_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// A Trace hook that panics once as a request goes out, the panic
// recovered by the caller (guest/scenario's runner recovers and then
// cleans up through the same client): the write lock and the reading
// must not stay taken, so the next call gets its reply and Close
// returns.
func TestARecoveredPanicInATraceHookLeavesTheClientWorking(t *testing.T) {
	url, _ := fakeServer(t, goldenBanner, func(conn net.Conn) error {
		f, err := acceptedGuest(conn)
		if err != nil {
			return err
		}
		for {
			s, err := f.expect(sp.ClassReq, sp.TypeSyscall)
			if err != nil {
				return nil
			}
			if err := f.reply(s.Reqno, 0, [2]uint64{1, 0}); err != nil {
				return err
			}
		}
	})
	var panicked atomic.Bool
	cfg := sp.DefaultClientConfig(mustABI("amd64"))
	cfg.Trace = func(d sp.Direction, f *sp.Frame) {
		if d == sp.Sent && f.Type == sp.TypeSyscall && panicked.CompareAndSwap(false, true) {
			panic("hook")
		}
	}
	c := dialFake(t, url, cfg)
	require.NoError(t, c.HandshakeGuest(ctxT(t)))
	func() {
		defer func() { recover() }()
		c.Syscall(context.Background(), netbsd.SYS_getpid)
	}()
	require.True(t, panicked.Load())
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := c.Syscall(ctx, netbsd.SYS_getpid); done <- err }()
	select {
	case err := <-done:
		require.NoError(t, err, "the next call")
	case <-time.After(3 * time.Second):
		require.FailNow(t, "the next call ignores its context and hangs")
	}
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	select {
	case <-closed:
	case <-time.After(3 * time.Second):
		require.FailNow(t, "Close hangs")
	}
}
