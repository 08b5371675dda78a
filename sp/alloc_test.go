package sp_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// A null syscall's round trip, client and server in one process,
// allocates only the frames it reads: the server's request (with the
// call that runs it) and the client's reply. Nothing is allocated per
// frame written, nor for the bookkeeping in between (waiters, the
// syscall request, the reply's body).
func TestANullSyscallAllocatesOnlyTheFramesItReads(t *testing.T) {
	d := mustABI("amd64")
	ts := startServer(t, "unix", sp.DefaultServerConfig(d))
	c, _ := dialClient(t, ts.url, sp.DefaultClientConfig(d))
	ctx := ctxT(t)
	require.NoError(t, c.HandshakeGuest(ctx))
	var err error
	allocs := testing.AllocsPerRun(2000, func() {
		if _, e := c.Syscall(ctx, netbsd.SYS_getpid); e != nil {
			err = e
		}
	})
	require.NoError(t, err)
	assert.LessOrEqual(t, allocs, 2.0, "allocations per getpid round trip, both sides")
}

// BenchmarkNullSyscallInProcess is a getpid round trip with client and
// server in one process, for profiling sp itself (rig/bench times it
// against its floor, across processes).
func BenchmarkNullSyscallInProcess(b *testing.B) {
	d := mustABI("amd64")
	ts := startServer(b, "unix", sp.DefaultServerConfig(d))
	c, _ := dialClient(b, ts.url, sp.DefaultClientConfig(d))
	ctx := ctxT(b)
	require.NoError(b, c.HandshakeGuest(ctx))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Syscall(ctx, netbsd.SYS_getpid); err != nil {
			b.Fatal(err)
		}
	}
}
