package abi

import (
	"fmt"
	"slices"
)

// Pad is the type of NetBSD's explicit "int PAD" syscall argument, which
// keeps a following 64-bit off_t 8-aligned on 32-bit ABIs. A Field whose
// type is Pad is laid out like an int but carries no value.
var Pad = Typedef("PAD", Int)

// Slot is where one syscall argument lives in a syscall argument struct.
type Slot struct {
	Name string // the argument's name in sys/syscallargs.h
	Type *Type  // its C type (Pad for a PAD argument)
	// Offset and Size are the slot's place in the struct: the slot is
	// max(sizeof(register_t), sizeof(arg)) bytes, aligned to the larger
	// of the two alignments.
	Offset, Size int
	// Datum is the place of the value itself inside the struct: at the
	// start of the slot on little-endian machines, at its end on
	// big-endian ones. The rest of the slot is padding.
	Datum Range
}

// Pad reports whether the slot is a PAD argument.
func (s Slot) Pad() bool { return s.Type == Pad }

// ArgsLayout is a NetBSD `struct sys_<name>_args` laid out for one ABI.
type ArgsLayout struct {
	ABI   *Descriptor // the descriptor it was laid out for
	Slots []Slot      // one per argument, PAD included, in order
	Size  int         // sizeof the argument struct
}

// SyscallArgs lays out a syscall argument struct whose arguments are the
// given scalar fields, by NetBSD's slot rule.
func SyscallArgs(d *Descriptor, args ...Field) *ArgsLayout {
	a := &ArgsLayout{ABI: d}
	reg := d.RegisterT
	off, align := 0, reg.Align
	for _, f := range args {
		if f.Type.kind != KindScalar {
			panic(fmt.Sprintf("abi: syscall argument %q is a %s; arguments are scalars", f.Name, f.Type.kind))
		}
		s := d.Scalar(f.Type.base)
		size := max(reg.Size, s.Size)
		al := max(reg.Align, s.Align)
		off = alignUp(off, al)
		datum := Range{Offset: off, Size: s.Size}
		if d.BigEndian() {
			datum.Offset = off + size - s.Size
		}
		a.Slots = append(a.Slots, Slot{Name: f.Name, Type: f.Type, Offset: off, Size: size, Datum: datum})
		off += size
		align = max(align, al)
	}
	a.Size = alignUp(off, align)
	return a
}

// Values returns the number of non-PAD arguments.
func (a *ArgsLayout) Values() int {
	n := 0
	for i := range a.Slots { // by index: a Slot is too large to copy for a look
		if !a.Slots[i].Pad() {
			n++
		}
	}
	return n
}

// Encode builds the argument struct from one value per non-PAD argument,
// in order; the value is the argument's bit pattern (a negative int as
// uint64(int64(v))). Every byte that is not a datum is set to fill, which
// lets a caller poison slot padding to catch peers that read it.
func (a *ArgsLayout) Encode(fill byte, vals ...uint64) ([]byte, error) {
	return a.AppendEncode(make([]byte, 0, a.Size), fill, vals...)
}

// AppendEncode is Encode that appends the struct to dst, so that a
// caller with a buffer at hand encodes without allocating.
func (a *ArgsLayout) AppendEncode(dst []byte, fill byte, vals ...uint64) ([]byte, error) {
	if len(vals) != a.Values() {
		return dst, fmt.Errorf("abi: syscall args: %d values for %d arguments", len(vals), a.Values())
	}
	start := len(dst)
	dst = slices.Grow(dst, a.Size)[:start+a.Size]
	b := dst[start:]
	for i := range b {
		b[i] = fill
	}
	e := a.ABI.Endian
	vi := 0
	for i := range a.Slots {
		s := &a.Slots[i]
		if s.Pad() {
			e.PutUint(b[s.Datum.Offset:], s.Datum.Size, 0)
			continue
		}
		v := vals[vi]
		vi++
		if !FitsUnsigned(v, s.Datum.Size) && !(s.Type.Signed(a.ABI) && FitsSigned(int64(v), s.Datum.Size)) {
			return dst[:start], &RangeError{Path: s.Name, Type: s.Type, Size: s.Datum.Size, Value: fmt.Sprintf("%#x", v)}
		}
		e.PutUint(b[s.Datum.Offset:], s.Datum.Size, v)
	}
	return dst, nil
}

// Decode reads one value per non-PAD argument from the datum bytes only,
// so garbage in slot padding never leaks into a value. Signed arguments
// are sign-extended. Bytes past the end of b read as zero, as a C server
// reading past a short body would see its zeroed buffer slack; missing
// says how many of the struct's bytes were absent.
func (a *ArgsLayout) Decode(b []byte) (vals []uint64, missing int) {
	return a.AppendDecode(make([]uint64, 0, len(a.Slots)), b)
}

// AppendDecode is Decode that appends the values to dst, so that a
// caller with room at hand decodes without allocating.
func (a *ArgsLayout) AppendDecode(dst []uint64, b []byte) (vals []uint64, missing int) {
	if len(b) < a.Size {
		missing = a.Size - len(b)
		full := make([]byte, a.Size)
		copy(full, b)
		b = full
	}
	e := a.ABI.Endian
	for i := range a.Slots {
		s := &a.Slots[i]
		if s.Pad() {
			continue
		}
		v := e.Uint(b[s.Datum.Offset:], s.Datum.Size)
		if s.Type.Signed(a.ABI) {
			v = uint64(SignExtend(v, s.Datum.Size))
		}
		dst = append(dst, v)
	}
	return dst, missing
}
