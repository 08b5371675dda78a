package sp

import (
	"context"
	"fmt"
	"sync"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

// translator is the client-translates half of a client: it knows which
// client addresses of the syscalls in flight hold typed data and converts
// that data between the server's layout (on the wire) and the client's
// own (in its memory). Untyped buffers (read, write) pass unchanged.
type translator struct {
	own, wire   *abi.Descriptor
	ownL, wireL *netbsd.Layouts

	mem Memory // to read a sysctl MIB, which types its value

	mu    sync.Mutex
	spans map[uint64]span // by client address
}

type spanKind uint8

const (
	spanStat    spanKind = iota + 1 // struct stat
	spanSizeT                       // one size_t
	spanInts                        // C ints, as many as the copy holds
	spanDirents                     // getdents records
)

type span struct {
	kind spanKind
	// size, for getdents records, is the buffer's: the kernel may copy
	// each record out on its own (NetBSD's readdir does), anywhere in
	// the buffer.
	size uint64
}

func newTranslator(own, wire *abi.Descriptor, mem Memory) *translator {
	return &translator{own: own, wire: wire, ownL: netbsd.LayoutsFor(own), wireL: netbsd.LayoutsFor(wire), mem: mem, spans: map[uint64]span{}}
}

// begin records the typed pointers of one syscall; the returned func
// forgets them when the call is done.
func (t *translator) begin(ctx context.Context, num netbsd.Sysno, args []uint64) func() {
	add := map[uint64]span{}
	arg := func(i int) uint64 {
		if i < len(args) {
			return args[i]
		}
		return 0
	}
	switch num {
	case netbsd.SYS___stat50, netbsd.SYS___lstat50, netbsd.SYS___fstat50:
		add[arg(1)] = span{kind: spanStat}
	case netbsd.SYS___getdents30:
		add[arg(1)] = span{kind: spanDirents, size: arg(2)}
	case netbsd.SYS_pipe2:
		add[arg(0)] = span{kind: spanInts}
	case netbsd.SYS___sysctl:
		namelen := int(min(arg(1), netbsd.CTL_MAXNAME))
		add[arg(0)] = span{kind: spanInts}
		add[arg(3)] = span{kind: spanSizeT}
		// The MIB decides what the old and new values are: ints are
		// re-ordered, strings and unknown nodes pass unchanged.
		if t.sysctlIsInt(ctx, arg(0), namelen) {
			add[arg(2)] = span{kind: spanInts}
			add[arg(4)] = span{kind: spanInts}
		}
	}
	delete(add, 0)
	t.mu.Lock()
	for a, s := range add {
		t.spans[a] = s
	}
	t.mu.Unlock()
	return func() {
		t.mu.Lock()
		for a := range add {
			delete(t.spans, a)
		}
		t.mu.Unlock()
	}
}

// lookup finds the span starting at addr, or the getdents buffer addr
// lies in.
func (t *translator) lookup(addr uint64) (span, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.spans[addr]; ok {
		return s, ok
	}
	for start, s := range t.spans {
		if s.kind == spanDirents && addr > start && addr-start < s.size {
			return s, true
		}
	}
	return span{}, false
}

// copyIn serves a COPYIN of n wire bytes at addr from the client's memory.
func (t *translator) copyIn(ctx context.Context, mem Memory, addr uint64, n int) ([]byte, error) {
	s, ok := t.lookup(addr)
	if !ok {
		return mem.CopyIn(ctx, addr, n)
	}
	switch s.kind {
	case spanStat:
		b, err := mem.CopyIn(ctx, addr, t.ownL.Stat.Size)
		if err != nil {
			return nil, err
		}
		return abi.Convert(t.wireL.Stat, t.ownL.Stat, b)
	case spanSizeT:
		b, err := mem.CopyIn(ctx, addr, t.own.SizeT.Size)
		if err != nil {
			return nil, err
		}
		return t.word(b, t.own, t.wire, t.own.SizeT.Size, t.wire.SizeT.Size)
	case spanInts:
		b, err := mem.CopyIn(ctx, addr, n)
		if err != nil {
			return nil, err
		}
		return swapInts(b, t.own, t.wire), nil
	}
	return mem.CopyIn(ctx, addr, n)
}

// copyOut stores wire data at addr in the client's own layout.
func (t *translator) copyOut(ctx context.Context, mem Memory, addr uint64, data []byte) error {
	s, ok := t.lookup(addr)
	if !ok {
		return mem.CopyOut(ctx, addr, data)
	}
	var out []byte
	var err error
	switch s.kind {
	case spanStat:
		out, err = abi.Convert(t.ownL.Stat, t.wireL.Stat, data)
	case spanSizeT:
		out, err = t.word(data, t.wire, t.own, t.wire.SizeT.Size, t.own.SizeT.Size)
	case spanInts:
		out = swapInts(data, t.wire, t.own)
	case spanDirents:
		out, err = t.dirents(data)
	default:
		out = data
	}
	if err != nil {
		return fmt.Errorf("sp: translating %d bytes at %#x: %w", len(data), addr, err)
	}
	return mem.CopyOut(ctx, addr, out)
}

func (t *translator) word(b []byte, from, to *abi.Descriptor, fs, ts int) ([]byte, error) {
	if len(b) < fs {
		return nil, fmt.Errorf("sp: %d bytes for a %d-byte word", len(b), fs)
	}
	v := abi.Uint(from.ByteOrder(), b, fs)
	if !abi.FitsUnsigned(v, ts) {
		return nil, fmt.Errorf("sp: %d does not fit %d bytes", v, ts)
	}
	out := make([]byte, ts)
	abi.PutUint(to.ByteOrder(), out, ts, v)
	return out, nil
}

// swapInts re-orders whole 4-byte ints; a trailing partial int (string
// data) is copied as it is.
func swapInts(b []byte, from, to *abi.Descriptor) []byte {
	out := append([]byte(nil), b...)
	if from.Endian == to.Endian {
		return out
	}
	for i := 0; i+4 <= len(out); i += 4 {
		to.ByteOrder().PutUint32(out[i:], from.ByteOrder().Uint32(b[i:]))
	}
	return out
}

// dirents re-orders getdents records. Their offsets are the same on every
// ABI (fileno 0, reclen 8, namlen 10, type 12, name 13); only the byte
// order of the integers differs.
func (t *translator) dirents(b []byte) ([]byte, error) {
	out := append([]byte(nil), b...)
	if t.own.Endian == t.wire.Endian {
		return out, nil
	}
	wo, oo := t.wire.ByteOrder(), t.own.ByteOrder()
	for off := 0; off < len(b); {
		if off+13 > len(b) {
			return nil, fmt.Errorf("sp: dirent at %d: %d bytes left", off, len(b)-off)
		}
		reclen := int(wo.Uint16(b[off+8:]))
		if reclen < 16 || off+reclen > len(b) {
			return nil, fmt.Errorf("sp: dirent at %d: bad d_reclen %d", off, reclen)
		}
		oo.PutUint64(out[off:], wo.Uint64(b[off:]))
		oo.PutUint16(out[off+8:], uint16(reclen))
		oo.PutUint16(out[off+10:], wo.Uint16(b[off+10:]))
		off += reclen
	}
	return out, nil
}

// retval converts return words from the wire ABI's conventions to the
// client's: an off_t split over two 32-bit words becomes one 64-bit word.
func (t *translator) retval(num netbsd.Sysno, rv [2]uint64) [2]uint64 {
	if sc := netbsd.Lookup(num); sc != nil && sc.Ret == netbsd.RetOff {
		return SplitOff(t.own, JoinOff(t.wire, rv))
	}
	return rv
}

// intMIBs are the sysctl nodes whose values are C ints; every other node
// sprig's kernel serves holds a string.
var intMIBs = [][2]int32{
	{netbsd.CTL_KERN, netbsd.KERN_OSREV},
	{netbsd.CTL_HW, netbsd.HW_NCPU}, {netbsd.CTL_HW, netbsd.HW_BYTEORDER}, {netbsd.CTL_HW, netbsd.HW_PAGESIZE},
}

// sysctlIsInt reads the MIB at addr from the client's own memory and
// reports whether its value is an int.
func (t *translator) sysctlIsInt(ctx context.Context, addr uint64, namelen int) bool {
	if t.mem == nil || namelen < 2 {
		return false
	}
	b, err := t.mem.CopyIn(ctx, addr, 4*namelen)
	if err != nil {
		return false
	}
	o := t.own.ByteOrder()
	mib := [2]int32{int32(o.Uint32(b)), int32(o.Uint32(b[4:]))}
	for _, m := range intMIBs {
		if m == mib && namelen == 2 {
			return true
		}
	}
	return false
}
