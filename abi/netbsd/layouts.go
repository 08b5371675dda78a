package netbsd

import (
	"sync"

	"github.com/rumpsprig/sprig/abi"
)

// Layouts holds every struct of this package laid out for one ABI.
type Layouts struct {
	ABI           *abi.Descriptor
	Timespec      *abi.Layout
	Stat          *abi.Layout
	Dirent        *abi.Layout
	Sysresp       *abi.Layout
	Copydata      *abi.Layout
	HandshakeFork *abi.Layout
	Timeval       *abi.Layout
	Rlimit        *abi.Layout
	TmpfsArgs     *abi.Layout
	Termios       *abi.Layout

	argsMu sync.Mutex
	args   map[Sysno]*abi.ArgsLayout
}

var layoutCache sync.Map // *abi.Descriptor → *Layouts

// LayoutsFor returns the layouts for d, computing them once per descriptor.
func LayoutsFor(d *abi.Descriptor) *Layouts {
	if l, ok := layoutCache.Load(d); ok {
		return l.(*Layouts)
	}
	l := &Layouts{
		ABI:           d,
		Timespec:      abi.LayoutOf(d, TimespecType),
		Stat:          abi.LayoutOf(d, StatType),
		Dirent:        abi.LayoutOf(d, DirentType),
		Sysresp:       abi.LayoutOf(d, SysrespType),
		Copydata:      abi.LayoutOf(d, CopydataType),
		HandshakeFork: abi.LayoutOf(d, HandshakeForkType),
		Timeval:       abi.LayoutOf(d, TimevalType),
		Rlimit:        abi.LayoutOf(d, RlimitType),
		TmpfsArgs:     abi.LayoutOf(d, TmpfsArgsType),
		Termios:       abi.LayoutOf(d, TermiosType),
		args:          map[Sysno]*abi.ArgsLayout{},
	}
	actual, _ := layoutCache.LoadOrStore(d, l)
	return actual.(*Layouts)
}

// Args returns the argument struct layout of syscall n, or nil when sprig
// does not describe that syscall.
func (l *Layouts) Args(n Sysno) *abi.ArgsLayout {
	l.argsMu.Lock()
	defer l.argsMu.Unlock()
	if a, ok := l.args[n]; ok {
		return a
	}
	sc := Lookup(n)
	if sc == nil {
		return nil
	}
	a := abi.SyscallArgs(l.ABI, sc.Args...)
	l.args[n] = a
	return a
}

// StructTypes lists the named structs of this package, for tools that show
// or check every one (sprig abi show, the compiler golden tests).
func StructTypes() []*abi.Type {
	return []*abi.Type{TimespecType, StatType, DirentType, SysrespType, CopydataType, HandshakeForkType,
		TimevalType, RlimitType, TmpfsArgsType, TermiosType}
}

// StructByName finds a struct by its tag with or without "struct ":
// "stat", "struct stat", "rsp_sysresp".
func StructByName(name string) *abi.Type {
	for _, t := range StructTypes() {
		if t.Name() == name || t.Name() == "struct "+name {
			return t
		}
	}
	return nil
}
