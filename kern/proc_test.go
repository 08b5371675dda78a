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

func TestIdentitySyscallsReportTheConfiguredCredentials(t *testing.T) {
	tune := func(c *kern.Config) { c.UID, c.GID = 4242, 77 }
	forEachSetup(t, tune, func(t *testing.T, e *env) {
		cases := []struct {
			name string
			num  netbsd.Sysno
			want [2]uint64
		}{
			{"getpid returns the pid and the parent's", netbsd.SYS_getpid, [2]uint64{2, 1}},
			{"getppid is pid 1, the server", netbsd.SYS_getppid, [2]uint64{1, 0}},
			{"getuid returns the real and the effective uid", netbsd.SYS_getuid, [2]uint64{4242, 4242}},
			{"geteuid", netbsd.SYS_geteuid, [2]uint64{4242, 0}},
			{"getgid returns the real and the effective gid", netbsd.SYS_getgid, [2]uint64{77, 77}},
			{"getegid", netbsd.SYS_getegid, [2]uint64{77, 0}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				r := e.call(tc.num)
				require.Zero(t, r.Errno)
				assert.Equal(t, tc.want, r.Retval)
			})
		}
		other, _ := e.dial()
		require.NoError(t, other.HandshakeGuest(e.ctx))
		assert.Equal(t, [2]uint64{3, 1}, callOn(t, e.ctx, other, netbsd.SYS_getpid).Retval, "the next guest is pid 3")
	})
}

func TestMmapAsksTheClientForAnonymousMemory(t *testing.T) {
	forEachSetup(t, withExtensions, func(t *testing.T, e *env) {
		e.create("/tmp/f", "x")
		fd := e.open("/tmp/f", netbsd.O_RDONLY, 0)
		const (
			rw   = netbsd.PROT_READ | netbsd.PROT_WRITE
			anon = netbsd.MAP_ANON | netbsd.MAP_PRIVATE
		)
		none := neg(-1)
		cases := []struct {
			name  string
			len   uint64
			flags int
			fd    uint64
			errno netbsd.Errno
		}{
			{"MAP_ANON returns the client's mapping", 8192, anon, none, 0},
			{"a zero length is EINVAL", 0, anon, none, netbsd.EINVAL},
			{"MAP_FIXED is EINVAL: the client picks the place", 4096, anon | netbsd.MAP_FIXED, none, netbsd.EINVAL},
			{"more than the client can give is ENOMEM", 64 << 20, anon, none, netbsd.ENOMEM},
			{"a file mapping is ENODEV", 4096, netbsd.MAP_PRIVATE, fd, netbsd.ENODEV},
			{"a file mapping of a bad descriptor is EBADF", 4096, netbsd.MAP_SHARED, 33, netbsd.EBADF},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				r := e.call(netbsd.SYS_mmap, 0, tc.len, rw, uint64(tc.flags), tc.fd, 0)
				require.Equal(t, tc.errno, r.Errno)
				if tc.errno == 0 {
					addr := r.Retval[0]
					require.NotZero(t, addr)
					assert.GreaterOrEqual(t, addr, e.mem.Base(), "the address is in the client's memory")
					assert.Len(t, e.mem.Read(addr, int(tc.len)), int(tc.len))
					assert.Zero(t, e.errno(netbsd.SYS_munmap, addr, tc.len), "munmap succeeds and leaves it be")
				}
			})
		}
		top := uint64(1)<<(8*e.abi().Pointer.Size) - 4096
		assert.Equal(t, netbsd.EINVAL, e.errno(netbsd.SYS_munmap, top, 8192), "a range wrapping the address space")
	})
}

func TestUnservedSyscallsAreENOSYS(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		cases := []struct {
			name string
			num  netbsd.Sysno
			args []uint64
		}{
			{"exit, which a rump kernel does not serve", netbsd.SYS_exit, []uint64{0}},
			{"kill, without the kill extension", netbsd.SYS_kill, []uint64{2, 0}},
			{"mmap, without the mmap extension", netbsd.SYS_mmap, []uint64{0, 4096, 3, netbsd.MAP_ANON, neg(-1), 0}},
			{"munmap, without the mmap extension", netbsd.SYS_munmap, []uint64{0x10000, 4096}},
			{"fork", 2, nil},
			{"execve", 59, nil},
			{"syscall 0", 0, nil},
			{"__socket30", netbsd.SYS___socket30, []uint64{netbsd.AF_INET, netbsd.SOCK_STREAM, 0}},
			{"a number sprig does not know", 9999, nil},
			{"a number that would be negative as an int", 0x8000_0003, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				assert.Equal(t, netbsd.ENOSYS, e.errno(tc.num, tc.args...))
			})
		}
	})
}

func TestAShortArgumentStructReadsMissingBytesAsZero(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		e.create("/tmp/f", "short")
		a := netbsd.LayoutsFor(e.c.WireABI()).Args(netbsd.SYS_open)
		body, err := a.Encode(0xee, e.str("/tmp/f"), netbsd.O_WRONLY|netbsd.O_TRUNC, 0o777)
		require.NoError(t, err)
		r, err := e.c.SyscallBody(e.ctx, netbsd.SYS_open, body[:a.Slots[0].Size])
		require.NoError(t, err)
		require.Zero(t, r.Errno, "flags and mode read as 0: O_RDONLY")
		assert.Equal(t, "short", e.read(r.Retval[0], 16), "nothing was truncated")
		r, err = e.c.SyscallBody(e.ctx, netbsd.SYS_close, nil)
		require.NoError(t, err)
		assert.Zero(t, r.Errno, "an empty body closes descriptor 0")
	})
}

func TestSlotPaddingGarbageIsIgnored(t *testing.T) {
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			e := newEnv(t, s, nil)
			e.create("/tmp/f", "0123456789")
			fd := e.open("/tmp/f", netbsd.O_RDONLY, 0)
			a := netbsd.LayoutsFor(e.c.WireABI()).Args(netbsd.SYS_lseek)
			body, err := a.Encode(0xa5, fd, 7, netbsd.SEEK_SET) // padding and PAD poisoned
			require.NoError(t, err)
			r, err := e.c.SyscallBody(e.ctx, netbsd.SYS_lseek, body)
			require.NoError(t, err)
			require.Zero(t, r.Errno)
			assert.Equal(t, uint64(7), sp.JoinOff(e.c.WireABI(), r.Retval))
			assert.Equal(t, "789", e.read(fd, 16))
		})
	}
}

// In native mode a client of another ABI is read with the server's
// layout, as a C server would: the kernel sees nonsense arguments. It
// must answer them (or the client must go away) without the server
// crashing or hanging, and the server must go on serving others.
func TestMismatchedNativeClientsCannotHurtTheKernel(t *testing.T) {
	pairs := []struct{ client, server string }{
		{"i386", "amd64"}, {"amd64", "i386"}, {"arm", "amd64"}, {"arm64", "arm"},
	}
	for _, p := range pairs {
		t.Run(p.client+" client on "+p.server+" server", func(t *testing.T) {
			e := newEnv(t, setup{name: p.client, client: p.client, server: p.server, mode: sp.ModeNative}, withExtensions)
			path, buf := e.str("/tmp/f"), e.buf(512)
			calls := []struct {
				num  netbsd.Sysno
				args []uint64
			}{
				{netbsd.SYS_open, []uint64{path, netbsd.O_CREAT | netbsd.O_RDWR, 0o644}},
				{netbsd.SYS_write, []uint64{0, buf, 100}},
				{netbsd.SYS_read, []uint64{0, buf, 512}},
				{netbsd.SYS_lseek, []uint64{0, 5 << 30, netbsd.SEEK_SET}},
				{netbsd.SYS_pread, []uint64{0, buf, 512, 1}},
				{netbsd.SYS___stat50, []uint64{path, buf}},
				{netbsd.SYS___getdents30, []uint64{0, buf, 512}},
				{netbsd.SYS___getcwd, []uint64{buf, 512}},
				{netbsd.SYS___sysctl, []uint64{buf, 2, buf, buf, 0, 0}},
				{netbsd.SYS_mmap, []uint64{0, 4096, 3, netbsd.MAP_ANON, neg(-1), 0}},
				{netbsd.SYS_pipe2, []uint64{buf, 0}},
				{netbsd.SYS_kill, []uint64{2, 0}},
			}
			for _, c := range calls {
				ctx, cancel := context.WithTimeout(e.ctx, 300*time.Millisecond)
				_, err := callErr(ctx, e.c, c.num, c.args...)
				cancel()
				if err != nil {
					// Either the server dropped the client, or the
					// client could not parse a copy request and never
					// answered it (a C client would have crashed).
					// The kernel waits on the client, not forever:
					// closing the connection must end the syscall,
					// which the server's Shutdown at cleanup checks.
					e.c.Close()
					break
				}
			}
			d := abi.MustLookup(p.server)
			cfg := sp.DefaultClientConfig(d)
			cfg.Memory = sptest.NewMemory(0x10000, 1<<16)
			c, err := sp.Dial(e.ctx, e.url, cfg)
			require.NoError(t, err)
			defer c.Close()
			require.NoError(t, c.HandshakeGuest(e.ctx))
			r := callOn(t, e.ctx, c, netbsd.SYS_getpid)
			assert.Zero(t, r.Errno, "the server goes on serving a matching client")
		})
	}
}
