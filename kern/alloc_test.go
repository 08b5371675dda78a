package kern_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// The frames of a pread and a pwrite, and their COPYOUT and COPYIN, cost
// no allocation in sp, on either side, whether they move 64 bytes, 64
// KiB or 1 MiB: what is left is the kernel's and the client Memory's
// own. Client and server run in this process.
func TestACopyRoundTripAllocatesOnlyWhatTheKernelAndMemoryKeep(t *testing.T) {
	c, mem, ctx := amd64Client(t, sp.DefaultClientConfig(abi.MustLookup("amd64")))
	r, err := c.Syscall(ctx, netbsd.SYS_open, mem.AllocString("/data"), netbsd.O_CREAT|netbsd.O_RDWR, 0o600)
	require.NoError(t, err)
	require.Zero(t, r.Errno)
	fd := r.Retval[0]
	for _, size := range []int{64, 64 << 10, 1 << 20} {
		answer := 1.0 // the COPYIN answer the kernel takes: a frame with room for a small body
		if size > 64 {
			answer = 2 // and the body apart
		}
		buf, _ := mem.AllocBytes(size)
		args := []any{fd, buf, size, 0} // boxed once: boxing is the caller's
		run := func(num netbsd.Sysno) float64 {
			var err error
			var got uint64
			allocs := testing.AllocsPerRun(max(10, 200<<10/size), func() {
				var r sp.Result
				r, err = c.Syscall(ctx, num, args...)
				got = r.Retval[0]
			})
			require.NoError(t, err)
			require.Equal(t, uint64(size), got, "%s of %d bytes moved %d", num, size, got)
			return allocs
		}
		assert.LessOrEqual(t, run(netbsd.SYS_pwrite), 2+answer, "allocations per pwrite of %d bytes: the kernel's call, "+
			"the bytes the client's Memory copies in, the COPYIN answer the kernel takes", size)
		assert.LessOrEqual(t, run(netbsd.SYS_pread), 1.0, "allocations per pread of %d bytes: the kernel's call", size)
	}
}

// Reads share pooled buffers, which one read leaves full of its bytes:
// a hole read after them still reads as zeros, in buffers of either size.
func TestAHoleReadAfterOtherReadsIsZeros(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		for _, size := range []int{8 << 10, 256 << 10} {
			full := e.open(fmt.Sprintf("/full%d", size), netbsd.O_CREAT|netbsd.O_RDWR, 0o600)
			ones := bytes.Repeat([]byte{0xff}, size)
			e.ok(netbsd.SYS_pwrite, full, e.bytes(ones), uint64(size), 0)
			sparse := e.open(fmt.Sprintf("/sparse%d", size), netbsd.O_CREAT|netbsd.O_RDWR, 0o600)
			e.ok(netbsd.SYS_pwrite, sparse, e.bytes([]byte{1}), 1, uint64(size-1)) // a hole, then one byte
			buf := e.buf(size)
			want := make([]byte, size)
			want[size-1] = 1
			for i := range 10 {
				require.Equal(t, uint64(size), e.ok(netbsd.SYS_pread, full, buf, uint64(size), 0))
				require.Equal(t, ones, e.mem.Read(buf, size))
				require.Equal(t, uint64(size), e.ok(netbsd.SYS_pread, sparse, buf, uint64(size), 0))
				require.Equal(t, want, e.mem.Read(buf, size), "read %d of the sparse file of %d bytes", i, size)
			}
		}
	})
}
