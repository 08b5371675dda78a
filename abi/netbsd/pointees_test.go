package netbsd_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

// TestEveryPointerArgumentSaysWhatItPointsAt: a translator can only
// translate what the table types, so no pointer argument of a described
// syscall may be left unknown, and every length or count a pointee names
// is an argument of its syscall.
func TestEveryPointerArgumentSaysWhatItPointsAt(t *testing.T) {
	for _, sc := range netbsd.Syscalls() {
		pts := sc.Pointees()
		require.Len(t, pts, len(sc.Args), sc.Name)
		names := map[string]bool{}
		for _, a := range sc.Args {
			names[a.Name] = true
		}
		for i, a := range sc.Args {
			p := pts[i]
			isPtr := a.Type.Kind() == abi.KindScalar && a.Type.Base() == abi.BasePointer
			if !isPtr {
				assert.Equal(t, netbsd.PointsNone, p.Points, "%s %s is a value", sc.Name, a.Name)
				continue
			}
			assert.NotEqual(t, netbsd.PointsUnknown, p.Points, "%s %s (%s) must say what it points at", sc.Name, a.Name, a.Type.Name())
			assert.NotEqual(t, netbsd.PointsNone, p.Points, "%s %s", sc.Name, a.Name)
			if p.Points == netbsd.PointsData {
				assert.NotNil(t, p.Elem, "%s %s", sc.Name, a.Name)
			}
			for _, ref := range []string{p.LenArg, p.CountArg, p.LenPtr} {
				if ref != "" {
					assert.True(t, names[ref], "%s %s names argument %q", sc.Name, a.Name, ref)
				}
			}
		}
	}
}

func TestPointeeRulesNameRealArguments(t *testing.T) {
	for scName, args := range netbsd.PointeeRules() {
		sc := netbsd.LookupName(scName)
		if sc == nil {
			t.Logf("rule for %s waits for that syscall to be described", scName)
			continue
		}
		for _, a := range args {
			found := false
			for _, f := range sc.Args {
				found = found || f.Name == a
			}
			assert.True(t, found, "rule for %s names argument %q", scName, a)
		}
	}
}

func TestDerivedPointees(t *testing.T) {
	for _, tc := range []struct {
		syscall, arg string
		want         netbsd.Pointee
	}{
		{"open", "path", netbsd.Pointee{Points: netbsd.PointsString, Dir: netbsd.DirIn}},
		{"read", "buf", netbsd.Pointee{Points: netbsd.PointsBytes, Dir: netbsd.DirInOut, LenArg: "nbyte"}},
		{"write", "buf", netbsd.Pointee{Points: netbsd.PointsBytes, Dir: netbsd.DirIn, LenArg: "nbyte"}},
		{"readlink", "buf", netbsd.Pointee{Points: netbsd.PointsBytes, Dir: netbsd.DirOut, LenArg: "count"}},
		{"__fstat50", "sb", netbsd.Pointee{Points: netbsd.PointsData, Dir: netbsd.DirInOut, Elem: netbsd.StatType}},
		{"__getdents30", "buf", netbsd.Pointee{Points: netbsd.PointsDirents, Dir: netbsd.DirOut, LenArg: "count"}},
		{"mmap", "addr", netbsd.Pointee{Points: netbsd.PointsAddress}},
	} {
		sc := netbsd.LookupName(tc.syscall)
		for i, a := range sc.Args {
			if a.Name == tc.arg {
				assert.Equal(t, tc.want, sc.Pointees()[i], "%s %s", tc.syscall, tc.arg)
			}
		}
	}
}

func TestIoctlCommandWords(t *testing.T) {
	// Values from NetBSD's sys/filio.h, worked out by hand.
	for name, want := range map[string]uint32{"FIONREAD": 0x4004667f, "FIONBIO": 0x8004667e, "FIOCLEX": 0x20006601} {
		for _, d := range abi.All() {
			c := netbsd.LookupIoctl(d, want)
			require.NotNil(t, c, "%s on %s", name, d.Name)
			assert.Equal(t, name, c.Name)
		}
	}
	var getA netbsd.IoctlCmd
	for _, c := range netbsd.IoctlCmds() {
		if c.Name == "TIOCGETA" {
			getA = c
		}
	}
	_, ok := getA.Com(abi.MustLookup("amd64"))
	assert.Equal(t, netbsd.TypeByName("struct termios") != nil, ok, "a command's word needs its argument's size")
}

func TestSysctlNodes(t *testing.T) {
	n := netbsd.LookupSysctl([]int32{netbsd.CTL_HW, netbsd.HW_PAGESIZE})
	require.NotNil(t, n)
	assert.Equal(t, abi.Int, n.Elem)
	n = netbsd.LookupSysctl([]int32{netbsd.CTL_KERN, netbsd.KERN_HOSTNAME})
	require.NotNil(t, n)
	assert.True(t, n.String)
	assert.Nil(t, netbsd.LookupSysctl([]int32{netbsd.CTL_KERN, 9999}))
}
