package sp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/internal/bufpool"
)

// Preloaded copyin, sprig's extension for the round trip a COPYIN costs.
// A client that knows, from abi/netbsd's pointee table, which bytes a
// syscall will copy in (write's buffer, open's path) sends them in a
// REQ/PRELOAD just before the SYSCALL, in the same write; the server's
// kernel then finds them without asking. What the kernel sees is what
// the COPYIN answers would have said: a copy the preload does not cover
// whole still goes to the client, and a COPYOUT over preloaded bytes
// forgets them, so a later copyin of them asks again.
//
// The body is a run of entries, each an rsp_copydata of the client's ABI
// (len, addr) and its len bytes: a COPYOUT body, one after another.

// maxPreloadEntries bounds a PRELOAD's entries: a syscall has at most 8
// arguments.
const maxPreloadEntries = maxArgs

// PreloadEntry is one entry of a PRELOAD body: len(Data) bytes of the
// client's memory at Addr.
type PreloadEntry struct {
	Addr uint64
	Data []byte
}

// preload is what a PRELOAD brought for the SYSCALL of the same reqno.
// Only the call it came with touches it, from the goroutine running it.
type preload struct {
	reqno   uint64
	bytes   int64 // its body, taken from the connection's budgets
	regions []PreloadEntry
	room    [2]PreloadEntry // regions' first (a write's buffer, a rename's two paths)
}

// preloadFrame is a PRELOAD as the server reads it: the frame, the
// preload it becomes, and room for a small body, in one allocation.
type preloadFrame struct {
	f     Frame
	p     preload
	small [preloadSmall]byte
}

// preloadSmall is the largest PRELOAD body kept in its preloadFrame: a
// 64-byte write's, or a path's of a hundred bytes or so.
const preloadSmall = 128

// newPreloadFrame returns the frame of PRELOAD h with an unread body of
// n bytes, in room when that holds it, and the preload it is to become.
func newPreloadFrame(h Header, n uint64, room []byte) (*Frame, *preload) {
	pf := new(preloadFrame)
	pf.f.Header = h
	switch {
	case n <= preloadSmall:
		pf.f.Body = pf.small[:n:n]
	case uint64(cap(room)) >= n:
		pf.f.Body = room[:n:n]
	default:
		pf.f.Body = make([]byte, n)
	}
	return &pf.f, &pf.p
}

// ParsePreload decodes a PRELOAD body. The entries' Data lie in body.
func (c *Codec) ParsePreload(body []byte) ([]PreloadEntry, error) {
	return c.appendPreloadEntries(nil, body)
}

// appendPreloadEntries is ParsePreload appending to out.
func (c *Codec) appendPreloadEntries(out []PreloadEntry, body []byte) ([]PreloadEntry, error) {
	head := c.CopydataSize()
	for len(body) > 0 {
		if len(out) == maxPreloadEntries {
			return nil, fmt.Errorf("more than %d entries", maxPreloadEntries)
		}
		if len(body) < head {
			return nil, fmt.Errorf("%d bytes after the last entry, less than an rsp_copydata (%d)", len(body), head)
		}
		n, addr, _, _ := c.ParseCopydata(body[:head], false)
		body = body[head:]
		if n > uint64(len(body)) {
			return nil, fmt.Errorf("an entry of %d bytes at %#x with %d left", n, addr, len(body))
		}
		out = append(out, PreloadEntry{Addr: addr, Data: body[:n:n]})
		body = body[n:]
	}
	return out, nil
}

// find returns the region holding addr and addr's offset in it.
func (p *preload) find(addr uint64) (*PreloadEntry, uint64, bool) {
	if p == nil {
		return nil, 0, false
	}
	for i := range p.regions {
		r := &p.regions[i]
		if addr >= r.Addr && addr-r.Addr < uint64(len(r.Data)) {
			return r, addr - r.Addr, true
		}
	}
	return nil, 0, false
}

// bytesAt returns the n preloaded bytes at addr, if one region holds
// them all. Nothing writes a region's bytes while its call runs; they
// may lie in the room a later syscall's PRELOAD or COPYIN answer is read
// into (preloadBodyRoom), so the kernel keeps them only until its Syscall
// returns, as any CopyIn's (Memory).
func (p *preload) bytesAt(addr uint64, n int) ([]byte, bool) {
	r, off, ok := p.find(addr)
	if !ok || uint64(n) > uint64(len(r.Data))-off {
		return nil, false
	}
	return r.Data[off : off+uint64(n) : off+uint64(n)], true
}

// stringAt answers a copyinstr of at most max bytes at addr from the
// preloaded bytes, as the client would have: the string before its NUL,
// or max bytes without one (ENAMETOOLONG). False when the region ends
// before either, so that only the client can say.
func (p *preload) stringAt(addr uint64, max int) (string, error, bool) {
	r, off, ok := p.find(addr)
	if !ok || max < 0 {
		return "", nil, false
	}
	rest := r.Data[off:]
	if i := bytes.IndexByte(rest[:min(len(rest), max)], 0); i >= 0 {
		return string(rest[:i]), nil, true
	}
	if len(rest) >= max {
		return string(rest[:max]), nameTooLong(addr, max, max), true
	}
	return "", nil, false
}

// forget drops the regions a copyout of n bytes at addr overlaps: the
// client's memory there is no longer what was preloaded.
func (p *preload) forget(addr uint64, n int) {
	if p == nil || n == 0 {
		return
	}
	// Overlap, in differences: no sum can wrap past the top address.
	p.regions = slices.DeleteFunc(p.regions, func(r PreloadEntry) bool {
		if addr >= r.Addr {
			return addr-r.Addr < uint64(len(r.Data))
		}
		return r.Addr-addr < uint64(n)
	})
}

// nameTooLong is a copyinstr that found no NUL in max bytes (got came).
func nameTooLong(addr uint64, got, max int) error {
	return fmt.Errorf("%w: COPYINSTR at %#x: %d bytes of %d and no NUL", ErrNameTooLong, addr, got, max)
}

// offeredPreload is the preload this server's banner offers, 0 if none.
func (sc *serverConn) offeredPreload() uint64 { return sc.srv.cfg.preloadOffer() }

// keepPreload keeps PRELOAD f, read into p (nil: its body was left
// unread, too long or beyond the budgets, and readBody said why), for
// the SYSCALL that must come next. A PRELOAD nobody claimed is dropped,
// and so is one that does not parse: their calls ask for their bytes as
// usual.
func (sc *serverConn) keepPreload(f *Frame, p *preload) {
	sc.dropPreload()
	if p == nil {
		return
	}
	regions, err := sc.codec.appendPreloadEntries(p.room[:0], f.Body)
	if err != nil {
		sc.releasePreload(int64(len(f.Body)))
		sc.log.Warn("malformed PRELOAD dropped; its syscall will copy in as usual", "frame", f.Header.String(), "err", err)
		return
	}
	p.reqno, p.bytes, p.regions = f.Reqno, int64(len(f.Body)), regions
	sc.pre = p
}

// claimPreload returns the kept PRELOAD if it is SYSCALL reqno's; any
// other is dropped.
func (sc *serverConn) claimPreload(reqno uint64) *preload {
	p := sc.pre
	if p == nil {
		return nil
	}
	if p.reqno != reqno {
		sc.log.Info("PRELOAD not followed by its SYSCALL; dropped", "preload reqno", p.reqno, "syscall reqno", reqno)
		sc.dropPreload()
		return nil
	}
	sc.pre = nil
	return p
}

// dropPreload gives a kept PRELOAD's bytes back.
func (sc *serverConn) dropPreload() {
	if p := sc.pre; p != nil {
		sc.releasePreload(p.bytes)
		sc.pre = nil
	}
}

// holdPreload takes n bytes of PRELOAD body from the budgets, if the
// preloads held leave room for it (preHeld) and the budgets have it.
func (sc *serverConn) holdPreload(n int64) bool {
	if sc.preHeld.Load()+n > sc.srv.cfg.MaxClientBytes/2 || !sc.budget.tryAcquire(n) {
		return false
	}
	sc.preHeld.Add(n)
	return true
}

// releasePreload gives back n bytes holdPreload took.
func (sc *serverConn) releasePreload(n int64) {
	sc.preHeld.Add(-n)
	sc.budget.release(n)
}

// releaseCall gives back what call c holds of the budgets, its preload's
// bytes among them.
func (sc *serverConn) releaseCall(c *call) {
	if c.pre != nil {
		sc.preHeld.Add(-c.pre.bytes)
	}
	sc.budget.release(c.bytes)
}

// preloadArg is one argument whose pointee a syscall copies in, by value
// index (PAD slots do not count).
type preloadArg struct {
	ptr int
	// length is the value index of the byte count; -1 for a string.
	length int
}

// preloadPlans caches preloadPlanOf by syscall.
var preloadPlans sync.Map // netbsd.Sysno → []preloadArg

// preloadPlanOf returns what syscall num copies in that a client can
// know before it runs: byte buffers with their length argument ("const
// void *buf" and its size_t) and strings ("const char *path"). Typed
// data is left to COPYIN, whose answers are the same bytes anyway.
func preloadPlanOf(num netbsd.Sysno) []preloadArg {
	if p, ok := preloadPlans.Load(num); ok {
		return p.([]preloadArg)
	}
	var plan []preloadArg
	if sc := netbsd.Lookup(num); sc != nil {
		pts := sc.Pointees()
		index := map[string]int{}
		vi := 0
		for _, f := range sc.Args {
			if f.Type != abi.Pad {
				index[f.Name] = vi
				vi++
			}
		}
		for i, f := range sc.Args {
			pt := pts[i]
			if f.Type == abi.Pad || pt.Dir != netbsd.DirIn {
				continue
			}
			switch {
			case pt.Points == netbsd.PointsString:
				plan = append(plan, preloadArg{ptr: index[f.Name], length: -1})
			case pt.Points == netbsd.PointsBytes && pt.LenArg != "":
				if l, ok := index[pt.LenArg]; ok {
					plan = append(plan, preloadArg{ptr: index[f.Name], length: l})
				}
			}
		}
	}
	actual, _ := preloadPlans.LoadOrStore(num, plan)
	return actual.([]preloadArg)
}

// usesPreload decides whether a client preloads: it asked to, the
// server offers it, and the server reads this client's frames with the
// client's own ABI, so the entries and the addresses the kernel copies
// from agree (not in client-translates mode, whose addresses and data
// the client rewrites).
func usesPreload(cfg *ClientConfig, b Banner) uint64 {
	if !cfg.Preload || cfg.Mode == ModeClientTranslates || b.ABI != cfg.ABI.Name {
		return 0
	}
	return min(b.Preload, cfg.MaxFrame-HeaderSize) // what this client's Framer will send
}

// preloadRoom is the size of the buffers of smallPreloads: room for a
// small PRELOAD frame (a 64-byte write's, or a short path's) and the
// SYSCALL frame written after it. A larger one takes a buffer of
// largeBodies'.
const preloadRoom = 384

// smallPreloads keeps buffers of preloadRoom bytes: the frame is written
// through an io.Writer, so room on the stack would escape to the heap.
var smallPreloads = bufpool.New(preloadRoom, 64)

// putPreloadBuffer gives a buffer of preloadFor's back to its pool.
func putPreloadBuffer(b []byte) {
	smallPreloads.Put(b) // each pool ignores the other's buffers (and nil)
	largeBodies.Put(b)
}

// preloadPlan is what this client preloads for syscall num: its plan,
// or nil when it preloads nothing (not asked to, not offered, no
// Memory, nothing the syscall copies in).
func (c *Client) preloadPlan(num netbsd.Sysno) []preloadArg {
	if c.preload == 0 || c.cfg.Memory == nil {
		return nil
	}
	return preloadPlanOf(num)
}

// preloadFor returns the PRELOAD frame for a syscall of plan with values
// args, its header left for send to write, or nil when there is nothing
// to preload; and the pooled buffer it lies in, for the caller to give
// back (putPreloadBuffer) once the frame is written.
func (c *Client) preloadFor(ctx context.Context, plan []preloadArg, args []uint64) (frame, pooled []byte) {
	if c.preloadsMore(plan, args, preloadRoom) {
		pooled = largeBodies.Get()
	} else {
		pooled = smallPreloads.Get()
	}
	buf := c.appendPreload(ctx, pooled[:HeaderSize], plan, args)
	if len(buf) == HeaderSize {
		return nil, pooled
	}
	return buf, pooled
}

// preloadsMore reports whether plan's byte buffers, with the SYSCALL
// behind them, may not fit in room bytes. (Strings take what is left: a
// path longer than that is asked for as usual.)
func (c *Client) preloadsMore(plan []preloadArg, args []uint64, room int) bool {
	head := uint64(c.codec.CopydataSize())
	need := uint64(2*HeaderSize + maxArgsStruct)
	for _, a := range plan {
		// (A buffer past the offer is left out: it needs no room.)
		if a.length >= 0 && a.length < len(args) && args[a.length]+head <= c.preload {
			need += head + args[a.length]
		}
	}
	return need > uint64(room)
}

// appendPreload appends a PRELOAD body for a syscall of plan with values
// args to dst: every pointee of the plan the client's Memory can read
// whole, as long as the body stays within the server's offer. Bytes it
// cannot read are left out; the server will ask for them and be told
// EFAULT, as without a preload.
func (c *Client) appendPreload(ctx context.Context, dst []byte, plan []preloadArg, args []uint64) []byte {
	mem, limit := c.cfg.Memory, c.preload
	head := uint64(c.codec.CopydataSize())
	base := uint64(len(dst)) // the body starts here
	for _, a := range plan {
		if a.ptr >= len(args) || (a.length >= len(args)) {
			continue
		}
		addr := args[a.ptr]
		if addr == 0 {
			continue // the kernel answers EFAULT without asking
		}
		room := limit - min(limit, uint64(len(dst))-base+head)
		start := len(dst)
		if a.length < 0 {
			// A string takes what is left of dst's buffer, the SYSCALL
			// after it included; a longer one is asked for as usual.
			spare := max(cap(dst)-len(dst)-int(head)-HeaderSize-maxArgsStruct, 0)
			s, err := mem.CopyInStr(ctx, addr, min(int(min(room, netbsd.PATH_MAX)), spare))
			if err != nil {
				continue
			}
			var herr error
			if dst, herr = c.codec.appendCopydata(dst, uint64(len(s))+1, addr); herr != nil {
				dst = dst[:start]
				continue
			}
			dst = append(append(dst, s...), 0)
			continue
		}
		n := args[a.length]
		if n == 0 || n > room {
			continue
		}
		var err error
		if dst, err = c.codec.appendCopydata(dst, n, addr); err == nil {
			dst, err = appendCopyIn(ctx, mem, dst, addr, int(n))
		}
		if err != nil {
			dst = dst[:start]
		}
	}
	return dst
}

// appendCopyIn appends the n bytes at addr to dst, through
// CopyInAppender where mem has it.
func appendCopyIn(ctx context.Context, mem Memory, dst []byte, addr uint64, n int) ([]byte, error) {
	if ap, ok := mem.(CopyInAppender); ok {
		out, err := ap.AppendCopyIn(ctx, dst, addr, n)
		if err == nil && len(out)-len(dst) != n {
			return dst, errors.New("short copy") // an entry must hold what it says
		}
		return out, err
	}
	b, err := mem.CopyIn(ctx, addr, n)
	if err != nil {
		return dst, err
	}
	if len(b) != n {
		return dst, errors.New("short copy")
	}
	return append(dst, b...), nil
}
