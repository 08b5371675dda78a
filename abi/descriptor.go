package abi

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strings"
)

// Scalar is the size and the in-struct alignment of one C scalar type, in
// bytes. The alignment is the one a compiler uses for a member inside a
// struct, which is not always what __alignof__ reports (i386 long long:
// __alignof__ says 8, a struct member gets 4).
type Scalar struct {
	Size  int `json:"size"`
	Align int `json:"align"`
}

// Descriptor is one C ABI as plain data: what a C compiler for that machine
// decides about the shape of data. It holds no behaviour of its own beyond
// validation and derived helpers, so a JSON file can describe a new machine
// and be used everywhere a built-in one is.
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

	// CharSigned tells whether plain char is signed.
	CharSigned bool `json:"char_signed"`
	// RegisterTSigned tells whether NetBSD's register_t is a signed type.
	RegisterTSigned bool `json:"register_t_signed"`

	// Compiler names the Debian cross compiler (and flags) whose output
	// the built-in descriptor is checked against; empty for user
	// descriptors and ABIs with no such compiler.
	Compiler []string `json:"compiler,omitempty"`
	// Note is a one-line human description.
	Note string `json:"note,omitempty"`
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
	}
	return Scalar{}
}

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
		s := *f.s
		switch {
		case s.Size == 0 && s.Align == 0:
			return &FieldError{ABI: d.Name, Field: f.name, Problem: "is missing (size and align are required)"}
		case s.Size <= 0:
			return &FieldError{ABI: d.Name, Field: f.name + ".size", Problem: fmt.Sprintf("is %d; want a positive size", s.Size)}
		case s.Align <= 0 || bits.OnesCount(uint(s.Align)) != 1:
			return &FieldError{ABI: d.Name, Field: f.name + ".align", Problem: fmt.Sprintf("is %d; want a power of two", s.Align)}
		case s.Size < s.Align:
			return &FieldError{ABI: d.Name, Field: f.name + ".size", Problem: fmt.Sprintf("is %d, smaller than its alignment %d", s.Size, s.Align)}
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
	return nil
}

// FieldError reports a descriptor field that is missing or wrong.
type FieldError struct {
	ABI     string
	Field   string
	Problem string
}

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
