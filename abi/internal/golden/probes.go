// Package golden produces the compiler ground truth that package abi's
// tests check every layout against.
//
// It writes one C source (testdata/layouts.c) with no #include at all: its
// own per-machine typedefs, every struct sprig describes, NetBSD's syscall
// argument structs written with NetBSD's syscallarg() union, the trap
// structs and a set of seeded random structs. The file holds one
// `const unsigned long long` array of numbers (sizeof, in-struct alignment
// measured as offsetof(struct { char c; T x; }, x), offsetof of every leaf
// member, signedness) and a parallel NUL-separated table of their names.
// Each ABI's cross compiler builds it with -c -O0; the numbers are read
// back from the object file with debug/elf, honouring its class and byte
// order. Nothing compiled is ever run.
//
// The results are written as testdata/golden/<abi>.json.
package golden

import (
	"fmt"
	"slices"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

// Probe is one number the compiler is asked for.
type Probe struct {
	// Name is the number's key in golden files, e.g.
	// "offsetof(struct stat, st_atim.tv_nsec)".
	Name string
	// Expr is a C integer constant expression computing it.
	Expr string
	// Needs128 marks a probe of a type using __int128, compiled only
	// where the compiler has it.
	Needs128 bool
}

// BitProbe is one bit-field measured through a static object: Symbol is
// a const Struct whose member Path is initialised to -1 (all ones) and
// everything else to zero, so the object's bytes show which bits the
// field occupies.
type BitProbe struct {
	Symbol   string
	Struct   string
	Path     string
	Needs128 bool
}

// BitsSymbolPrefix starts the name of every bit-field object.
const BitsSymbolPrefix = "sprig_bits_"

// BitOffsetOf names the position of a bit-field's first bit, counted in
// the object's bit order (from the least significant bit of byte 0 on
// little-endian machines, from the most significant on big-endian ones).
func BitOffsetOf(t, path string) string { return "bitoffset(" + t + ", " + path + ")" }

// BitWidthOf names the number of bits a bit-field occupies.
func BitWidthOf(t, path string) string { return "bitwidth(" + t + ", " + path + ")" }

// Set is what one generated C file measures: scalar types on their own,
// structs and unions with every leaf member, and NetBSD syscall argument
// structs.
type Set struct {
	Name     string // the C file's name, for its header comment
	Comment  string // one line for the header comment
	Scalars  []*abi.Type
	Structs  []*abi.Type
	Syscalls []*netbsd.Syscall
}

// Names of the numbers. The test side builds the same names from the
// layout engine's answers, so both sides meet on these strings.

// SizeOf names sizeof(t).
func SizeOf(t string) string { return "sizeof(" + t + ")" }

// AlignOf names the alignment t gets as a struct member, measured as
// offsetof(struct { char c; t x; }, x).
func AlignOf(t string) string { return "alignof(" + t + ")" }

// GNUAlignOf names GCC's __alignof__(t), the preferred alignment. It is
// recorded only to show the i386 trap (8 for long long, while a struct
// member gets 4); the layout engine has no counterpart.
func GNUAlignOf(t string) string { return "gnu_alignof(" + t + ")" }

// SignedOf names ((t)-1 < (t)0): 1 when t is signed.
func SignedOf(t string) string { return "signed(" + t + ")" }

// OffsetOf names offsetof(t, path).
func OffsetOf(t, path string) string { return "offsetof(" + t + ", " + path + ")" }

// MemberSize names sizeof(((t *)0)->path).
func MemberSize(t, path string) string { return "membersize(" + t + ", " + path + ")" }

// DatumOf names the offset of a syscall argument's value (arg.le.datum on
// little-endian machines, arg.be.datum on big-endian ones) in args.
func DatumOf(args, arg string) string { return "datum(" + args + ", " + arg + ")" }

// DatumSize names the size of a syscall argument's value.
func DatumSize(args, arg string) string { return "datumsize(" + args + ", " + arg + ")" }

// ArgsName is the C name of a syscall's argument struct.
func ArgsName(sc *netbsd.Syscall) string { return "struct sys_" + sc.Name + "_args" }

// GNUAlignTypes are the types whose __alignof__ is recorded as well.
var GNUAlignTypes = []string{"long long", "double", "int64_t"}

// Traps are small structs that show where ABIs part ways.
var Traps = []*abi.Type{
	// 12 bytes on i386, 16 on ARM EABI, mips o32, powerpc and LP64.
	abi.Struct("trap_int_ll", abi.F("i", abi.Int), abi.F("ll", abi.LongLong)),
	abi.Struct("trap_int_double", abi.F("i", abi.Int), abi.F("d", abi.Double)),
	abi.Struct("trap_char_reg", abi.F("c", abi.Char), abi.F("r", abi.RegisterT)),
	abi.Struct("trap_short_ptr_char", abi.F("s", abi.Short), abi.F("p", abi.Pointer), abi.F("c", abi.Char)),
}

// basicScalars are the package abi scalar types; every Base appears.
var basicScalars = []*abi.Type{
	abi.Char, abi.SChar, abi.UChar, abi.Short, abi.UShort, abi.Int, abi.UInt,
	abi.Long, abi.ULong, abi.LongLong, abi.ULongLong, abi.Pointer, abi.SizeT,
	abi.SSizeT, abi.RegisterT, abi.Float, abi.Double,
	abi.Int8, abi.Uint8, abi.Int16, abi.Uint16, abi.Int32, abi.Uint32, abi.Int64, abi.Uint64,
}

// ScalarsOf returns every scalar type of structs and syscalls, after
// first, once per C name, in a fixed order.
func ScalarsOf(first []*abi.Type, structs []*abi.Type, syscalls []*netbsd.Syscall) []*abi.Type {
	var out []*abi.Type
	seen := map[string]*abi.Type{}
	add := func(t *abi.Type) {
		if t.Kind() != abi.KindScalar || t == abi.Pad {
			return
		}
		if old, ok := seen[t.Name()]; ok {
			if old.Base() != t.Base() {
				panic(fmt.Sprintf("golden: scalar %q has two base types", t.Name()))
			}
			return
		}
		seen[t.Name()] = t
		out = append(out, t)
	}
	for _, t := range first {
		add(t)
	}
	for _, t := range structs {
		walkScalars(t, add)
	}
	for _, sc := range syscalls {
		for _, f := range sc.Args {
			add(f.Type)
		}
	}
	return out
}

// Scalars returns every scalar type the golden files probe on its own:
// package abi's base types, the new vocabulary's scalars, NetBSD's
// typedefs and every scalar that appears in a probed struct or syscall.
func Scalars() []*abi.Type {
	return ScalarsOf(append(slices.Clone(basicScalars), VocabScalars...), Structs(), Syscalls())
}

func walkScalars(t *abi.Type, fn func(*abi.Type)) {
	switch t.Kind() {
	case abi.KindScalar:
		fn(t)
	case abi.KindArray:
		walkScalars(t.Elem(), fn)
	default:
		for _, f := range t.Fields() {
			walkScalars(f.Type, fn)
		}
	}
}

// Structs returns every top-level struct or union the golden files probe:
// NetBSD's (netbsd.StructTypes), the traps, the vocabulary ones and the
// mixed random ones.
func Structs() []*abi.Type {
	out := slices.Clone(netbsd.StructTypes())
	out = append(out, Traps...)
	out = append(out, Vocab()...)
	return append(out, MixedTypes()...)
}

// Syscalls returns the syscalls that have an argument struct.
func Syscalls() []*netbsd.Syscall {
	var out []*netbsd.Syscall
	for _, sc := range netbsd.Syscalls() {
		if len(sc.Args) > 0 {
			out = append(out, sc)
		}
	}
	return out
}

// Golden is the set behind testdata/layouts.c and the golden files.
func Golden() *Set {
	return &Set{
		Name:     SourceName,
		Comment:  fmt.Sprintf("Random structs: seed %#x, %d structs.", Seed, MixedCount),
		Scalars:  Scalars(),
		Structs:  Structs(),
		Syscalls: Syscalls(),
	}
}

// CSource returns the complete testdata/layouts.c.
func CSource() []byte { return Golden().Source() }

// Probes returns every number of the golden files, in order.
func Probes() []Probe { return Golden().Probes() }

// shape is any descriptor with every optional base type: leaf paths do
// not depend on the ABI, only on the type.
var shape = func() *abi.Descriptor {
	d := abi.MustLookup("amd64")
	return d
}()

// Probes returns every number of the set that is read from the values
// array, in the order they appear in the C file. Names are unique.
func (s *Set) Probes() []Probe {
	var ps []Probe
	seen := map[string]bool{}
	add := func(name, expr string, n128 bool) {
		if seen[name] {
			panic("golden: duplicate probe " + name)
		}
		seen[name] = true
		ps = append(ps, Probe{Name: name, Expr: expr, Needs128: n128})
	}
	for i, t := range s.Scalars {
		c, n128 := cScalar(t), needs128(t)
		add(SizeOf(t.Name()), "sizeof("+c+")", n128)
		add(AlignOf(t.Name()), fmt.Sprintf("__builtin_offsetof(struct %s, x)", alignHelper(i)), n128)
		if t.Base() != abi.BasePointer && !t.Complex() {
			add(SignedOf(t.Name()), fmt.Sprintf("((%s)-1 < (%s)0)", c, c), n128)
		}
	}
	if len(s.Syscalls) > 0 {
		for _, n := range GNUAlignTypes {
			add(GNUAlignOf(n), "__alignof__("+n+")", false)
		}
	}
	for i, t := range s.Structs {
		n, n128 := t.Name(), needs128(t)
		add(SizeOf(n), "sizeof("+n+")", n128)
		add(AlignOf(n), fmt.Sprintf("__builtin_offsetof(struct %s, x)", alignHelper(1000+i)), n128)
		for _, lf := range abi.LayoutOf(shape, t).Leaves() {
			if lf.BitField() {
				continue // offsetof and sizeof refuse bit-fields: see BitProbes
			}
			add(OffsetOf(n, lf.Path), fmt.Sprintf("__builtin_offsetof(%s, %s)", n, lf.Path), n128)
			if !lf.Type.IsFlexible() { // sizeof of a flexible array is an error
				add(MemberSize(n, lf.Path), fmt.Sprintf("sizeof(((%s *)0)->%s)", n, lf.Path), n128)
			}
		}
	}
	for _, sc := range s.Syscalls {
		n := ArgsName(sc)
		add(SizeOf(n), "sizeof("+n+")", false)
		for _, f := range sc.Args {
			add(OffsetOf(n, f.Name), fmt.Sprintf("__builtin_offsetof(%s, %s)", n, f.Name), false)
			add(MemberSize(n, f.Name), fmt.Sprintf("sizeof(((%s *)0)->%s)", n, f.Name), false)
			add(DatumOf(n, f.Name), fmt.Sprintf("__builtin_offsetof(%s, %s.SPRIG_DATUM)", n, f.Name), false)
			add(DatumSize(n, f.Name), fmt.Sprintf("sizeof(((%s *)0)->%s.SPRIG_DATUM)", n, f.Name), false)
		}
	}
	return ps
}

// BitProbes returns one object per named bit-field of every struct in
// the set, in order.
func (s *Set) BitProbes() []BitProbe {
	var out []BitProbe
	for _, t := range s.Structs {
		for _, lf := range abi.LayoutOf(shape, t).Leaves() {
			if lf.BitField() {
				out = append(out, BitProbe{Symbol: fmt.Sprintf("%s%d", BitsSymbolPrefix, len(out)), Struct: t.Name(), Path: lf.Path, Needs128: needs128(t)})
			}
		}
	}
	return out
}

// Available reports whether d's compiler builds the probe: everything
// but __int128 where d has none.
func Available(d *abi.Descriptor, needs128 bool) bool {
	return !needs128 || d.Has(abi.BaseInt128)
}

func alignHelper(i int) string { return fmt.Sprintf("sprig_align_%d", i) }
