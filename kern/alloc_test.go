package kern_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/sptest"
)

// A getpid and a pread allocate nothing, client, server and kernel
// together, whether the pread moves 64 bytes, 64 KiB or 1 MiB; a pwrite
// allocates only the COPYIN answer's frame, its body read into the room
// the pwrite before lent (up to 64 KiB; past that the body too). Client
// and server run in this process.
func TestARoundTripThroughKernAllocatesOnlyTheCopyInAnswer(t *testing.T) {
	c, mem, ctx := amd64Client(t, sp.DefaultClientConfig(abi.MustLookup("amd64")))
	fd := openData(t, c, mem, ctx)
	var err error
	assert.Zero(t, testing.AllocsPerRun(200, func() { _, err = c.Syscall(ctx, netbsd.SYS_getpid) }), "allocations per getpid")
	require.NoError(t, err)
	for _, size := range []int{64, 64 << 10, 1 << 20} {
		answer := 1.0 // the COPYIN answer's frame, its body in the frame's or the call's room
		if size > 64<<10 {
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
		assert.LessOrEqual(t, run(netbsd.SYS_pwrite), answer, "allocations per pwrite of %d bytes: the COPYIN answer's frame", size)
		assert.Zero(t, run(netbsd.SYS_pread), "allocations per pread of %d bytes", size)
	}
}

// Arguments given as values (SyscallValues) are not boxed: a pread whose
// buffer address and offset change call after call allocates nothing,
// where Syscall boxes the address each time.
func TestSyscallValuesBoxNothing(t *testing.T) {
	c, mem, ctx := amd64Client(t, sp.DefaultClientConfig(abi.MustLookup("amd64")))
	fd := openData(t, c, mem, ctx)
	buf, _ := mem.AllocBytes(4096)
	var i uint64
	var r sp.Result
	var err error
	allocs := testing.AllocsPerRun(200, func() {
		i++
		r, err = c.SyscallValues(ctx, netbsd.SYS_pread, fd, buf+i%64, 64, i%64)
	})
	require.NoError(t, err)
	require.Zero(t, r.Errno)
	assert.Zero(t, allocs, "allocations per pread with fresh values")
}

// A client serves COPYINs into buffers it reuses, and the server reads
// COPYIN answers and PRELOADs into rooms its calls pass on: each pwrite
// still writes its own bytes, whatever size came before it, preloaded
// or not, and with a Trace hook every COPYIN answer the hook saw keeps
// the bytes it carried.
func TestCopyInsServedFromReusedBuffersCarryEachWritesOwnBytes(t *testing.T) {
	for _, tc := range []struct{ traced, preload bool }{{false, false}, {true, false}, {false, true}} {
		traced := tc.traced
		t.Run(fmt.Sprintf("traced=%v,preload=%v", traced, tc.preload), func(t *testing.T) {
			var mu sync.Mutex
			var answers [][]byte
			cc := sp.DefaultClientConfig(abi.MustLookup("amd64"))
			cc.Preload = tc.preload
			if traced {
				cc.Trace = func(d sp.Direction, f *sp.Frame) {
					if d == sp.Sent && f.Class == sp.ClassResp && f.Type == sp.TypeCopyIn {
						mu.Lock()
						answers = append(answers, f.Body)
						mu.Unlock()
					}
				}
			}
			c, mem, ctx := amd64Client(t, cc)
			fd := openData(t, c, mem, ctx)
			mu.Lock()
			answers = nil // the open's COPYINSTR
			mu.Unlock()
			src, srcB := mem.AllocBytes(1 << 20)
			dst, _ := mem.AllocBytes(1 << 20)
			sizes := []int{64, 1 << 20, 100, 64 << 10, 1 << 20, 64, 200, 64 << 10, 300}
			var wrote [][]byte
			for i, size := range sizes {
				want := bytes.Repeat([]byte{byte('a' + i)}, size)
				copy(srcB, want)
				r, err := c.Syscall(ctx, netbsd.SYS_pwrite, fd, src, size, 0)
				require.NoError(t, err)
				require.Equal(t, uint64(size), r.Retval[0])
				r, err = c.Syscall(ctx, netbsd.SYS_pread, fd, dst, size, 0)
				require.NoError(t, err)
				require.Equal(t, uint64(size), r.Retval[0])
				require.True(t, bytes.Equal(want, mem.Read(dst, size)), "pwrite %d (%d bytes) wrote other bytes", i, size)
				wrote = append(wrote, want)
			}
			if !traced {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			require.Equal(t, len(sizes), len(answers), "COPYIN answers the hook saw")
			for i, a := range answers {
				assert.True(t, bytes.Equal(wrote[i], a), "the COPYIN answer of pwrite %d changed after the hook saw it", i)
			}
		})
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

// openData opens /data, created read-write, through c.
func openData(t *testing.T, c *sp.Client, mem *sptest.Memory, ctx context.Context) uint64 {
	t.Helper()
	r, err := c.Syscall(ctx, netbsd.SYS_open, mem.AllocString("/data"), netbsd.O_CREAT|netbsd.O_RDWR, 0o600)
	require.NoError(t, err)
	require.Zero(t, r.Errno)
	return r.Retval[0]
}

// A preloading client's pwrite allocates no more than the standard one:
// the PRELOAD the server keeps, frame and preload in one allocation (and
// its body apart past 128 bytes), takes the place of the COPYIN answer;
// a stat's preloaded path allocates no more than its COPYINSTR did.
func TestAPreloadedRoundTripAllocatesNoMoreThanTheStandardOne(t *testing.T) {
	allocs := map[bool]map[string]float64{}
	for _, preload := range []bool{false, true} {
		cfg := sp.DefaultClientConfig(abi.MustLookup("amd64"))
		cfg.Preload = preload
		c, mem, ctx := amd64Client(t, cfg)
		require.Equal(t, preload, c.Preloads())
		fd := openData(t, c, mem, ctx)
		path := mem.AllocString("/data")
		st, _ := mem.AllocBytes(256)
		allocs[preload] = map[string]float64{}
		for _, size := range []int{64, 64 << 10} {
			buf, _ := mem.AllocBytes(size)
			args := []any{fd, buf, size, 0} // boxed once: boxing is the caller's
			var err error
			var got uint64
			allocs[preload][fmt.Sprint("pwrite/", size)] = testing.AllocsPerRun(200, func() {
				var r sp.Result
				r, err = c.Syscall(ctx, netbsd.SYS_pwrite, args...)
				got = r.Retval[0]
			})
			require.NoError(t, err)
			require.Equal(t, uint64(size), got)
		}
		var r sp.Result
		var err error
		allocs[preload]["stat"] = testing.AllocsPerRun(200, func() { r, err = c.Syscall(ctx, netbsd.SYS___stat50, path, st) })
		require.NoError(t, err)
		require.Zero(t, r.Errno)
	}
	for op, n := range allocs[false] {
		assert.LessOrEqual(t, allocs[true][op], n, "allocations per %s, preloaded against standard", op)
	}
	assert.LessOrEqual(t, allocs[true]["pwrite/64"], 1.0, "allocations per preloaded pwrite of 64 bytes")
}
