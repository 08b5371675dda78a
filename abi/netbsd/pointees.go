package netbsd

import (
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
