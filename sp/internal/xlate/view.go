package xlate

import (
	"context"
	"fmt"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

// View returns the server's view of the client memory mem: addresses are
// the server's (windows, for a narrow pair) and typed data comes and goes
// in the server's layout. A copy no region holds passes as bytes at the
// same address, or, for a narrow pair, whose server addresses are all
// windows, faults. For a Same pair the view is mem itself.
func (s *Session) View(mem Memory) Memory {
	if s.p.same {
		return mem
	}
	return &view{s: s, mem: mem}
}

type view struct {
	s   *Session
	mem Memory
}

// target is where a server copy lands in the client's memory.
type target struct {
	r     *region // nil: untyped
	typed bool    // the bytes must be re-laid
	addr  uint64  // client address
	n     int     // client bytes
	k     int     // elements of typed data
}

func (v *view) locate(op string, addr uint64, n int) (target, error) {
	s := v.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r, off := s.findLocked(addr, n)
	if r == nil {
		if s.p.narrow {
			return target{}, fmt.Errorf("%w: %s of %d bytes at %#x: no window holds it", ErrFault, op, n, addr)
		}
		return target{addr: addr, n: n}, nil
	}
	if s.p.narrow && off+uint64(n) > r.wext {
		return target{}, fmt.Errorf("%w: %s of %d bytes at %#x runs past the end of the %d-byte window for %s", ErrFault, op, n, addr, r.wext, r)
	}
	t := target{r: r, addr: r.client + off, n: n}
	if r.points == netbsd.PointsDirents {
		t.typed = s.p.Client.Endian != s.p.Server.Endian
		return t, nil
	}
	if r.copiedAsIs() {
		return t, nil
	}
	ws, cs := uint64(r.el.s.Size), uint64(r.el.c.Size)
	if off%ws != 0 || uint64(n)%ws != 0 || n == 0 {
		return target{}, s.spoilLocked(r, "%s of %d bytes at offset %d is not whole %d-byte %s elements", op, n, off, ws, r.el.t.Name())
	}
	t.typed = true
	t.k = int(uint64(n) / ws)
	t.addr = r.client + off/ws*cs
	t.n = t.k * int(cs)
	return t, nil
}

func (v *view) CopyIn(ctx context.Context, addr uint64, n int) ([]byte, error) {
	t, err := v.locate("COPYIN", addr, n)
	if err != nil {
		return nil, err
	}
	b, err := v.mem.CopyIn(ctx, t.addr, t.n)
	if err != nil || !t.typed {
		return b, err
	}
	return v.s.relay(t, b, true)
}

func (v *view) CopyInStr(ctx context.Context, addr uint64, max int) (string, error) {
	t, err := v.locate("COPYINSTR", addr, 1)
	if err != nil {
		return "", err
	}
	if t.r != nil && (t.r.points == netbsd.PointsData || t.r.points == netbsd.PointsDirents) && t.typed {
		v.s.mu.Lock()
		err := v.s.spoilLocked(t.r, "COPYINSTR from typed data")
		v.s.mu.Unlock()
		return "", err
	}
	return v.mem.CopyInStr(ctx, t.addr, max)
}

func (v *view) CopyOut(ctx context.Context, addr uint64, data []byte) error {
	t, err := v.locate("COPYOUT", addr, len(data))
	if err != nil {
		return err
	}
	if t.typed {
		if data, err = v.s.relay(t, data, false); err != nil {
			return err
		}
	}
	return v.mem.CopyOut(ctx, t.addr, data)
}

// AnonMmap maps memory in the client; for a narrow pair the server gets
// a window onto it, kept until munmap or the end of the session.
func (v *view) AnonMmap(ctx context.Context, size uint64) (uint64, error) {
	s := v.s
	if !abi.FitsUnsigned(size, s.p.Client.SizeT.Size) {
		return 0, fmt.Errorf("%w: %d bytes do not fit %s's size_t", netbsd.ENOMEM, size, s.p.Client.Name)
	}
	a, err := v.mem.AnonMmap(ctx, size)
	if err != nil || !s.p.narrow {
		return a, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mappings >= s.cfg.MaxMappings || len(s.regions) >= s.cfg.MaxRegions || size > maxWindow {
		return 0, fmt.Errorf("%w: no window for a %d-byte mapping (%d kept)", netbsd.ENOMEM, size, s.mappings)
	}
	w, ok := s.win.alloc(size, a%pageSize)
	if !ok {
		return 0, fmt.Errorf("%w: no window left for a %d-byte mapping", netbsd.ENOMEM, size)
	}
	s.seq++
	s.regions = append(s.regions, &region{arg: "ANONMMAP", points: netbsd.PointsBytes, client: a, wire: w,
		cext: size, wext: size, window: true, seq: s.seq})
	s.mappings++
	s.note("ANONMMAP %d bytes: client %#x → window %#x", size, a, w)
	return w, nil
}

// relay re-lays typed bytes: client to server (toServer) or back.
func (s *Session) relay(t target, b []byte, toServer bool) ([]byte, error) {
	r := t.r
	var out []byte
	var err error
	if r.points == netbsd.PointsDirents {
		from, to := s.p.Server, s.p.Client
		if toServer {
			from, to = to, from
		}
		out, err = s.dirents(b, from, to)
	} else {
		out, err = s.elements(r, b, t.k, toServer)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		return nil, s.spoilLocked(r, "%v", err)
	}
	dir := "server → client"
	if toServer {
		dir = "client → server"
	}
	s.note("%s: %d bytes %s → %d bytes (%s)", r, len(b), s.layoutName(r), len(out), dir)
	return out, nil
}

func (s *Session) layoutName(r *region) string {
	if r.el != nil {
		return r.el.t.Name()
	}
	return r.points.String()
}

// elements converts k elements of r's type.
func (s *Session) elements(r *region, b []byte, k int, toServer bool) ([]byte, error) {
	src, dst := r.el.s, r.el.c
	if toServer {
		src, dst = dst, src
	}
	out := make([]byte, 0, k*dst.Size)
	for i := 0; i < k; i++ {
		e, err := abi.Convert(dst, src, b[i*src.Size:(i+1)*src.Size])
		if err != nil {
			return nil, err
		}
		if r.lenEl != nil {
			// A length in bytes of another argument's elements.
			from, to := r.lenEl.s.Size, r.lenEl.c.Size
			if toServer {
				from, to = to, from
			}
			v := scale(abi.Uint(dst.ABI.ByteOrder(), e, dst.Size), from, to)
			if !abi.FitsUnsigned(v, dst.Size) {
				return nil, fmt.Errorf("length %d does not fit %s's %d-byte size_t", v, dst.ABI.Name, dst.Size)
			}
			abi.PutUint(dst.ABI.ByteOrder(), e, dst.Size, v)
		}
		out = append(out, e...)
	}
	return out, nil
}

// dirents re-orders the integers of __getdents30 records; their offsets
// and lengths are the same on both sides (plan checked).
func (s *Session) dirents(b []byte, from, to *abi.Descriptor) ([]byte, error) {
	l := netbsd.LayoutsFor(from).Dirent
	fixed, _ := l.FlexOffset()
	reclenOff := l.Offset("d_reclen")
	out := append([]byte(nil), b...)
	fo, to2 := from.ByteOrder(), to.ByteOrder()
	for off := 0; off < len(b); {
		if off+fixed > len(b) {
			return nil, fmt.Errorf("dirent at %d: %d bytes left, a record needs %d", off, len(b)-off, fixed)
		}
		reclen := int(fo.Uint16(b[off+reclenOff:]))
		if reclen < fixed || reclen > len(b)-off {
			return nil, fmt.Errorf("dirent at %d: bad d_reclen %d", off, reclen)
		}
		for _, lf := range l.Leaves() {
			if lf.Type.Kind() != abi.KindScalar {
				continue // the name: bytes
			}
			abi.PutUint(to2, out[off+lf.Offset:], lf.Size, abi.Uint(fo, b[off+lf.Offset:], lf.Size))
		}
		off += reclen
	}
	return out, nil
}
