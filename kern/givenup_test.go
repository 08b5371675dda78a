package kern_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/sptest"
)

// In client-translates mode a call whose caller gave up still runs on
// the server, and its late COPYOUT is found by address only. It must
// still find its own call's region, not that of a neighbour in flight
// whose guessed 4 KiB extent covers the address: that neighbour (here a
// correct fstat) would take the bytes for its typed data, fail to
// translate them and answer ENOSYS.
func TestALateCopyOfACallGivenUpOnLeavesOtherCallsAlone(t *testing.T) {
	c, mem, ctx, fd := translatingClientWithAFile(t)
	sb, _ := mem.AllocBytes(512)
	next, _ := mem.AllocBytes(4096)
	require.Equal(t, sb+512, next, "the pread's buffer lies inside the fstat's guessed extent")

	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() { // preads given up on at once: their COPYOUTs come late
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			cctx, cc := context.WithTimeout(ctx, time.Duration(i%200)*time.Microsecond)
			c.Syscall(cctx, netbsd.SYS_pread, fd, next, 64, 0)
			cc()
		}
	}()
	enosys := 0
	const fstats = 4000
	for range fstats {
		r, err := c.Syscall(ctx, netbsd.SYS___fstat50, fd, sb)
		require.NoError(t, err)
		if r.Errno == netbsd.ENOSYS {
			enosys++
		}
	}
	close(stop)
	wg.Wait()
	require.Zero(t, enosys, "fstat answered ENOSYS %d times of %d", enosys, fstats)
}

// A pread given up on and an fstat after it on the same buffer: the
// pread's late COPYOUT lands at the address the fstat's region starts at
// too, and goes to the region that can take it (the pread's plain bytes),
// not to the later one whose typed struct it is not.
func TestALateCopyGoesToTheRegionThatTakesIt(t *testing.T) {
	c, mem, ctx, fd := translatingClientWithAFile(t)
	buf, _ := mem.AllocBytes(4096)
	enosys, gaveUp := 0, 0
	const n = 1500
	for i := range n {
		cctx, cancel := context.WithTimeout(ctx, time.Duration(i%100)*time.Microsecond)
		if _, err := c.Syscall(cctx, netbsd.SYS_pread, fd, buf, 64, 0); err != nil {
			gaveUp++
		}
		cancel()
		r, err := c.Syscall(ctx, netbsd.SYS___fstat50, fd, buf)
		require.NoError(t, err)
		if r.Errno == netbsd.ENOSYS {
			enosys++
		}
	}
	t.Logf("%d of %d preads given up on", gaveUp, n)
	require.Zero(t, enosys, "fstat answered ENOSYS %d times of %d", enosys, n)
}

// translatingClientWithAFile is a mips client that translates its own
// frames for an amd64 kernel (amd64Client), with fd open on a file of 64
// bytes.
func translatingClientWithAFile(t *testing.T) (*sp.Client, *sptest.Memory, context.Context, uint64) {
	t.Helper()
	cc := sp.DefaultClientConfig(abi.MustLookup("mips"))
	cc.Mode = sp.ModeClientTranslates
	c, mem, ctx := amd64Client(t, cc)
	r, err := c.Syscall(ctx, netbsd.SYS_open, mem.AllocString("/f"), netbsd.O_CREAT|netbsd.O_RDWR, 0o600)
	require.NoError(t, err)
	fd := r.Retval[0]
	data, _ := mem.AllocBytes(64)
	_, err = c.Syscall(ctx, netbsd.SYS_pwrite, fd, data, 64, 0)
	require.NoError(t, err)
	return c, mem, ctx, fd
}
