package netbsd_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

// The values NetBSD's <sys/filio.h> and <sys/ttycom.h> give the commands,
// computed there by _IO, _IOR and _IOW.
func TestIoctlCommandsAreNetBSDs(t *testing.T) {
	cases := []struct {
		name string
		cmd  uint32
		want uint32
		enc  uint32
	}{
		{"FIOCLEX is _IO('f', 1)", netbsd.FIOCLEX, 0x20006601, netbsd.IOC(netbsd.IOC_VOID, 'f', 1, 0)},
		{"FIONCLEX is _IO('f', 2)", netbsd.FIONCLEX, 0x20006602, netbsd.IOC(netbsd.IOC_VOID, 'f', 2, 0)},
		{"FIONREAD is _IOR('f', 127, int)", netbsd.FIONREAD, 0x4004667f, netbsd.IOC(netbsd.IOC_OUT, 'f', 127, 4)},
		{"FIONBIO is _IOW('f', 126, int)", netbsd.FIONBIO, 0x8004667e, netbsd.IOC(netbsd.IOC_IN, 'f', 126, 4)},
		{"FIOASYNC is _IOW('f', 125, int)", netbsd.FIOASYNC, 0x8004667d, netbsd.IOC(netbsd.IOC_IN, 'f', 125, 4)},
		{"FIONWRITE is _IOR('f', 121, int)", netbsd.FIONWRITE, 0x40046679, netbsd.IOC(netbsd.IOC_OUT, 'f', 121, 4)},
		{"FIONSPACE is _IOR('f', 120, int)", netbsd.FIONSPACE, 0x40046678, netbsd.IOC(netbsd.IOC_OUT, 'f', 120, 4)},
		{"TIOCGETA is _IOR('t', 19, struct termios)", netbsd.TIOCGETA, 0x402c7413, netbsd.IOC(netbsd.IOC_OUT, 't', 19, 44)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.cmd)
			assert.Equal(t, tc.want, tc.enc)
		})
	}
	for _, name := range []string{"amd64", "i386", "mips", "sparc64"} {
		l := netbsd.LayoutsFor(abi.MustLookup(name)).Termios
		assert.Equal(t, netbsd.IOCPARM_LEN(netbsd.TIOCGETA), l.Size, "TIOCGETA encodes sizeof(struct termios) on %s", name)
	}
}

func TestNewStructsHaveNetBSDsSizes(t *testing.T) {
	cases := []struct {
		abi                        string
		tmpfsArgs, timeval, rlimit int
	}{
		{"amd64", 40, 16, 16},
		{"i386", 32, 12, 16},
		{"mips", 40, 16, 16},
	}
	for _, tc := range cases {
		t.Run(tc.abi, func(t *testing.T) {
			l := netbsd.LayoutsFor(abi.MustLookup(tc.abi))
			assert.Equal(t, tc.tmpfsArgs, l.TmpfsArgs.Size, "struct tmpfs_args")
			assert.Equal(t, tc.timeval, l.Timeval.Size, "struct timeval")
			assert.Equal(t, tc.rlimit, l.Rlimit.Size, "struct rlimit")
		})
	}
}
