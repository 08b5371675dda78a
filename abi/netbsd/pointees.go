package netbsd

import (
	"slices"
	"strings"
	"sync"

	"github.com/rumpsprig/sprig/abi"
)

// What the pointer arguments of a syscall point at. Both translating ends
// of sprig (sp/proxy and a client-translating sp.Client) read this one
// table to know which bytes of a COPYIN or COPYOUT are typed, and how.
//
// Most of it is derived from the C types in the syscall table: "const char
// *" is a string the kernel copies in, "struct stat *" a struct stat,
// "void *" with a size_t after it a byte buffer of that length. The
// exceptions, which a C type cannot say, are in pointeeRules below. The
// table stays separate from the syscall list on purpose: syscalls are
// appended there without touching it, and a new "struct foo *" argument
// is typed as soon as struct foo is among StructTypes.

// Points says what a syscall argument holds.
type Points uint8

// What an argument may hold.
const (
	// PointsNone: not a pointer; a plain value (fd, flags, length).
	PointsNone Points = iota
	// PointsValue: a pointer-typed argument that carries a plain value
	// the kernel never dereferences (fcntl's arg for F_SETFL).
	PointsValue
	// PointsAddress: an address in the client that the kernel keeps or
	// compares but never copies through (mmap's hint, munmap's addr).
	PointsAddress
	// PointsBytes: bytes without a type (read's buf), LenArg long.
	PointsBytes
	// PointsString: a NUL-terminated string (open's path).
	PointsString
	// PointsData: C data of type Elem, Count elements.
	PointsData
	// PointsDirents: __getdents30 records (struct dirent, each padded to
	// DirentAlign), LenArg bytes.
	PointsDirents
	// PointsDepends: decided per call, by another argument (Depends).
	PointsDepends
	// PointsUnknown: a pointer to data sprig does not describe.
	PointsUnknown
)

var pointsNames = [...]string{
	PointsNone: "value", PointsValue: "value in a pointer", PointsAddress: "address",
	PointsBytes: "bytes", PointsString: "string", PointsData: "data", PointsDirents: "dirents",
	PointsDepends: "depends", PointsUnknown: "unknown",
}

func (p Points) String() string {
	if int(p) < len(pointsNames) {
		return pointsNames[p]
	}
	return "Points(?)"
}

// Dir says which way the data behind a pointer moves.
type Dir uint8

// Directions; the zero Dir is "none" (not a pointer, or never copied).
const (
	DirIn    Dir = 1 << iota // the kernel copies it in (a const pointer)
	DirOut                   // the kernel copies it out
	DirInOut = DirIn | DirOut
)

func (d Dir) String() string {
	switch d {
	case DirIn:
		return "in"
	case DirOut:
		return "out"
	case DirInOut:
		return "in/out"
	}
	return "-"
}

// Depends names what decides the pointee of a PointsDepends argument.
type Depends uint8

// The deciders.
const (
	DependsNone   Depends = iota
	DependsSysctl         // the MIB at __sysctl's name: oldv and newv (SysctlNodes)
	DependsIoctl          // ioctl's command word (IoctlCmds)
	DependsFcntl          // fcntl's command (FcntlArgIsValue)
	DependsMount          // __mount50's file system type string (MountArgs)
)

var dependsNames = [...]string{DependsNone: "none", DependsSysctl: "sysctl MIB",
	DependsIoctl: "ioctl command", DependsFcntl: "fcntl command", DependsMount: "file system type"}

func (d Depends) String() string {
	if int(d) < len(dependsNames) {
		return dependsNames[d]
	}
	return "Depends(?)"
}

// Pointee is what one syscall argument points at. Arguments are named
// as in the syscall's Args.
type Pointee struct {
	Points Points
	Dir    Dir
	// Elem is the C type of PointsData.
	Elem *abi.Type
	// Count is how many Elem there are; 0 when the copies say (as many
	// whole elements as each copy holds).
	Count int
	// CountArg names the argument holding the element count (sysctl's
	// name holds namelen ints).
	CountArg string
	// LenArg names the argument holding the length in bytes (read's
	// nbyte, sysctl's newlen); for typed data, bytes of this ABI's
	// layout, so a translator rescales it.
	LenArg string
	// LenPtr names the argument pointing at a size_t that holds the
	// length in bytes (sysctl's oldlenp for oldv).
	LenPtr string
	// Depends says what decides a PointsDepends argument.
	Depends Depends
}

// pointeeRules are what the C types cannot say, by syscall and argument
// name. A rule replaces the derived pointee whole. Rules for syscalls not
// in the table yet take effect when those are added.
var pointeeRules = map[string]map[string]Pointee{
	"__getdents30": {"buf": {Points: PointsDirents, Dir: DirOut, LenArg: "count"}},
	"pipe2":        {"fildes": {Points: PointsData, Dir: DirOut, Elem: abi.Int, Count: 2}},
	"__sysctl": {
		"name":    {Points: PointsData, Dir: DirIn, Elem: abi.Int, CountArg: "namelen"},
		"oldv":    {Points: PointsDepends, Dir: DirOut, Depends: DependsSysctl, LenPtr: "oldlenp"},
		"oldlenp": {Points: PointsData, Dir: DirInOut, Elem: abi.SizeT, Count: 1},
		"newv":    {Points: PointsDepends, Dir: DirIn, Depends: DependsSysctl, LenArg: "newlen"},
	},
	"mmap":      {"addr": {Points: PointsAddress}},
	"munmap":    {"addr": {Points: PointsAddress}},
	"fcntl":     {"arg": {Points: PointsDepends, Depends: DependsFcntl}},
	"ioctl":     {"data": {Points: PointsDepends, Depends: DependsIoctl}},
	"__mount50": {"data": {Points: PointsDepends, Dir: DirIn, Depends: DependsMount, LenArg: "data_len"}},
}

// PointeeRules returns the syscall and argument names the exceptions
// apply to, for tests that check each one names a real argument.
func PointeeRules() map[string][]string {
	out := map[string][]string{}
	for sc, args := range pointeeRules {
		for a := range args {
			out[sc] = append(out[sc], a)
		}
	}
	return out
}

var pointeeCache sync.Map // *Syscall → []Pointee

// Pointees returns what each argument of sc points at, one entry per
// entry of sc.Args (PAD included, as PointsNone). The slice is shared:
// do not modify it.
func (sc *Syscall) Pointees() []Pointee {
	if p, ok := pointeeCache.Load(sc); ok {
		return p.([]Pointee)
	}
	out := make([]Pointee, len(sc.Args))
	for i, f := range sc.Args {
		if r, ok := pointeeRules[sc.Name][f.Name]; ok {
			out[i] = r
			continue
		}
		out[i] = derivePointee(f.Type)
		if out[i].Points == PointsBytes {
			out[i].LenArg = nextSizeArg(sc.Args[i+1:])
		}
	}
	actual, _ := pointeeCache.LoadOrStore(sc, out)
	return actual.([]Pointee)
}

// derivePointee reads a pointee off an argument's C spelling.
func derivePointee(t *abi.Type) Pointee {
	if t.Kind() != abi.KindScalar || t.Base() != abi.BasePointer {
		return Pointee{}
	}
	elem, ok := strings.CutSuffix(t.Name(), " *")
	if !ok {
		return Pointee{Points: PointsUnknown}
	}
	elem, isConst := strings.CutPrefix(elem, "const ")
	dir := DirInOut
	if isConst {
		dir = DirIn
	}
	switch elem {
	case "char":
		if isConst {
			return Pointee{Points: PointsString, Dir: DirIn}
		}
		return Pointee{Points: PointsBytes, Dir: DirOut}
	case "void":
		return Pointee{Points: PointsBytes, Dir: dir}
	}
	if e := TypeByName(elem); e != nil {
		return Pointee{Points: PointsData, Dir: dir, Elem: e}
	}
	return Pointee{Points: PointsUnknown, Dir: dir}
}

// nextSizeArg names the first size_t argument in args: the length of a
// byte buffer that precedes it (read's nbyte after buf).
func nextSizeArg(args []abi.Field) string {
	for _, f := range args {
		if f.Type.Kind() == abi.KindScalar && f.Type.Base() == abi.BaseSizeT {
			return f.Name
		}
	}
	return ""
}

// scalarTypes are the C scalar types data behind a pointer may have, by
// spelling.
var scalarTypes = func() map[string]*abi.Type {
	m := map[string]*abi.Type{}
	for _, t := range []*abi.Type{
		abi.Short, abi.UShort, abi.Int, abi.UInt, abi.Long, abi.ULong, abi.LongLong, abi.ULongLong,
		abi.SizeT, abi.SSizeT, abi.RegisterT, abi.Int8, abi.Uint8, abi.Int16, abi.Uint16,
		abi.Int32, abi.Uint32, abi.Int64, abi.Uint64,
		DevT, ModeT, InoT, NlinkT, UidT, GidT, PidT, TimeT, OffT, BlkcntT, BlksizeT, ULong, UInt,
	} {
		m[t.Name()] = t
	}
	return m
}()

// TypeByName returns the C type spelled name: a scalar or typedef ("int",
// "size_t", "off_t") or one of StructTypes ("struct stat"). Nil when
// sprig does not describe it.
func TypeByName(name string) *abi.Type {
	if t, ok := scalarTypes[name]; ok {
		return t
	}
	if tag, ok := strings.CutPrefix(name, "struct "); ok {
		return StructByName(tag)
	}
	return nil
}

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

// ioctl command words (sys/ioccom.h): direction, parameter length, group
// and number packed into 32 bits. The length is the argument's sizeof on
// the caller's machine, so a command whose argument differs in size has
// another word on another ABI.
const (
	IOCPARM_MASK   = 0x1fff
	IOCPARM_SHIFT  = 16
	IOCGROUP_SHIFT = 8
	IOC_VOID       = 0x20000000
	IOC_OUT        = 0x40000000
	IOC_IN         = 0x80000000
	IOC_INOUT      = IOC_IN | IOC_OUT
	IOC_DIRMASK    = 0xe0000000
)

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
