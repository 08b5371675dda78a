package abi

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
)

// PutUint stores the low size bytes of v at b[0:size] in order o.
//
// encoding/binary's two orders are coded directly (Endian.PutUint), not
// through o: a call through the interface would make every caller's b
// escape to the heap, so that no buffer on a caller's stack could be
// encoded into.
func PutUint(o ByteOrder, b []byte, size int, v uint64) {
	switch {
	case size == 1 || o == binary.LittleEndian:
		LittleEndian.PutUint(b, size, v)
	case o == binary.BigEndian:
		BigEndian.PutUint(b, size, v)
	default:
		checkSize(size)
		copy(b[:size], putOther(o, size, v))
	}
}

// putOther encodes v in an order other than encoding/binary's, into a
// scratch of its own (see PutUint).
func putOther(o ByteOrder, size int, v uint64) []byte {
	t := make([]byte, size)
	switch size {
	case 2:
		o.PutUint16(t, uint16(v))
	case 4:
		o.PutUint32(t, uint32(v))
	default:
		o.PutUint64(t, v)
	}
	return t
}

// Uint reads a size-byte unsigned integer from b in order o (coded
// directly for encoding/binary's orders, as in PutUint).
func Uint(o ByteOrder, b []byte, size int) uint64 {
	switch {
	case size == 1 || o == binary.LittleEndian:
		return LittleEndian.Uint(b, size)
	case o == binary.BigEndian:
		return BigEndian.Uint(b, size)
	}
	checkSize(size)
	t := append([]byte(nil), b[:size]...) // another order reads a copy (see PutUint)
	switch size {
	case 2:
		return uint64(o.Uint16(t))
	case 4:
		return uint64(o.Uint32(t))
	}
	return o.Uint64(t)
}

// PutUint stores the low size bytes of v at b[0:size] in e's order. It
// is PutUint with the order known by its name: comparing a ByteOrder
// with encoding/binary's costs a runtime call per comparison, which in
// Go compiled to wasm was a percent of a guest's syscall (issue 13).
// A big-endian value is a little-endian one with its bytes reversed.
func (e Endian) PutUint(b []byte, size int, v uint64) {
	checkSize(size)
	if e == BigEndian {
		v = bits.ReverseBytes64(v) >> (64 - 8*size)
	}
	le := binary.LittleEndian
	switch size {
	case 1:
		b[0] = byte(v)
	case 2:
		le.PutUint16(b, uint16(v))
	case 4:
		le.PutUint32(b, uint32(v))
	default:
		le.PutUint64(b, v)
	}
}

// Uint reads a size-byte unsigned integer from b in e's order (see
// Endian.PutUint). The word of an LP64 little-endian ABI is read inline.
func (e Endian) Uint(b []byte, size int) uint64 {
	if size == 8 && e == LittleEndian {
		return binary.LittleEndian.Uint64(b)
	}
	return e.uint(b, size)
}

func (e Endian) uint(b []byte, size int) uint64 {
	checkSize(size)
	le := binary.LittleEndian
	var v uint64
	switch size {
	case 1:
		return uint64(b[0])
	case 2:
		v = uint64(le.Uint16(b))
	case 4:
		v = uint64(le.Uint32(b))
	default:
		v = le.Uint64(b)
	}
	if e == BigEndian {
		v = bits.ReverseBytes64(v) >> (64 - 8*size)
	}
	return v
}

// checkSize panics unless size is 1, 2, 4 or 8. It is small enough to
// be inlined into every integer's encoding, where a call cost a tenth of
// decoding a syscall's reply in Go compiled to wasm.
func checkSize(size int) {
	if uint(size-1) > 7 || size&(size-1) != 0 {
		noSuchSize(size)
	}
}

//go:noinline
func noSuchSize(size int) { panic(fmt.Sprintf("abi: no %d-byte integers", size)) }

// SignExtend interprets the low size bytes of v as a two's complement
// integer.
func SignExtend(v uint64, size int) int64 {
	shift := uint(64 - 8*size)
	return int64(v<<shift) >> shift
}

// FitsUnsigned reports whether v, taken as a size-byte unsigned value,
// survives the store (no high bits lost).
func FitsUnsigned(v uint64, size int) bool {
	return size >= 8 || v>>(8*uint(size)) == 0
}

// FitsSigned reports whether v fits a size-byte two's complement integer.
func FitsSigned(v int64, size int) bool {
	if size >= 8 {
		return true
	}
	lim := int64(1) << (8*uint(size) - 1)
	return v >= -lim && v < lim
}

// Int reads the signed or unsigned integer (bit-field, enum or _Bool
// included) at path in b, sign-extending when the C type is signed on l's
// ABI.
func (l *Layout) Int(b []byte, path string) (int64, error) {
	m, err := l.scalarAt(b, path)
	if err != nil {
		return 0, err
	}
	signed := m.Type.Signed(l.ABI)
	if m.BitField {
		v := getBits(b, m.BitPos(), m.Bits, l.ABI.BigEndian())
		if signed {
			return signExtendBits(v, m.Bits), nil
		}
		return int64(v), nil
	}
	v := Uint(l.ABI.ByteOrder(), b[m.Offset:], m.Size)
	if signed {
		return SignExtend(v, m.Size), nil
	}
	return int64(v), nil
}

// Uint reads the integer at path in b as an unsigned bit pattern.
func (l *Layout) Uint(b []byte, path string) (uint64, error) {
	m, err := l.scalarAt(b, path)
	if err != nil {
		return 0, err
	}
	if m.BitField {
		return getBits(b, m.BitPos(), m.Bits, l.ABI.BigEndian()), nil
	}
	return Uint(l.ABI.ByteOrder(), b[m.Offset:], m.Size), nil
}

// PutInt stores v into the integer at path in b, failing when v does not
// fit the C type's width on l's ABI (a bit-field's width for a
// bit-field). Other bits of a bit-field's bytes are kept.
func (l *Layout) PutInt(b []byte, path string, v int64) error {
	m, err := l.scalarAt(b, path)
	if err != nil {
		return err
	}
	if m.BitField {
		if !fitsBits(v, m.Bits, m.Type.Signed(l.ABI)) {
			return &RangeError{Path: path, Type: m.Type, Size: m.Size, Value: fmt.Sprint(v), Bits: m.Bits}
		}
		putBitsExt(b, m.BitPos(), m.Bits, uint64(v), v < 0, l.ABI.BigEndian())
		return nil
	}
	if !fitsEither(v, m.Size) {
		return &RangeError{Path: path, Type: m.Type, Size: m.Size, Value: fmt.Sprint(v)}
	}
	PutUint(l.ABI.ByteOrder(), b[m.Offset:], m.Size, uint64(v))
	return nil
}

// PutUint stores v into the integer at path in b.
func (l *Layout) PutUint(b []byte, path string, v uint64) error {
	m, err := l.scalarAt(b, path)
	if err != nil {
		return err
	}
	if m.BitField {
		if m.Bits < 64 && v>>uint(m.Bits) != 0 {
			return &RangeError{Path: path, Type: m.Type, Size: m.Size, Value: fmt.Sprint(v), Bits: m.Bits}
		}
		putBits(b, m.BitPos(), m.Bits, v, l.ABI.BigEndian())
		return nil
	}
	if !FitsUnsigned(v, m.Size) {
		return &RangeError{Path: path, Type: m.Type, Size: m.Size, Value: fmt.Sprint(v)}
	}
	PutUint(l.ABI.ByteOrder(), b[m.Offset:], m.Size, v)
	return nil
}

// scalarAt finds the integer member at path and checks that b holds it.
func (l *Layout) scalarAt(b []byte, path string) (FieldLayout, error) {
	m, err := l.Member(path)
	if err != nil {
		return m, err
	}
	t := m.Type
	if t.kind != KindScalar || t.float || (t.base == BaseInt128 && !m.BitField) {
		what := t.kind.String()
		if t.kind == KindScalar {
			what = t.name
		}
		return m, fmt.Errorf("abi: %s.%s is a %s, not an integer of at most 64 bits", l.Type.name, path, what)
	}
	end := m.Offset + m.Size
	if m.BitField {
		end = (m.BitPos() + m.Bits + 7) / 8
	}
	if end > len(b) {
		return m, &ShortError{What: l.Type.name + "." + path, Need: end, Have: len(b)}
	}
	return m, nil
}

// fitsEither accepts any value whose bit pattern fits size bytes as a
// signed or an unsigned number, as a C conversion would without loss.
func fitsEither(v int64, size int) bool {
	return FitsSigned(v, size) || (v >= 0 && FitsUnsigned(uint64(v), size))
}

// RangeError reports a value too wide for the C type it is stored into:
// the error that exposes a 64-bit pointer squeezed into 32 bits.
type RangeError struct {
	Path  string // the member path or argument name stored into
	Type  *Type  // its C type
	Size  int    // its size on the ABI, in bytes
	Value string // the value that did not fit, as text
	// Bits is the width of a bit-field the value did not fit; 0 for
	// other members.
	Bits int
}

// Error names the member, the value and the type it did not fit.
func (e *RangeError) Error() string {
	if e.Bits > 0 {
		return fmt.Sprintf("abi: %s: value %s does not fit %s : %d (%d bits)", e.Path, e.Value, e.Type.name, e.Bits, e.Bits)
	}
	return fmt.Sprintf("abi: %s: value %s does not fit %s (%d bytes)", e.Path, e.Value, e.Type.name, e.Size)
}

// ShortError reports a buffer too short for what is read from or written
// to it.
type ShortError struct {
	What string // the type or member read or written
	Need int    // the bytes it needs
	Have int    // the bytes there were
}

// Error says what needed how many bytes and how many there were.
func (e *ShortError) Error() string {
	return fmt.Sprintf("abi: %s needs %d bytes, have %d", e.What, e.Need, e.Have)
}

func floatBits(v float64, size int) uint64 {
	if size == 4 {
		return uint64(math.Float32bits(float32(v)))
	}
	return math.Float64bits(v)
}

func bitsFloat(v uint64, size int) float64 {
	if size == 4 {
		return float64(math.Float32frombits(uint32(v)))
	}
	return math.Float64frombits(v)
}
