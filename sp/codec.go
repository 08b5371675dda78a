package sp

import (
	"fmt"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

// CookieSize is the size of a PREFORK cookie.
const CookieSize = 16

// Cookie is the secret a PREFORK answer carries and a FORK handshake
// presents.
type Cookie [CookieSize]byte

// DefaultPadFill is the byte written into padding that C leaves
// uninitialised (the 4 bytes after rsys_error on LP64, slot padding), so a
// peer that misreads them fails visibly rather than reading a lucky zero.
const DefaultPadFill = 0xA5

// faultInjection breaks the codec on purpose. It is test-only: empty in
// every real build, set by sp's own tests (export_test.go) or at link
// time, for tests that must show that the outside oracles (the C
// reference client built by a real compiler, run on a real or emulated
// CPU) catch a codec bug which sprig's own client and server, sharing
// this codec, cannot see:
//
//	go build -ldflags "-X github.com/rumpsprig/sprig/sp.faultInjection=swap-retval32" ./cmd/sprig
//
// The one fault is "swap-retval32": rsys_retval[0] and [1] of
// rsp_sysresp trade places on ABIs whose register_t is 4 bytes wide,
// on encode and decode alike. Any other value changes nothing.
var faultInjection string

// faultSwapRetval32 is the faultInjection value that swaps retvals.
const faultSwapRetval32 = "swap-retval32"

// retvalSlot is the rsys_retval element retval word i is stored in: i,
// unless faultInjection swaps 4-byte words.
func retvalSlot(i, size int) int {
	if size == 4 && faultInjection == faultSwapRetval32 {
		return 1 - i
	}
	return i
}

// Codec encodes and decodes frame bodies for one ABI. The header's byte
// order is the Framer's business; everything inside a body is the Codec's.
type Codec struct {
	// ABI lays out every body.
	ABI *abi.Descriptor
	// PadFill fills padding bytes of encoded bodies.
	PadFill byte

	l  *netbsd.Layouts
	sr sysrespPlan
}

// sysrespPlan is where an rsp_sysresp's members lie in the codec's ABI,
// worked out once: finding them through the layout for every reply cost
// a tenth of a syscall's client work in Go compiled to wasm.
type sysrespPlan struct{ size, errOff, rvOff, rvSize int }

// retval is the offset of retval word i, in the slot retvalSlot puts it.
func (p *sysrespPlan) retval(i int) int { return p.rvOff + retvalSlot(i, p.rvSize)*p.rvSize }

// NewCodec returns a Codec for d with the default padding fill.
func NewCodec(d *abi.Descriptor) *Codec {
	c := &Codec{ABI: d, l: netbsd.LayoutsFor(d), PadFill: DefaultPadFill}
	l := c.l.Sysresp
	c.sr = sysrespPlan{size: l.Size, errOff: l.Fields[0].Offset, rvOff: l.Fields[1].Offset, rvSize: l.Fields[1].Elem.Size}
	return c
}

// Layouts returns the layouts of the codec's ABI, looked up once.
func (c *Codec) Layouts() *netbsd.Layouts { return c.l }

// SysrespSize is the size of an rsp_sysresp.
func (c *Codec) SysrespSize() int { return c.l.Sysresp.Size }

func (c *Codec) o() abi.ByteOrder { return c.ABI.ByteOrder() }

func bodyErr(what string, got, want int, d *abi.Descriptor) error {
	return fmt.Errorf("%w: %s body is %d bytes, %s expects %d", ErrBodySize, what, got, d.Name, want)
}

// Sysresp encodes r as an rsp_sysresp.
func (c *Codec) Sysresp(r Result) []byte {
	return c.AppendSysresp(nil, r)
}

// AppendSysresp appends r, encoded as an rsp_sysresp, to dst.
func (c *Codec) AppendSysresp(dst []byte, r Result) []byte {
	l := c.l.Sysresp
	start := len(dst)
	dst = append(dst, make([]byte, l.Size)...)
	b := dst[start:]
	for _, p := range l.Padding() {
		for i := p.Offset; i < p.Offset+p.Size; i++ {
			b[i] = c.PadFill
		}
	}
	e, p := c.ABI.Endian, &c.sr
	e.PutUint(b[p.errOff:], 4, uint64(uint32(r.Errno)))
	for i, v := range r.Retval {
		e.PutUint(b[p.retval(i):], p.rvSize, v)
	}
	return dst
}

// ParseSysresp decodes an rsp_sysresp; the body must have exactly its
// size. Retvals come back zero-extended; padding is never read. The
// Result interprets its words (Int, Off) in the codec's ABI.
func (c *Codec) ParseSysresp(body []byte) (Result, error) {
	p := &c.sr
	if len(body) != p.size {
		return Result{}, bodyErr("rsp_sysresp", len(body), p.size, c.ABI)
	}
	e := c.ABI.Endian
	return Result{
		Errno:  netbsd.Errno(int32(e.Uint(body[p.errOff:], 4))),
		Retval: [2]uint64{e.Uint(body[p.retval(0):], p.rvSize), e.Uint(body[p.retval(1):], p.rvSize)},
		abi:    c.ABI,
	}, nil
}

// CopydataSize is the size of the fixed part of rsp_copydata.
func (c *Codec) CopydataSize() int { return c.l.Copydata.Size }

// Copydata encodes an rsp_copydata for n bytes at addr, followed by data
// (COPYOUT). An addr or n too wide for the ABI is an error: it would be
// silently truncated on the wire.
func (c *Codec) Copydata(n, addr uint64, data []byte) ([]byte, error) {
	b, err := c.appendCopydata(make([]byte, 0, c.l.Copydata.Size+len(data)), n, addr)
	if err != nil {
		return nil, err
	}
	return append(b, data...), nil
}

// appendCopydata appends the fixed part of an rsp_copydata (Copydata
// without data), so that a frame can carry it and its data as two
// parts with no body assembled in between.
func (c *Codec) appendCopydata(dst []byte, n, addr uint64) ([]byte, error) {
	l := c.l.Copydata
	lenF, addrF := &l.Fields[0], &l.Fields[1]
	if !abi.FitsUnsigned(n, lenF.Size) {
		return nil, fmt.Errorf("sp: copy length %d does not fit %s's %d-byte size_t", n, c.ABI.Name, lenF.Size)
	}
	if !abi.FitsUnsigned(addr, addrF.Size) {
		return nil, fmt.Errorf("sp: address %#x does not fit %s's %d-byte pointer", addr, c.ABI.Name, addrF.Size)
	}
	start := len(dst)
	dst = append(dst, make([]byte, l.Size)...)
	b := dst[start:]
	c.ABI.Endian.PutUint(b[lenF.Offset:], lenF.Size, n)
	c.ABI.Endian.PutUint(b[addrF.Offset:], addrF.Size, addr)
	return dst, nil
}

// maxCopydata is room for the fixed part of an rsp_copydata on every ABI
// sprig has (16 bytes on LP64).
const maxCopydata = 16

// ParseCopydata decodes an rsp_copydata. With data (COPYOUT) the body must
// hold exactly len data bytes after the fixed part; without, the body must
// be exactly the fixed part.
func (c *Codec) ParseCopydata(body []byte, withData bool) (n, addr uint64, data []byte, err error) {
	l := c.l.Copydata
	if len(body) < l.Size || (!withData && len(body) != l.Size) {
		return 0, 0, nil, bodyErr("rsp_copydata", len(body), l.Size, c.ABI)
	}
	lenF, addrF := &l.Fields[0], &l.Fields[1]
	n = c.ABI.Endian.Uint(body[lenF.Offset:], lenF.Size)
	addr = c.ABI.Endian.Uint(body[addrF.Offset:], addrF.Size)
	if withData {
		data = body[l.Size:]
		if uint64(len(data)) != n {
			return 0, 0, nil, fmt.Errorf("%w: COPYOUT announces %d bytes and carries %d", ErrBodySize, n, len(data))
		}
	}
	return n, addr, data, nil
}

// Int encodes a C int (the handshake reply).
func (c *Codec) Int(v int32) []byte {
	return c.o().AppendUint32(nil, uint32(v))
}

// ParseInt decodes a C int body.
func (c *Codec) ParseInt(body []byte) (int32, error) {
	if len(body) != c.ABI.Int.Size {
		return 0, bodyErr("int", len(body), c.ABI.Int.Size, c.ABI)
	}
	return int32(c.o().Uint32(body)), nil
}

// Size encodes a C size_t (the ANONMMAP request).
func (c *Codec) Size(v uint64) ([]byte, error) { return c.word(v, c.ABI.SizeT.Size, "size_t") }

// ParseSize decodes a C size_t body.
func (c *Codec) ParseSize(body []byte) (uint64, error) {
	return c.parseWord(body, c.ABI.SizeT.Size, "size_t")
}

// Pointer encodes a C void * (the ANONMMAP reply).
func (c *Codec) Pointer(v uint64) ([]byte, error) { return c.word(v, c.ABI.Pointer.Size, "pointer") }

// ParsePointer decodes a C void * body.
func (c *Codec) ParsePointer(body []byte) (uint64, error) {
	return c.parseWord(body, c.ABI.Pointer.Size, "pointer")
}

func (c *Codec) word(v uint64, size int, what string) ([]byte, error) {
	if !abi.FitsUnsigned(v, size) {
		return nil, fmt.Errorf("sp: %#x does not fit %s's %d-byte %s", v, c.ABI.Name, size, what)
	}
	b := make([]byte, size)
	c.ABI.Endian.PutUint(b, size, v)
	return b, nil
}

func (c *Codec) parseWord(body []byte, size int, what string) (uint64, error) {
	if len(body) != size {
		return 0, bodyErr(what, len(body), size, c.ABI)
	}
	return c.ABI.Endian.Uint(body, size), nil
}

// HandshakeFork encodes a handshake_fork.
func (c *Codec) HandshakeFork(cookie Cookie, cancel bool) []byte {
	b := make([]byte, c.l.HandshakeFork.Size)
	copy(b, cookie[:])
	var v uint32
	if cancel {
		v = 1
	}
	c.o().PutUint32(b[c.l.HandshakeFork.Fields[1].Offset:], v)
	return b
}

// ParseHandshakeFork decodes a handshake_fork, which must be exactly its
// size (20 bytes everywhere).
func (c *Codec) ParseHandshakeFork(body []byte) (Cookie, bool, error) {
	var ck Cookie
	if len(body) != c.l.HandshakeFork.Size {
		return ck, false, bodyErr("handshake_fork", len(body), c.l.HandshakeFork.Size, c.ABI)
	}
	copy(ck[:], body)
	cancel := c.o().Uint32(body[c.l.HandshakeFork.Fields[1].Offset:]) != 0
	return ck, cancel, nil
}
