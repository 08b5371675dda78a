package sp_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// A null syscall's round trip, client and server in one process,
// allocates only the server's request (with the call that runs it):
// the client reads each reply into the frame of the reply before it.
// Nothing is allocated per frame written, nor for the bookkeeping in
// between (waiters, the syscall request, the reply's body).
func TestANullSyscallAllocatesOnlyTheServersFrame(t *testing.T) {
	c, ctx := guestClient(t)
	var err error
	allocs := testing.AllocsPerRun(2000, func() {
		if _, e := c.Syscall(ctx, netbsd.SYS_getpid); e != nil {
			err = e
		}
	})
	require.NoError(t, err)
	assert.LessOrEqual(t, allocs, 1.0, "allocations per getpid round trip, both sides")
}

// guestClient is an amd64 client that has made its GUEST handshake with
// a server of the test kernel in this process.
func guestClient(tb testing.TB) (*sp.Client, context.Context) {
	d := mustABI("amd64")
	ts := startServer(tb, "unix", sp.DefaultServerConfig(d))
	c, _ := dialClient(tb, ts.url, sp.DefaultClientConfig(d))
	ctx := ctxT(tb)
	require.NoError(tb, c.HandshakeGuest(ctx))
	return c, ctx
}

// BenchmarkNullSyscallInProcess is a getpid round trip with client and
// server in one process, for profiling sp itself (rig/bench times it
// against its floor, across processes).
func BenchmarkNullSyscallInProcess(b *testing.B) {
	c, ctx := guestClient(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Syscall(ctx, netbsd.SYS_getpid); err != nil {
			b.Fatal(err)
		}
	}
}
