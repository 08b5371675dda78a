package sp_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// A server and a client whose readers poll (ReadSpin, as sprig serve and
// sprig bench's clients do) serve calls one at a time and many at once as
// sleeping readers do: concurrent calls, COPYIN round trips and a COPYOUT.
func TestPollingReadersServeAsSleepingOnesDo(t *testing.T) {
	for _, scheme := range []string{"unix", "tcp"} {
		t.Run(scheme, func(t *testing.T) {
			scfg := sp.DefaultServerConfig(mustABI("amd64"))
			scfg.ReadSpin = sp.DefaultReadSpin
			ts := startServer(t, scheme, scfg)
			ccfg := sp.DefaultClientConfig(mustABI("amd64"))
			ccfg.ReadSpin = sp.DefaultReadSpin
			c, mem := dialClient(t, ts.url, ccfg)
			ctx := ctxT(t)
			fd := createdFile(t, ctx, c, mem, "/f")
			msg := []byte("polled, not woken")
			src := mem.Alloc(len(msg), msg)
			dst, back := mem.AllocBytes(len(msg))
			for range 200 {
				r, err := c.Syscall(ctx, netbsd.SYS_getpid)
				require.NoError(t, err)
				require.Equal(t, [2]uint64{2, 1}, r.Retval)
			}
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 100 {
						r, err := c.Syscall(ctx, netbsd.SYS_write, fd, src, uint64(len(msg)))
						if err == nil && r.Retval[0] != uint64(len(msg)) {
							err = fmt.Errorf("write wrote %d: %v", r.Retval[0], r.Err())
						}
						if err != nil {
							errs <- err
							return
						}
						if _, err := c.Syscall(ctx, netbsd.SYS_getpid); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			_, err := c.Syscall(ctx, netbsd.SYS_lseek, fd, 0, netbsd.SEEK_SET)
			require.NoError(t, err)
			r, err := c.Syscall(ctx, netbsd.SYS_read, fd, dst, uint64(len(msg)))
			require.NoError(t, err)
			require.Equal(t, uint64(len(msg)), r.Retval[0])
			assert.Equal(t, msg, back)
		})
	}
}
