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

// Scalars returns every scalar type probed on its own: package abi's base
// types, NetBSD's typedefs and every scalar that appears in a probed struct
// or syscall, once per C name, in a fixed order.
func Scalars() []*abi.Type {
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
	for _, t := range basicScalars {
		add(t)
	}
	for _, t := range Structs() {
		walkScalars(t, add)
	}
	for _, sc := range Syscalls() {
		for _, f := range sc.Args {
			add(f.Type)
		}
	}
	return out
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

// Structs returns every top-level struct or union probed: NetBSD's
// (netbsd.StructTypes), the traps and the mixed random ones.
func Structs() []*abi.Type {
	out := slices.Clone(netbsd.StructTypes())
	out = append(out, Traps...)
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

// Probes returns every number, in the order they appear in layouts.c and
// in the golden files. Names are unique.
func Probes() []Probe {
	var ps []Probe
	seen := map[string]bool{}
	add := func(name, expr string) {
		if seen[name] {
			panic("golden: duplicate probe " + name)
		}
		seen[name] = true
		ps = append(ps, Probe{Name: name, Expr: expr})
	}
	// Any descriptor serves to walk the shapes: leaf paths do not depend
	// on the ABI.
	shape := abi.MustLookup("amd64")

	for i, t := range Scalars() {
		c := cScalar(t)
		add(SizeOf(t.Name()), "sizeof("+c+")")
		add(AlignOf(t.Name()), fmt.Sprintf("__builtin_offsetof(struct %s, x)", alignHelper(i)))
		if t.Base() != abi.BasePointer {
			add(SignedOf(t.Name()), fmt.Sprintf("((%s)-1 < (%s)0)", c, c))
		}
	}
	for _, n := range GNUAlignTypes {
		add(GNUAlignOf(n), "__alignof__("+n+")")
	}
	for i, t := range Structs() {
		n := t.Name()
		add(SizeOf(n), "sizeof("+n+")")
		add(AlignOf(n), fmt.Sprintf("__builtin_offsetof(struct %s, x)", alignHelper(1000+i)))
		for _, lf := range abi.LayoutOf(shape, t).Leaves() {
			add(OffsetOf(n, lf.Path), fmt.Sprintf("__builtin_offsetof(%s, %s)", n, lf.Path))
			if !lf.Type.IsFlexible() { // sizeof of a flexible array is an error
				add(MemberSize(n, lf.Path), fmt.Sprintf("sizeof(((%s *)0)->%s)", n, lf.Path))
			}
		}
	}
	for _, sc := range Syscalls() {
		n := ArgsName(sc)
		add(SizeOf(n), "sizeof("+n+")")
		for _, f := range sc.Args {
			add(OffsetOf(n, f.Name), fmt.Sprintf("__builtin_offsetof(%s, %s)", n, f.Name))
			add(MemberSize(n, f.Name), fmt.Sprintf("sizeof(((%s *)0)->%s)", n, f.Name))
			add(DatumOf(n, f.Name), fmt.Sprintf("__builtin_offsetof(%s, %s.SPRIG_DATUM)", n, f.Name))
			add(DatumSize(n, f.Name), fmt.Sprintf("sizeof(((%s *)0)->%s.SPRIG_DATUM)", n, f.Name))
		}
	}
	return ps
}

func alignHelper(i int) string { return fmt.Sprintf("sprig_align_%d", i) }
