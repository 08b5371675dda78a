package kern_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/kern"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/sptest"
)

// The frames of a pread and a pwrite of 64 bytes, and their COPYOUT and
// COPYIN, cost no allocation in sp, on either side: what is left is the
// kernel's and the memory's own. Client and server run in this process.
func TestACopyRoundTripAllocatesOnlyWhatTheKernelAndMemoryKeep(t *testing.T) {
	d := abi.MustLookup("amd64")
	cfg := kern.DefaultConfig()
	cfg.ABI = d
	k, err := kern.New(cfg)
	require.NoError(t, err)
	url := serve(t, k, sp.DefaultServerConfig(d))
	mem := sptest.NewMemory(0x10000, 1<<16)
	cc := sp.DefaultClientConfig(d)
	cc.Memory = mem
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := sp.Dial(ctx, url, cc)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.HandshakeGuest(ctx))
	r, err := c.Syscall(ctx, netbsd.SYS_open, mem.AllocString("/data"), netbsd.O_CREAT|netbsd.O_RDWR, 0o600)
	require.NoError(t, err)
	require.Zero(t, r.Errno)
	buf, _ := mem.AllocBytes(64)
	args := []any{r.Retval[0], buf, 64, 0} // boxed once: boxing is the caller's
	run := func(num netbsd.Sysno) float64 {
		var err error
		var got uint64
		allocs := testing.AllocsPerRun(500, func() {
			var r sp.Result
			r, err = c.Syscall(ctx, num, args...)
			got = r.Retval[0]
		})
		require.NoError(t, err)
		require.Equal(t, uint64(64), got, "%s moved %d bytes", num, got)
		return allocs
	}
	assert.LessOrEqual(t, run(netbsd.SYS_pwrite), 3.0, "allocations per pwrite: the kernel's call, "+
		"the bytes the client's Memory copies in, the COPYIN answer the kernel takes")
	assert.LessOrEqual(t, run(netbsd.SYS_pread), 2.0, "allocations per pread: the kernel's call and the bytes its file hands back")
}
