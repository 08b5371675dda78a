package abi

import (
	"fmt"
	"math"
)

// PutUint stores the low size bytes of v at b[0:size] in order o.
func PutUint(o ByteOrder, b []byte, size int, v uint64) {
	switch size {
	case 1:
		b[0] = byte(v)
	case 2:
		o.PutUint16(b, uint16(v))
	case 4:
		o.PutUint32(b, uint32(v))
	case 8:
		o.PutUint64(b, v)
	default:
		panic(fmt.Sprintf("abi: no %d-byte integers", size))
	}
}

// Uint reads a size-byte unsigned integer from b in order o.
func Uint(o ByteOrder, b []byte, size int) uint64 {
	switch size {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(o.Uint16(b))
	case 4:
		return uint64(o.Uint32(b))
	case 8:
		return o.Uint64(b)
	}
	panic(fmt.Sprintf("abi: no %d-byte integers", size))
}

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

// Int reads the signed or unsigned integer at path in b, sign-extending
// when the C type is signed on l's ABI.
func (l *Layout) Int(b []byte, path string) (int64, error) {
	off, fl, err := l.scalarAt(b, path)
	if err != nil {
		return 0, err
	}
	v := Uint(l.ABI.ByteOrder(), b[off:], fl.Size)
	if fl.Type.Signed(l.ABI) {
		return SignExtend(v, fl.Size), nil
	}
	return int64(v), nil
}

// Uint reads the integer at path in b as an unsigned bit pattern.
func (l *Layout) Uint(b []byte, path string) (uint64, error) {
	off, fl, err := l.scalarAt(b, path)
	if err != nil {
		return 0, err
	}
	return Uint(l.ABI.ByteOrder(), b[off:], fl.Size), nil
}

// PutInt stores v into the integer at path in b, failing when v does not
// fit the C type's width on l's ABI.
func (l *Layout) PutInt(b []byte, path string, v int64) error {
	off, fl, err := l.scalarAt(b, path)
	if err != nil {
		return err
	}
	if !fitsEither(v, fl.Size) {
		return &RangeError{Path: path, Type: fl.Type, Size: fl.Size, Value: fmt.Sprint(v)}
	}
	PutUint(l.ABI.ByteOrder(), b[off:], fl.Size, uint64(v))
	return nil
}

// PutUint stores v into the integer at path in b.
func (l *Layout) PutUint(b []byte, path string, v uint64) error {
	off, fl, err := l.scalarAt(b, path)
	if err != nil {
		return err
	}
	if !FitsUnsigned(v, fl.Size) {
		return &RangeError{Path: path, Type: fl.Type, Size: fl.Size, Value: fmt.Sprint(v)}
	}
	PutUint(l.ABI.ByteOrder(), b[off:], fl.Size, v)
	return nil
}

func (l *Layout) scalarAt(b []byte, path string) (int, *Layout, error) {
	off, fl, err := l.Field(path)
	if err != nil {
		return 0, nil, err
	}
	if fl.Type.kind != KindScalar {
		return 0, nil, fmt.Errorf("abi: %s.%s is a %s, not a scalar", l.Type.name, path, fl.Type.kind)
	}
	if off+fl.Size > len(b) {
		return 0, nil, &ShortError{What: l.Type.name + "." + path, Need: off + fl.Size, Have: len(b)}
	}
	return off, fl, nil
}

// fitsEither accepts any value whose bit pattern fits size bytes as a
// signed or an unsigned number, as a C conversion would without loss.
func fitsEither(v int64, size int) bool {
	return FitsSigned(v, size) || (v >= 0 && FitsUnsigned(uint64(v), size))
}

// RangeError reports a value too wide for the C type it is stored into:
// the error that exposes a 64-bit pointer squeezed into 32 bits.
type RangeError struct {
	Path  string
	Type  *Type
	Size  int
	Value string
}

func (e *RangeError) Error() string {
	return fmt.Sprintf("abi: %s: value %s does not fit %s (%d bytes)", e.Path, e.Value, e.Type.name, e.Size)
}

// ShortError reports a buffer too short for what is read from or written
// to it.
type ShortError struct {
	What       string
	Need, Have int
}

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
