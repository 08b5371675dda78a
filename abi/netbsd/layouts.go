package netbsd

import (
	"sync"
	"sync/atomic"

	"github.com/rumpsprig/sprig/abi"
)

// Layouts holds every struct of this package laid out for one ABI. It is
// shared between every caller that asks for the same ABI and must be
// treated as read-only.
type Layouts struct {
	ABI           *abi.Descriptor // the cache's own copy of the descriptor
	Timespec      *abi.Layout     // struct timespec
	Stat          *abi.Layout     // struct stat
	Dirent        *abi.Layout     // struct dirent
	Sysresp       *abi.Layout     // rsp_sysresp
	Copydata      *abi.Layout     // rsp_copydata
	HandshakeFork *abi.Layout     // handshake_fork
	Timeval       *abi.Layout     // struct timeval
	Rlimit        *abi.Layout     // struct rlimit
	TmpfsArgs     *abi.Layout     // struct tmpfs_args
	Termios       *abi.Layout     // struct termios

	// args caches argument layouts by syscall number: a syscall's first
	// use per ABI lays its arguments out, every call reads them (clients
	// and servers both, once a syscall), and a read is one atomic load,
	// no lock and no hashing (a map lookup cost a tenth of sp's own work
	// per call in Go compiled to wasm).
	args [argSlots]atomic.Pointer[abi.ArgsLayout]
}

// argSlots covers the numbers of the syscalls sprig describes
// (TestEverySyscallHasAnArgsSlot); a number past it is laid out on each
// use.
const argSlots = 512

// MaxCachedLayouts bounds the layouts LayoutsFor keeps: the built-in ABIs
// and a few user ones. Past it, the least recently used entry is dropped
// (and recomputed if asked for again), so descriptors that arrive from
// the network cannot grow memory without limit.
const MaxCachedLayouts = 64

// cacheKey finds an entry; the entry's own descriptor copy is compared in
// full on a hit, so two descriptors that differ only in aliases or notes
// never share (Layouts.ABI shows them).
type cacheKey struct {
	layout abi.LayoutKey
	name   string
}

type cacheEntry struct {
	l    *Layouts
	used atomic.Uint64 // tick of the last use, for eviction
}

var layoutCache = struct {
	sync.RWMutex
	m    map[cacheKey]*cacheEntry
	tick atomic.Uint64
}{m: map[cacheKey]*cacheEntry{}}

// LayoutsFor returns the layouts for d, computing them once per distinct
// descriptor content: two descriptors with the same content share them,
// and changing a descriptor after the call changes nothing in them (they
// hold their own copy). The cache is bounded by MaxCachedLayouts.
func LayoutsFor(d *abi.Descriptor) *Layouts {
	k := cacheKey{layout: d.LayoutKey(), name: d.Name}
	c := &layoutCache
	c.RLock()
	e, ok := c.m[k]
	c.RUnlock()
	if ok && e.l.ABI.Equal(d) {
		e.used.Store(c.tick.Add(1))
		return e.l
	}

	own := d.Clone()
	l := &Layouts{
		ABI:           own,
		Timespec:      abi.LayoutOf(own, TimespecType),
		Stat:          abi.LayoutOf(own, StatType),
		Dirent:        abi.LayoutOf(own, DirentType),
		Sysresp:       abi.LayoutOf(own, SysrespType),
		Copydata:      abi.LayoutOf(own, CopydataType),
		HandshakeFork: abi.LayoutOf(own, HandshakeForkType),
		Timeval:       abi.LayoutOf(own, TimevalType),
		Rlimit:        abi.LayoutOf(own, RlimitType),
		TmpfsArgs:     abi.LayoutOf(own, TmpfsArgsType),
		Termios:       abi.LayoutOf(own, TermiosType),
	}

	c.Lock()
	defer c.Unlock()
	if e, ok := c.m[k]; ok && e.l.ABI.Equal(d) { // another caller got there first
		return e.l
	}
	if len(c.m) >= MaxCachedLayouts {
		var oldest cacheKey
		min := ^uint64(0)
		for key, e := range c.m {
			if u := e.used.Load(); u < min {
				oldest, min = key, u
			}
		}
		delete(c.m, oldest)
	}
	ne := &cacheEntry{l: l}
	ne.used.Store(c.tick.Add(1))
	c.m[k] = ne
	return l
}

// cachedLayouts reports how many descriptors the cache holds (for tests).
func cachedLayouts() int {
	layoutCache.RLock()
	defer layoutCache.RUnlock()
	return len(layoutCache.m)
}

// Args returns the argument struct layout of syscall n, or nil when sprig
// does not describe that syscall.
func (l *Layouts) Args(n Sysno) *abi.ArgsLayout {
	var slot *atomic.Pointer[abi.ArgsLayout]
	if uint64(n) < argSlots {
		slot = &l.args[n]
		if a := slot.Load(); a != nil {
			return a
		}
	}
	sc := Lookup(n)
	if sc == nil {
		return nil
	}
	a := abi.SyscallArgs(l.ABI, sc.Args...)
	if slot != nil && !slot.CompareAndSwap(nil, a) {
		a = slot.Load() // another caller laid it out first: one layout for all
	}
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
