package netbsd

import (
	"slices"
	"strings"

	"github.com/rumpsprig/sprig/abi"
)

// What decides the pointee of a PointsDepends argument: the sysctl
// nodes whose value types sprig knows, the ioctl commands whose argument
// it knows, fcntl's plain-int commands, and the file systems whose mount
// data it describes.

// SysctlNode is a sysctl leaf whose value type sprig knows, so that a
// translator can re-lay its value (an int changes byte order; a string
// does not).
type SysctlNode struct {
	Name string  // "hw.pagesize"
	MIB  []int32 // {CTL_HW, HW_PAGESIZE}
	// Elem is the value's C type; String nodes hold chars.
	Elem   *abi.Type
	String bool
}

var sysctlNodes = []SysctlNode{
	{"kern.ostype", []int32{CTL_KERN, KERN_OSTYPE}, abi.Char, true},
	{"kern.osrelease", []int32{CTL_KERN, KERN_OSRELEASE}, abi.Char, true},
	{"kern.osrevision", []int32{CTL_KERN, 3}, abi.Int, false},
	{"kern.version", []int32{CTL_KERN, 4}, abi.Char, true},
	{"kern.maxproc", []int32{CTL_KERN, 6}, abi.Int, false},
	{"kern.maxfiles", []int32{CTL_KERN, 7}, abi.Int, false},
	{"kern.argmax", []int32{CTL_KERN, 8}, abi.Int, false},
	{"kern.hostname", []int32{CTL_KERN, KERN_HOSTNAME}, abi.Char, true},
	{"kern.hostid", []int32{CTL_KERN, 11}, abi.Int, false},
	{"kern.domainname", []int32{CTL_KERN, 22}, abi.Char, true},
	{"hw.machine", []int32{CTL_HW, HW_MACHINE}, abi.Char, true},
	{"hw.model", []int32{CTL_HW, 2}, abi.Char, true},
	{"hw.ncpu", []int32{CTL_HW, 3}, abi.Int, false},
	{"hw.byteorder", []int32{CTL_HW, 4}, abi.Int, false},
	{"hw.pagesize", []int32{CTL_HW, HW_PAGESIZE}, abi.Int, false},
	{"hw.machine_arch", []int32{CTL_HW, HW_MACHINE_ARCH}, abi.Char, true},
	{"hw.physmem64", []int32{CTL_HW, 13}, abi.Int64, false},
	{"hw.usermem64", []int32{CTL_HW, 14}, abi.Int64, false},
	{"hw.ncpuonline", []int32{CTL_HW, 16}, abi.Int, false},
}

// SysctlNodes returns the sysctl leaves whose value types sprig knows.
func SysctlNodes() []SysctlNode { return append([]SysctlNode(nil), sysctlNodes...) }

// LookupSysctl returns the node mib names, or nil.
func LookupSysctl(mib []int32) *SysctlNode {
	for i := range sysctlNodes {
		if slices.Equal(sysctlNodes[i].MIB, mib) {
			return &sysctlNodes[i]
		}
	}
	return nil
}

// IoctlCmd is an ioctl(2) command whose argument sprig knows.
type IoctlCmd struct {
	Name  string
	Dir   uint32 // IOC_VOID, IOC_IN, IOC_OUT or IOC_INOUT
	Group byte
	Num   byte
	// Arg is the C spelling of the argument's type ("int", "struct
	// termios"), resolved by TypeByName; empty for IOC_VOID.
	Arg string
}

var ioctlCmds = []IoctlCmd{
	{"FIOCLEX", IOC_VOID, 'f', 1, ""},
	{"FIONCLEX", IOC_VOID, 'f', 2, ""},
	{"FIONSPACE", IOC_OUT, 'f', 120, "int"},
	{"FIONWRITE", IOC_OUT, 'f', 121, "int"},
	{"FIOGETOWN", IOC_OUT, 'f', 123, "int"},
	{"FIOSETOWN", IOC_IN, 'f', 124, "int"},
	{"FIOASYNC", IOC_IN, 'f', 125, "int"},
	{"FIONBIO", IOC_IN, 'f', 126, "int"},
	{"FIONREAD", IOC_OUT, 'f', 127, "int"},
	{"TIOCGETA", IOC_OUT, 't', 19, "struct termios"},
	{"TIOCSETA", IOC_IN, 't', 20, "struct termios"},
	{"TIOCSETAW", IOC_IN, 't', 21, "struct termios"},
	{"TIOCSETAF", IOC_IN, 't', 22, "struct termios"},
	{"TIOCSWINSZ", IOC_IN, 't', 103, "struct winsize"},
	{"TIOCGWINSZ", IOC_OUT, 't', 104, "struct winsize"},
}

// IoctlCmds returns the ioctl commands sprig knows.
func IoctlCmds() []IoctlCmd { return append([]IoctlCmd(nil), ioctlCmds...) }

// ArgType returns the argument's C type, nil for IOC_VOID commands and
// for argument types sprig does not describe (ok false).
func (c IoctlCmd) ArgType() (t *abi.Type, ok bool) {
	if c.Arg == "" {
		return nil, true
	}
	t = TypeByName(c.Arg)
	return t, t != nil
}

// Com returns the command word on ABI d; false when the argument's type
// is not described, so its size is unknown.
func (c IoctlCmd) Com(d *abi.Descriptor) (uint32, bool) {
	t, ok := c.ArgType()
	if !ok {
		return 0, false
	}
	n := 0
	if t != nil {
		n = abi.LayoutOf(d, t).Size
	}
	return c.Dir | uint32(n&IOCPARM_MASK)<<IOCPARM_SHIFT | uint32(c.Group)<<IOCGROUP_SHIFT | uint32(c.Num), true
}

// LookupIoctl returns the command whose word on ABI d is com, or nil.
func LookupIoctl(d *abi.Descriptor, com uint32) *IoctlCmd {
	for i := range ioctlCmds {
		if w, ok := ioctlCmds[i].Com(d); ok && w == com {
			return &ioctlCmds[i]
		}
	}
	return nil
}

// FcntlArgIsValue reports whether fcntl(2) command cmd takes its third
// argument as a plain int (F_SETFL's flags) rather than a pointer.
func FcntlArgIsValue(cmd int32) bool {
	switch cmd {
	case F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL,
		5, 6, // F_GETOWN, F_SETOWN
		10, 11, 12, 13, 14: // F_CLOSEM, F_MAXFD, F_DUPFD_CLOEXEC, F_GETNOSIGPIPE, F_SETNOSIGPIPE
		return true
	}
	return false
}

// MountArgs returns the struct that __mount50 of file system type fstype
// takes as data ("tmpfs": struct tmpfs_args), or nil when sprig does not
// describe it.
func MountArgs(fstype string) *abi.Type {
	if fstype == "" || strings.ContainsAny(fstype, " *") {
		return nil
	}
	return StructByName(fstype + "_args")
}
