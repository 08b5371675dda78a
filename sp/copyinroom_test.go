package sp_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// quickScriptKernel is copyScriptKernel whose every syscall is quick, so
// that the server runs it on the connection's reader and recycles its
// call, COPYIN room and all.
type quickScriptKernel struct{ copyScriptKernel }

func (k *quickScriptKernel) Quick(netbsd.Sysno) bool { return true }

// A call lends its COPYIN room once per syscall: a kernel that copies in
// twice in one syscall holds both copies whole, and each syscall sees
// its own bytes while the room passes from syscall to syscall. A
// preloading client's write comes in that room, so the syscall's
// COPYIN of the bytes past it must not land there.
func TestACallLendsItsCopyInRoomOncePerSyscall(t *testing.T) {
	for _, preload := range []bool{false, true} {
		t.Run(map[bool]string{false: "copied in", true: "preloaded"}[preload], func(t *testing.T) {
			type seen struct{ first, second string }
			var got []seen
			k := &quickScriptKernel{copyScriptKernel{script: func(ctx context.Context, req *sp.SyscallRequest) sp.Result {
				args, _, _ := req.Args()
				buf, n := args[1], int(args[2])
				// The buffer, then as many bytes past it: the write's own
				// bytes are what a preloading client sends with it.
				a, err := req.Mem.CopyIn(ctx, buf, n)
				require.NoError(t, err)
				b, err := req.Mem.CopyIn(ctx, buf+uint64(n), n)
				require.NoError(t, err)
				got = append(got, seen{string(a), string(b)})
				return sp.Result{Retval: [2]uint64{uint64(n)}}
			}}}
			_, url := serveKernel(t, "unix", k, sp.DefaultServerConfig(mustABI("amd64")))
			c, mem, ctx := guestOf(t, url, preload)
			require.Equal(t, preload, c.Preloads())
			const n = 200 // past what a frame carries in its own room
			for i := range 4 {
				first, second := bytes.Repeat([]byte{byte('a' + i)}, n), bytes.Repeat([]byte{byte('A' + i)}, n)
				buf := mem.Alloc(2*n, append(append([]byte(nil), first...), second...))
				r, err := c.Syscall(ctx, netbsd.SYS_write, 1, buf, n)
				require.NoError(t, err)
				require.Zero(t, r.Errno)
				require.Len(t, got, i+1)
				assert.Equal(t, seen{string(first), string(second)}, got[i], "syscall %d's two copies", i)
			}
		})
	}
}
