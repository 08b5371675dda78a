package xlate

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

// Config bounds a Session. Start from DefaultConfig.
type Config struct {
	// MaxRegions bounds the typed regions of the syscalls in flight and
	// the mappings kept (beyond it a syscall is refused with ENOMEM).
	MaxRegions int
	// MaxMappings bounds the ANONMMAP windows a narrow session keeps
	// across syscalls (beyond it the server's ANONMMAP gets NULL).
	MaxMappings int
	// Note, when set, is told in a few words what was translated (for
	// traces). It is called with the session's lock held: it must not
	// call back into the session.
	Note func(msg string)
}

// DefaultConfig returns bounds that fit a C server's limits with room to
// spare: 128 syscalls in flight with a few pointers each.
func DefaultConfig() Config { return Config{MaxRegions: 4096, MaxMappings: 64} }

// Session is the translation state of one connection: the typed regions
// of the syscalls in flight and, for a narrow pair, the window space. It
// is safe for concurrent use.
type Session struct {
	p   *Pair
	cfg Config

	mu       sync.Mutex
	regions  []*region
	mappings int
	win      windowSpace
	seq      uint64
}

// NewSession returns a session for pair p.
func NewSession(p *Pair, cfg Config) *Session {
	if cfg.MaxRegions <= 0 {
		cfg.MaxRegions = DefaultConfig().MaxRegions
	}
	if cfg.MaxMappings <= 0 {
		cfg.MaxMappings = DefaultConfig().MaxMappings
	}
	return &Session{p: p, cfg: cfg}
}

// Pair returns the session's pair.
func (s *Session) Pair() *Pair { return s.p }

// Windows returns how many windows are allocated (tests of leaks).
func (s *Session) Windows() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.win.len()
}

// Regions returns how many regions are tracked (tests of leaks).
func (s *Session) Regions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.regions)
}

func (s *Session) note(format string, args ...any) {
	if s.cfg.Note != nil {
		s.cfg.Note(fmt.Sprintf(format, args...))
	}
}

// region is client memory a copy request may reach: what one pointer
// argument of a syscall in flight points at, or an ANONMMAP mapping.
type region struct {
	call   *Call // nil for a mapping
	arg    string
	points netbsd.Points
	el     *elem // PointsData
	// lenEl, for a size_t that holds another argument's length in bytes
	// (sysctl's *oldlenp), is that argument's element type: the length
	// is rescaled from one layout to the other.
	lenEl        *elem
	client, wire uint64
	cext, wext   uint64 // extent on each side, in bytes
	window       bool   // wire is a window to free
	seq          uint64
}

func (r *region) String() string {
	what := r.points.String()
	if r.el != nil {
		what = r.el.t.Name()
	}
	return fmt.Sprintf("%s (%s)", r.arg, what)
}

// Call is one syscall in flight.
type Call struct {
	s    *Session
	Num  netbsd.Sysno
	sc   *netbsd.Syscall
	regs []*region
	// unmap is munmap's client range, for dropping mappings once the
	// server agreed.
	unmap [2]uint64
	// spoiled says why a copy of this call's typed data could not be
	// translated; the call then answers ENOSYS.
	spoiled string
}

// resolved is a pointee as it is for one call.
type resolved struct {
	points netbsd.Points
	el     *elem
	count  uint64
	why    string // for PointsUnknown: what is not described
}

// Begin starts syscall num with the client's argument values (PAD
// excluded, signed ones sign-extended): it records the typed regions its
// pointers reach, maps them to windows for a narrow pair, and returns the
// values to lay out in the server's ABI. mem is the client's memory, read
// when a MIB or a type name decides what another argument points at. A
// syscall it cannot translate fails with a *Refusal; nothing is kept.
func (s *Session) Begin(ctx context.Context, mem Memory, num netbsd.Sysno, args []uint64) (*Call, []uint64, error) {
	c := &Call{s: s, Num: num}
	if s.p.same {
		return c, args, nil
	}
	if mem == nil {
		mem = noMemory{}
	}
	pl := s.p.plan(num)
	if pl.bad != "" {
		return nil, nil, refuse(num, netbsd.ENOSYS, "%s", pl.bad)
	}
	if len(args) != len(pl.args) {
		return nil, nil, refuse(num, netbsd.EINVAL, "%d argument values for %d arguments", len(args), len(pl.args))
	}
	c.sc = pl.sc
	wire := slices.Clone(args)
	rs := make([]resolved, len(pl.args))
	for i, a := range pl.args {
		rs[i] = resolved{points: a.pt.Points, el: a.el, count: uint64(a.pt.Count)}
		if a.pt.Points == netbsd.PointsUnknown {
			rs[i].why = "data sprig does not describe"
		}
	}
	if err := s.resolve(ctx, mem, pl, args, wire, rs); err != nil {
		return nil, nil, err
	}
	if num == netbsd.SYS_munmap && len(args) >= 2 {
		c.unmap = [2]uint64{args[0], args[1]}
	}

	var regs []*region
	for i, a := range pl.args {
		v := args[i]
		r := rs[i]
		switch r.points {
		case netbsd.PointsNone, netbsd.PointsValue:
			if !fits(wire[i], a.size, a.signed) {
				return nil, nil, refuse(num, netbsd.EINVAL, "argument %s = %#x does not fit %s's %d bytes", a.name, wire[i], s.p.Server.Name, a.size)
			}
		case netbsd.PointsAddress:
			w, ok := s.mapAddress(v, a.size)
			if !ok {
				return nil, nil, refuse(num, netbsd.EINVAL, "address %s = %#x has no %d-byte equivalent on %s", a.name, v, a.size, s.p.Server.Name)
			}
			wire[i] = w
		case netbsd.PointsBytes, netbsd.PointsString, netbsd.PointsData, netbsd.PointsDirents:
			if v == 0 {
				continue // NULL: the kernel faults or ignores it, as it would natively
			}
			if r.el != nil && r.el.bad != "" {
				return nil, nil, refuse(num, netbsd.ENOSYS, "argument %s: %s", a.name, r.el.bad)
			}
			reg := &region{call: c, arg: a.name, points: r.points, el: r.el, client: v}
			reg.cext, reg.wext = s.extents(ctx, mem, pl, i, r, args)
			regs = append(regs, reg)
		default: // unknown, or a dependency nothing resolved
			if v == 0 {
				continue
			}
			why := r.why
			if why == "" {
				why = "a pointee decided by " + a.pt.Depends.String()
			}
			return nil, nil, refuse(num, netbsd.ENOSYS, "argument %s points at %s", a.name, why)
		}
	}
	// Lengths in bytes of typed data change with its layout.
	for i, a := range pl.args {
		el := rs[i].el
		if el == nil || el.raw {
			continue
		}
		if a.lenArg >= 0 {
			wire[a.lenArg] = scale(args[a.lenArg], el.c.Size, el.s.Size)
			if la := pl.args[a.lenArg]; !fits(wire[a.lenArg], la.size, la.signed) {
				return nil, nil, refuse(num, netbsd.EINVAL, "argument %s = %d does not fit %s's %d bytes", la.name, wire[a.lenArg], s.p.Server.Name, la.size)
			}
		}
		if a.lenPtr >= 0 {
			for _, reg := range regs {
				if reg.arg == pl.args[a.lenPtr].name {
					reg.lenEl = el
				}
			}
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.regions)+len(regs) > s.cfg.MaxRegions {
		return nil, nil, refuse(num, netbsd.ENOMEM, "more than %d typed regions in flight", s.cfg.MaxRegions)
	}
	for k, reg := range regs {
		if s.p.narrow {
			w, ok := s.win.alloc(min(reg.wext, maxWindow), reg.client%pageSize)
			if !ok {
				for _, done := range regs[:k] {
					s.win.free(done.wire)
				}
				return nil, nil, refuse(num, netbsd.ENOMEM, "no window left for %d bytes", reg.wext)
			}
			reg.wire, reg.window = w, true
			reg.wext = min(reg.wext, maxWindow)
			s.note("%s %s: client %#x → window %#x (%d bytes)", num, reg, reg.client, w, reg.wext)
		} else {
			reg.wire = reg.client
		}
		s.seq++
		reg.seq = s.seq
		wire[pl.index[reg.arg]] = reg.wire
	}
	s.regions = append(s.regions, regs...)
	c.regs = regs
	return c, wire, nil
}

// fits reports whether v can be stored in size bytes without loss, as
// an unsigned value or, for a signed type, a signed one.
func fits(v uint64, size int, signed bool) bool {
	return abi.FitsUnsigned(v, size) || (signed && abi.FitsSigned(int64(v), size))
}

// scale converts a length in bytes of elements from fs-byte elements to
// ts-byte ones; a trailing part element keeps its length.
func scale(n uint64, fs, ts int) uint64 {
	if fs <= 0 || fs == ts {
		return n
	}
	return n/uint64(fs)*uint64(ts) + n%uint64(fs)
}

// defaultExtent is what a pointer whose length nothing says may cover: a
// path, a struct, a handful of ints.
const defaultExtent = 4096

// extents works out how many bytes argument i's region covers on the
// client's side and on the server's.
func (s *Session) extents(ctx context.Context, mem Memory, pl *plan, i int, r resolved, args []uint64) (cext, wext uint64) {
	a := pl.args[i]
	blen, known := uint64(0), false
	switch {
	case a.lenArg >= 0:
		blen, known = args[a.lenArg], true
	case a.lenPtr >= 0 && s.p.narrow && args[a.lenPtr] != 0:
		// Only a window needs the size: read the client's *lenp.
		if b, err := mem.CopyIn(ctx, args[a.lenPtr], s.p.Client.SizeT.Size); err == nil {
			blen, known = abi.Uint(s.p.Client.ByteOrder(), b, s.p.Client.SizeT.Size), true
		}
	}
	blen = min(blen, maxWindow)
	switch r.points {
	case netbsd.PointsData:
		cs, ws := uint64(r.el.c.Size), uint64(r.el.s.Size)
		n := r.count
		if a.countArg >= 0 {
			n = args[a.countArg]
		}
		if n == 0 && known {
			n = (blen + cs - 1) / max(cs, 1)
		}
		if n == 0 {
			n = max(1, defaultExtent/max(cs, ws, 1))
		}
		n = min(n, maxWindow/max(cs, ws, 1))
		return n * cs, n * ws
	case netbsd.PointsString:
		return defaultExtent, defaultExtent
	}
	if !known {
		blen = defaultExtent
	}
	return blen, blen
}

// mapAddress returns the server's address for a client address the
// kernel keeps but does not copy through: inside a mapping, the mapping's
// window; otherwise the address itself when it fits.
func (s *Session) mapAddress(v uint64, size int) (uint64, bool) {
	if s.p.narrow {
		s.mu.Lock()
		for _, r := range s.regions {
			if r.call == nil && v >= r.client && v-r.client < r.cext {
				s.mu.Unlock()
				return r.wire + (v - r.client), true
			}
		}
		s.mu.Unlock()
	}
	return v, abi.FitsUnsigned(v, size)
}

// find returns the region a copy of n bytes at a server address falls
// in and the offset there: of those that hold the address, the one
// starting closest below it. Of regions that start alike (two arguments
// at one address, or a call given up on and a later one on the same
// buffer) it prefers one that can take the copy whole, then the later.
func (s *Session) findLocked(addr uint64, n int) (*region, uint64) {
	var best *region
	for _, r := range s.regions {
		if addr < r.wire || addr-r.wire >= max(r.wext, 1) {
			continue
		}
		switch {
		case best == nil || r.wire > best.wire:
			best = r
		case r.wire == best.wire:
			rt, bt := r.takes(addr-r.wire, n), best.takes(addr-best.wire, n)
			if rt && !bt || rt == bt && r.seq > best.seq {
				best = r
			}
		}
	}
	if best == nil {
		return nil, 0
	}
	return best, addr - best.wire
}

// takes reports whether a copy of n bytes at offset off fits r: within
// its extent and, for typed data, in whole elements.
func (r *region) takes(off uint64, n int) bool {
	if off+uint64(n) > max(r.wext, 1) {
		return false
	}
	if r.el == nil || r.copiedAsIs() {
		return true
	}
	ws := uint64(r.el.s.Size)
	return ws > 0 && n > 0 && off%ws == 0 && uint64(n)%ws == 0
}

// copiedAsIs reports whether copies in r need no translation: it holds
// no typed data, or its elements (and the length they are counted by)
// are laid out alike on both sides. (Dirents are decided apart.)
func (r *region) copiedAsIs() bool {
	return r.points != netbsd.PointsData || r.el.raw && (r.lenEl == nil || r.lenEl.raw)
}

// spoilLocked marks r's call as untranslatable.
func (s *Session) spoilLocked(r *region, format string, args ...any) error {
	why := fmt.Sprintf(format, args...)
	if r.call != nil && r.call.spoiled == "" {
		r.call.spoiled = why
	}
	s.note("cannot translate %s: %s", r, why)
	return fmt.Errorf("%w: %s", ErrFault, why)
}

// noMemory is the memory of a client that has none: every access faults.
type noMemory struct{}

func (noMemory) CopyIn(context.Context, uint64, int) ([]byte, error) { return nil, ErrFault }
func (noMemory) CopyInStr(context.Context, uint64, int) (string, error) {
	return "", ErrFault
}
func (noMemory) CopyOut(context.Context, uint64, []byte) error { return ErrFault }
func (noMemory) AnonMmap(context.Context, uint64) (uint64, error) {
	return 0, fmt.Errorf("%w: no memory", netbsd.ENOMEM)
}
