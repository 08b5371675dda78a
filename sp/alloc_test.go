package sp_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// A null syscall's round trip, client and server in one process,
// allocates nothing: the server reads each SYSCALL into the frame (and
// call) of the one before, the client each reply into the frame of the
// reply before, and the arguments are encoded on the caller's stack.
func TestANullSyscallRoundTripAllocatesNothing(t *testing.T) {
	c, ctx := guestClient(t)
	var err error
	allocs := testing.AllocsPerRun(2000, func() {
		if _, e := c.Syscall(ctx, netbsd.SYS_getpid); e != nil {
			err = e
		}
	})
	require.NoError(t, err)
	assert.Zero(t, allocs, "allocations per getpid round trip, both sides")
}

// The server reuses a SYSCALL's frame only when nothing else can hold
// it: frames a server Trace hook saw keep what they carried.
func TestSyscallFramesATraceHookSawKeepTheirBodies(t *testing.T) {
	d := mustABI("amd64")
	cfg := sp.DefaultServerConfig(d)
	var mu sync.Mutex
	var seen []*sp.Frame
	cfg.Trace = func(_ *sp.ConnInfo, dir sp.Direction, f *sp.Frame) {
		if dir == sp.Received && f.Class == sp.ClassReq && f.Type == sp.TypeSyscall {
			mu.Lock()
			seen = append(seen, f)
			mu.Unlock()
		}
	}
	ts := startServer(t, "unix", cfg)
	c, _ := dialClient(t, ts.url, sp.DefaultClientConfig(d))
	ctx := ctxT(t)
	require.NoError(t, c.HandshakeGuest(ctx))
	const calls = 20
	for fd := 100; fd < 100+calls; fd++ {
		_, err := c.Syscall(ctx, netbsd.SYS_close, fd)
		require.NoError(t, err)
	}
	codec := sp.NewCodec(d)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, seen, calls)
	for i, f := range seen {
		fd, err := codec.ParseInt(f.Body[:4])
		require.NoError(t, err)
		assert.Equal(t, int32(100+i), fd, "the body of SYSCALL %d changed after the hook saw it", i)
	}
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
