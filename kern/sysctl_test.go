package kern_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/kern"
)

// sysctlResult is what one __sysctl call left behind.
type sysctlResult struct {
	errno  netbsd.Errno
	value  []byte // the bytes stored at oldv (up to the old buffer size)
	oldlen uint64 // what the kernel stored at oldlenp
}

// sysctl calls __sysctl with name, an old buffer of bufSize bytes (none
// when negative) and a new value (none when nil).
func (e *env) sysctl(name []int32, bufSize int, newv []byte) sysctlResult {
	e.t.Helper()
	var oldv, oldlenp uint64
	if bufSize >= 0 {
		oldv = e.buf(max(bufSize, 1))
		oldlenp = e.sizeT(uint64(bufSize))
	}
	var nv uint64
	if newv != nil {
		nv = e.bytes(newv)
	}
	r := e.call(netbsd.SYS___sysctl, e.putCInts(name...), uint64(len(name)), oldv, oldlenp, nv, uint64(len(newv)))
	res := sysctlResult{errno: r.Errno}
	if bufSize >= 0 {
		res.oldlen = e.readSizeT(oldlenp)
		res.value = e.mem.Read(oldv, bufSize)
	}
	return res
}

func TestSysctlServesRealMIBsInTheClientsLayout(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		server := e.k.Config().ABI
		page := make([]byte, 4)
		e.abi().ByteOrder().PutUint32(page, 4096)
		cases := []struct {
			name string
			mib  []int32
			want []byte
		}{
			{"kern.ostype", []int32{netbsd.CTL_KERN, netbsd.KERN_OSTYPE}, []byte("NetBSD\x00")},
			{"kern.osrelease", []int32{netbsd.CTL_KERN, netbsd.KERN_OSRELEASE}, []byte("7.99.34\x00")},
			{"kern.hostname", []int32{netbsd.CTL_KERN, netbsd.KERN_HOSTNAME}, []byte(e.k.Config().Hostname + "\x00")},
			{"hw.machine is the server's", []int32{netbsd.CTL_HW, netbsd.HW_MACHINE}, []byte(server.Machine + "\x00")},
			{"hw.machine_arch is the server's", []int32{netbsd.CTL_HW, netbsd.HW_MACHINE_ARCH}, []byte(server.MachineArch + "\x00")},
			{"hw.pagesize is a C int", []int32{netbsd.CTL_HW, netbsd.HW_PAGESIZE}, page},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				r := e.sysctl(tc.mib, 64, nil)
				require.Zero(t, r.errno)
				assert.Equal(t, uint64(len(tc.want)), r.oldlen, "the size is stored back")
				assert.Equal(t, tc.want, r.value[:len(tc.want)])

				r = e.sysctl(tc.mib, -1, nil)
				assert.Zero(t, r.errno, "no buffers at all is fine")

				size := e.sizeT(0)
				res := e.call(netbsd.SYS___sysctl, e.putCInts(tc.mib...), uint64(len(tc.mib)), 0, size, 0, 0)
				require.Zero(t, res.Errno)
				assert.Equal(t, uint64(len(tc.want)), e.readSizeT(size), "a NULL oldv asks for the size")

				r = e.sysctl(tc.mib, 3, nil)
				assert.Equal(t, netbsd.ENOMEM, r.errno, "a short buffer is ENOMEM")
				assert.Equal(t, tc.want[:3], r.value, "after taking what fits")
				assert.Equal(t, uint64(len(tc.want)), r.oldlen, "and learning the size needed")
			})
		}
	})
}

func TestSysctlRejectsUnknownNamesAsNetBSD(t *testing.T) {
	forEachSetup(t, func(c *kern.Config) { c.Hostname = "sprig" }, func(t *testing.T, e *env) {
		e.becomeUser(user, user)
		cases := []struct {
			name  string
			mib   []int32
			newv  []byte
			errno netbsd.Errno
		}{
			{"an unknown top level is ENOENT", []int32{99}, nil, netbsd.ENOENT},
			{"an unknown second level is ENOENT", []int32{netbsd.CTL_KERN, 999}, nil, netbsd.ENOENT},
			{"a name past a leaf is ENOTDIR", []int32{netbsd.CTL_KERN, netbsd.KERN_OSTYPE, 1}, nil, netbsd.ENOTDIR},
			{"a node cannot be read: EINVAL", []int32{netbsd.CTL_HW}, nil, netbsd.EINVAL},
			{"CTL_QUERY is not served: EOPNOTSUPP", []int32{netbsd.CTL_KERN, netbsd.CTL_QUERY}, nil, netbsd.EOPNOTSUPP},
			{"an empty name is EINVAL", []int32{}, nil, netbsd.EINVAL},
			{"a name longer than CTL_MAXNAME is EINVAL", make([]int32, 13), nil, netbsd.EINVAL},
			{"writing the hostname needs root: EPERM", []int32{netbsd.CTL_KERN, netbsd.KERN_HOSTNAME}, []byte("x\x00"), netbsd.EPERM},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				mib := tc.mib
				if len(mib) == 0 {
					mib = []int32{netbsd.CTL_KERN} // stored, but namelen says 0
				}
				oldv, oldlenp := e.buf(64), e.sizeT(64)
				r := e.call(netbsd.SYS___sysctl, e.putCInts(mib...), uint64(len(tc.mib)), oldv, oldlenp,
					e.bytes(append(tc.newv, 0)), uint64(len(tc.newv)))
				assert.Equal(t, tc.errno, r.Errno)
			})
		}
		r := e.call(netbsd.SYS___sysctl, 8, 2, e.buf(8), e.sizeT(8), 0, 0)
		assert.Equal(t, netbsd.EFAULT, r.Errno, "a name at a bad address")
		r = e.call(netbsd.SYS___sysctl, e.putCInts(1, 1), 2, e.buf(8), 8, 0, 0)
		assert.Equal(t, netbsd.EFAULT, r.Errno, "oldlenp at a bad address")
		assert.Equal(t, "sprig", e.k.Hostname(), "nothing changed")
	})
}

func TestRootSetsTheHostname(t *testing.T) {
	forEachSetup(t, func(c *kern.Config) { c.Hostname = "sprig" }, func(t *testing.T, e *env) {
		host := []int32{netbsd.CTL_KERN, netbsd.KERN_HOSTNAME}
		cases := []struct {
			name  string
			newv  []byte
			errno netbsd.Errno
			old   string
			now   string
		}{
			{"a new name with its NUL; the old comes back", []byte("alpha\x00"), 0, "sprig", "alpha"},
			{"a new name without its NUL", []byte("beta"), 0, "alpha", "beta"},
			{"the longest name, 255 bytes and a NUL", []byte(strings.Repeat("h", 255) + "\x00"), 0, "beta", strings.Repeat("h", 255)},
			{"256 bytes without a NUL is EINVAL", []byte(strings.Repeat("h", 256)), netbsd.EINVAL, strings.Repeat("h", 255), strings.Repeat("h", 255)},
			{"more than MAXHOSTNAMELEN is EINVAL", []byte(strings.Repeat("h", 300)), netbsd.EINVAL, strings.Repeat("h", 255), strings.Repeat("h", 255)},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				r := e.sysctl(host, 512, tc.newv)
				require.Equal(t, tc.errno, r.errno)
				if tc.errno == 0 {
					assert.Equal(t, tc.old+"\x00", string(r.value[:r.oldlen]))
				}
				assert.Equal(t, tc.now, e.k.Hostname())
			})
		}
		r := e.sysctl([]int32{netbsd.CTL_KERN, netbsd.KERN_OSTYPE}, 64, []byte("Linux"))
		assert.Equal(t, netbsd.EPERM, r.errno, "a read-only MIB stays read-only for root")
	})
}

func TestSysctlNamesTheConfiguredMachine(t *testing.T) {
	e := newEnv(t, setup{name: "arm64", client: "arm64", server: "arm64"}, func(c *kern.Config) {
		c.Machine = "sprigmachine"
	})
	r := e.sysctl([]int32{netbsd.CTL_HW, netbsd.HW_MACHINE}, 64, nil)
	require.Zero(t, r.errno)
	assert.Equal(t, "sprigmachine\x00", string(r.value[:r.oldlen]))
	r = e.sysctl([]int32{netbsd.CTL_HW, netbsd.HW_MACHINE_ARCH}, 64, nil)
	assert.Equal(t, "aarch64\x00", string(r.value[:r.oldlen]), "MachineArch still comes from the ABI")
}
