package abi

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

// Scalar is the size and the in-struct alignment of one C scalar type, in
// bytes. The alignment is the one a compiler uses for a member inside a
// struct, which is not always what __alignof__ reports (i386 long long:
// __alignof__ says 8, a struct member gets 4).
type Scalar struct {
	Size  int `json:"size"`  // sizeof, in bytes
	Align int `json:"align"` // alignment as a struct member, in bytes
}

// Descriptor is one C ABI as plain data: what a C compiler for that machine
// decides about the shape of data. It holds no behaviour of its own beyond
// validation and derived helpers, so a JSON file can describe a new machine
// and be used everywhere a built-in one is (docs/abi-json.md documents the
// format).
//
// Descriptors are values, not shared state: Lookup, All and ByMachine hand
// out a fresh copy on every call, Register keeps its own copy, and a Layout
// holds the copy it was made with. Changing a descriptor you hold changes
// nothing anywhere else; caches of layouts key on the content (LayoutKey),
// never on the pointer.
type Descriptor struct {
	// Name is the canonical name used in sprig's CLI and reports.
	Name string `json:"name"`
	// Aliases are other names the ABI goes by (GOARCH, GNU triple, NetBSD
	// MACHINE_ARCH).
	Aliases []string `json:"aliases,omitempty"`
	// Machine is the NetBSD MACHINE word a sysproxy server puts in its
	// banner (evbarm64, evbmips, ...). Several ABIs share one word.
	Machine string `json:"machine"`
	// MachineArch is NetBSD's MACHINE_ARCH for this ABI (aarch64, mipseb).
	MachineArch string `json:"machine_arch"`
	// Endian is the byte order of every integer.
	Endian Endian `json:"endian"`

	// The base types' sizes and in-struct alignments.
	Char      Scalar `json:"char"`
	Short     Scalar `json:"short"`
	Int       Scalar `json:"int"`
	Long      Scalar `json:"long"`
	LongLong  Scalar `json:"long_long"`
	Pointer   Scalar `json:"pointer"`
	SizeT     Scalar `json:"size_t"`
	RegisterT Scalar `json:"register_t"`
	Float     Scalar `json:"float"`
	Double    Scalar `json:"double"`

	// Bool is _Bool. Optional: the zero value (absent from JSON) means
	// size 1, align 1, which is what every supported compiler does.
	Bool Scalar `json:"bool,omitzero"`
	// LongDouble is long double. Optional: the zero value (absent from
	// JSON) means the descriptor does not describe it, and laying out a
	// type that uses it fails with ErrNotOnABI.
	LongDouble Scalar `json:"long_double,omitzero"`
	// Int128 is GCC's __int128. Optional: the zero value (absent from
	// JSON) means the ABI has none (GCC offers it on 64-bit targets
	// only), and laying out a type that uses it fails with ErrNotOnABI.
	Int128 Scalar `json:"int128,omitzero"`

	// CharSigned tells whether plain char is signed.
	CharSigned bool `json:"char_signed"`
	// RegisterTSigned tells whether NetBSD's register_t is a signed type.
	RegisterTSigned bool `json:"register_t_signed"`
	// UnnamedBitFieldsAlign tells whether unnamed bit-fields (zero-width
	// ones included) raise the alignment of the struct that holds them
	// to their type's, as on ARM's AAPCS. Optional: false (GCC's
	// generic rule: only named bit-fields do).
	UnnamedBitFieldsAlign bool `json:"unnamed_bitfields_align,omitzero"`

	// Compiler names the Debian cross compiler (and flags) whose output
	// the built-in descriptor is checked against; empty for user
	// descriptors and ABIs with no such compiler.
	Compiler []string `json:"compiler,omitempty"`
	// Note is a one-line human description.
	Note string `json:"note,omitempty"`
}

// boolDefault is what a zero Descriptor.Bool stands for.
var boolDefault = Scalar{Size: 1, Align: 1}

// Clone returns a deep copy of d, which the caller may change freely.
func (d *Descriptor) Clone() *Descriptor {
	c := *d
	c.Aliases = append([]string(nil), d.Aliases...)
	c.Compiler = append([]string(nil), d.Compiler...)
	if d.Aliases == nil {
		c.Aliases = nil
	}
	if d.Compiler == nil {
		c.Compiler = nil
	}
	return &c
}

// Equal reports whether d and e describe the same ABI in every field,
// names and notes included.
func (d *Descriptor) Equal(e *Descriptor) bool {
	return d.layoutKey() == e.layoutKey() && d.Name == e.Name && d.Machine == e.Machine &&
		d.MachineArch == e.MachineArch && d.Note == e.Note &&
		slices.Equal(d.Aliases, e.Aliases) && slices.Equal(d.Compiler, e.Compiler)
}

// LayoutKey is a comparable value holding everything a layout depends on:
// byte order, the scalar table, signedness and bit-field rules, but not
// names or notes. Two descriptors with equal keys lay every type out the
// same way; caches of layouts key on it, never on a pointer.
type LayoutKey struct {
	endian                                      Endian
	char, short, int_, long, longLong, pointer  Scalar
	sizeT, registerT, float, double             Scalar
	bool_, longDouble, int128                   Scalar
	charSigned, registerTSigned, unnamedBFAlign bool
}

// LayoutKey returns d's layout key.
func (d *Descriptor) LayoutKey() LayoutKey { return d.layoutKey() }

func (d *Descriptor) layoutKey() LayoutKey {
	return LayoutKey{
		endian: d.Endian,
		char:   d.Char, short: d.Short, int_: d.Int, long: d.Long, longLong: d.LongLong,
		pointer: d.Pointer, sizeT: d.SizeT, registerT: d.RegisterT, float: d.Float, double: d.Double,
		bool_: d.Scalar(BaseBool), longDouble: d.LongDouble, int128: d.Int128,
		charSigned: d.CharSigned, registerTSigned: d.RegisterTSigned, unnamedBFAlign: d.UnnamedBitFieldsAlign,
	}
}

// ByteOrder returns the descriptor's byte order as an encoding/binary
// ByteOrder that can also append.
func (d *Descriptor) ByteOrder() ByteOrder { return d.Endian.ByteOrder() }

// BigEndian reports whether integers are stored most significant byte first.
func (d *Descriptor) BigEndian() bool { return d.Endian == BigEndian }

// LP64 reports whether pointers are 8 bytes wide.
func (d *Descriptor) LP64() bool { return d.Pointer.Size == 8 }

// String returns the canonical name.
func (d *Descriptor) String() string { return d.Name }

// Names returns the canonical name followed by the aliases.
func (d *Descriptor) Names() []string {
	return append([]string{d.Name}, d.Aliases...)
}

// Scalar returns the size and in-struct alignment of a base C type.
func (d *Descriptor) Scalar(b Base) Scalar {
	switch b {
	case BaseChar:
		return d.Char
	case BaseShort:
		return d.Short
	case BaseInt:
		return d.Int
	case BaseLong:
		return d.Long
	case BaseLongLong:
		return d.LongLong
	case BasePointer:
		return d.Pointer
	case BaseSizeT:
		return d.SizeT
	case BaseRegisterT:
		return d.RegisterT
	case BaseFloat:
		return d.Float
	case BaseDouble:
		return d.Double
	case BaseBool:
		if d.Bool == (Scalar{}) {
			return boolDefault
		}
		return d.Bool
	case BaseLongDouble:
		return d.LongDouble
	case BaseInt128:
		return d.Int128
	}
	return Scalar{}
}

// Has reports whether the descriptor describes base type b: false for
// long double and __int128 when their fields are absent.
func (d *Descriptor) Has(b Base) bool { return d.Scalar(b) != (Scalar{}) }

// scalarFields lists the descriptor's scalar members with their JSON
// names, so validation and printing walk one table.
func (d *Descriptor) scalarFields() []struct {
	name string
	s    *Scalar
} {
	return []struct {
		name string
		s    *Scalar
	}{
		{"char", &d.Char}, {"short", &d.Short}, {"int", &d.Int}, {"long", &d.Long},
		{"long_long", &d.LongLong}, {"pointer", &d.Pointer}, {"size_t", &d.SizeT},
		{"register_t", &d.RegisterT}, {"float", &d.Float}, {"double", &d.Double},
	}
}

// Validate checks that the descriptor is usable and returns an error naming
// the first field at fault.
func (d *Descriptor) Validate() error {
	if strings.TrimSpace(d.Name) == "" {
		return &FieldError{ABI: d.Name, Field: "name", Problem: "is missing"}
	}
	if d.Machine == "" {
		return &FieldError{ABI: d.Name, Field: "machine", Problem: "is missing"}
	}
	if d.Endian != LittleEndian && d.Endian != BigEndian {
		return &FieldError{ABI: d.Name, Field: "endian", Problem: fmt.Sprintf("is %q; want \"little\" or \"big\"", string(d.Endian))}
	}
	for _, f := range d.scalarFields() {
		if err := checkScalar(d.Name, f.name, *f.s); err != nil {
			return err
		}
	}
	intSizes := map[string]int{"char": 1, "short": 2, "int": 4, "long_long": 8}
	for _, f := range d.scalarFields() {
		if want, ok := intSizes[f.name]; ok && f.s.Size != want {
			return &FieldError{ABI: d.Name, Field: f.name + ".size", Problem: fmt.Sprintf("is %d; sprig supports only %d", f.s.Size, want)}
		}
	}
	for _, f := range []struct {
		name string
		s    Scalar
	}{{"long", d.Long}, {"pointer", d.Pointer}, {"size_t", d.SizeT}, {"register_t", d.RegisterT}} {
		if f.s.Size != 4 && f.s.Size != 8 {
			return &FieldError{ABI: d.Name, Field: f.name + ".size", Problem: fmt.Sprintf("is %d; want 4 or 8", f.s.Size)}
		}
	}
	if d.Float.Size != 4 {
		return &FieldError{ABI: d.Name, Field: "float.size", Problem: fmt.Sprintf("is %d; want 4", d.Float.Size)}
	}
	if d.Double.Size != 8 {
		return &FieldError{ABI: d.Name, Field: "double.size", Problem: fmt.Sprintf("is %d; want 8", d.Double.Size)}
	}
	for _, f := range []struct {
		name  string
		s     Scalar
		sizes []int
	}{{"bool", d.Bool, []int{1, 2, 4, 8}}, {"long_double", d.LongDouble, []int{8, 10, 12, 16}}, {"int128", d.Int128, []int{16}}} {
		if f.s == (Scalar{}) {
			continue // optional; absent
		}
		if err := checkScalar(d.Name, f.name, f.s); err != nil {
			return err
		}
		if !slices.Contains(f.sizes, f.s.Size) {
			return &FieldError{ABI: d.Name, Field: f.name + ".size", Problem: fmt.Sprintf("is %d; want one of %v", f.s.Size, f.sizes)}
		}
	}
	return nil
}

// checkScalar validates one size and alignment pair.
func checkScalar(abiName, field string, s Scalar) error {
	switch {
	case s.Size == 0 && s.Align == 0:
		return &FieldError{ABI: abiName, Field: field, Problem: "is missing (size and align are required)"}
	case s.Size <= 0:
		return &FieldError{ABI: abiName, Field: field + ".size", Problem: fmt.Sprintf("is %d; want a positive size", s.Size)}
	case !powerOfTwo(s.Align):
		return &FieldError{ABI: abiName, Field: field + ".align", Problem: fmt.Sprintf("is %d; want a power of two", s.Align)}
	case s.Size < s.Align:
		return &FieldError{ABI: abiName, Field: field + ".size", Problem: fmt.Sprintf("is %d, smaller than its alignment %d", s.Size, s.Align)}
	}
	return nil
}

// FieldError reports a descriptor field that is missing or wrong.
type FieldError struct {
	ABI     string // the descriptor's name, "" when it has none
	Field   string // the JSON key path: "double.align"
	Problem string // what is wrong, as a predicate: "is missing"
}

// Error says which descriptor, which field and what is wrong.
func (e *FieldError) Error() string {
	name := e.ABI
	if name == "" {
		name = "(unnamed)"
	}
	return fmt.Sprintf("abi: descriptor %s: field %s %s", name, e.Field, e.Problem)
}

// Endian names a byte order in descriptors and JSON.
type Endian string

// The two byte orders sprig knows.
const (
	LittleEndian Endian = "little"
	BigEndian    Endian = "big"
)

// ByteOrder is what encoding/binary's LittleEndian and BigEndian both are.
type ByteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// ByteOrder returns the encoding/binary order for e (little-endian for any
// unknown value; Validate rejects those).
func (e Endian) ByteOrder() ByteOrder {
	if e == BigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}
