package sp_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

func TestClientAndServerRunFileSyscallsAcrossABIs(t *testing.T) {
	pairs := []struct {
		client, server string
		mode           sp.Mode
	}{
		{"amd64", "amd64", sp.ModeNative},
		{"arm64", "amd64", sp.ModeNative},
		{"i386", "amd64", sp.ModeServerTranslates},
		{"i386", "amd64", sp.ModeClientTranslates},
		{"mips", "amd64", sp.ModeServerTranslates},
		{"mips", "amd64", sp.ModeClientTranslates},
		{"amd64", "sparc64", sp.ModeClientTranslates},
		{"arm", "i386", sp.ModeServerTranslates},
	}
	for _, scheme := range []string{"unix", "tcp"} {
		for _, v := range []sp.Version{sp.Version01, sp.Version04} {
			for _, p := range pairs {
				t.Run(scheme+"/"+v.String()+"/"+p.client+"-"+p.server+"/"+p.mode.String(), func(t *testing.T) {
					scfg := sp.DefaultServerConfig(mustABI(p.server))
					scfg.Version = v
					ts := startServer(t, scheme, scfg)
					ccfg := sp.DefaultClientConfig(mustABI(p.client))
					ccfg.Mode = p.mode
					c, mem := dialClient(t, ts.url, ccfg)
					ctx := ctxT(t)
					require.NoError(t, c.HandshakeGuest(ctx))

					r, err := c.Syscall(ctx, netbsd.SYS_getpid)
					require.NoError(t, err)
					assert.Equal(t, [2]uint64{2, 1}, r.Retval)

					path := mem.AllocString("/tmp/a")
					r, err = c.Syscall(ctx, netbsd.SYS_open, path, netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
					require.NoError(t, err)
					require.Zero(t, r.Errno)
					fd := r.Retval[0]

					msg := []byte("hello, sysproxy")
					buf := mem.Alloc(len(msg), msg)
					r, err = c.Syscall(ctx, netbsd.SYS_write, fd, buf, uint64(len(msg)))
					require.NoError(t, err)
					assert.Equal(t, uint64(len(msg)), r.Retval[0])

					r, err = c.Syscall(ctx, netbsd.SYS_lseek, fd, 5<<30, netbsd.SEEK_SET)
					require.NoError(t, err)
					assert.Equal(t, uint64(5<<30), sp.JoinOff(c.ABI(), r.Retval))
					_, err = c.Syscall(ctx, netbsd.SYS_lseek, fd, 0, netbsd.SEEK_SET)
					require.NoError(t, err)

					out := mem.Alloc(64, nil)
					r, err = c.Syscall(ctx, netbsd.SYS_read, fd, out, 64)
					require.NoError(t, err)
					require.Equal(t, uint64(len(msg)), r.Retval[0])
					assert.Equal(t, msg, mem.Read(out, len(msg)))

					st := mem.Alloc(200, nil)
					r, err = c.Syscall(ctx, netbsd.SYS___fstat50, fd, st)
					require.NoError(t, err)
					require.Zero(t, r.Errno)
					var got netbsd.Stat
					l := netbsd.LayoutsFor(c.ABI()).Stat
					require.NoError(t, l.Decode(mem.Read(st, l.Size), &got))
					assert.Equal(t, int64(len(msg)), got.Size)
					assert.Equal(t, netbsd.NODEV, got.Rdev)
					assert.Equal(t, int64(123_456_789), got.Mtim.Nsec)

					r, err = c.Syscall(ctx, netbsd.SYS_kill, 2, uint64(netbsd.SIGUSR1))
					require.NoError(t, err)
					require.Zero(t, r.Errno)
					r, err = c.Syscall(ctx, netbsd.SYS_getpid) // the RAISE went out before this reply
					require.NoError(t, err)
					assert.Equal(t, []int32{int32(netbsd.SIGUSR1)}, mem.Signals())

					r, err = c.Syscall(ctx, 9999)
					require.NoError(t, err)
					assert.Equal(t, netbsd.ENOSYS, r.Errno)
				})
			}
		}
	}
}
