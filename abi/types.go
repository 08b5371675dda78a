package abi

import (
	"errors"
	"fmt"
	"math/bits"
	"strings"
)

// Base is a C scalar type whose size and alignment vary between ABIs. Every
// scalar Type is one of these, possibly renamed by a typedef; complex types
// are pairs of a floating Base.
type Base uint8

// The base types a Descriptor sizes.
const (
	BaseChar Base = iota + 1
	BaseShort
	BaseInt
	BaseLong
	BaseLongLong
	BasePointer
	BaseSizeT
	BaseRegisterT
	BaseFloat
	BaseDouble
	// BaseBool is C's _Bool.
	BaseBool
	// BaseLongDouble is long double; not every descriptor describes it.
	BaseLongDouble
	// BaseInt128 is GCC's __int128, which only some ABIs have.
	BaseInt128
)

var baseNames = [...]string{
	BaseChar: "char", BaseShort: "short", BaseInt: "int", BaseLong: "long",
	BaseLongLong: "long long", BasePointer: "pointer", BaseSizeT: "size_t",
	BaseRegisterT: "register_t", BaseFloat: "float", BaseDouble: "double",
	BaseBool: "_Bool", BaseLongDouble: "long double", BaseInt128: "__int128",
}

// String returns the base type's C spelling ("long long", "_Bool").
func (b Base) String() string {
	if int(b) < len(baseNames) && baseNames[b] != "" {
		return baseNames[b]
	}
	return fmt.Sprintf("Base(%d)", uint8(b))
}

// Kind says what sort of C type a Type is.
type Kind uint8

// The kinds of C type the layout engine handles. Enums, _Bool, complex
// types and typedefs of scalars are all KindScalar.
const (
	KindScalar Kind = iota + 1
	KindArray
	KindStruct
	KindUnion
)

// String returns the kind's name ("struct").
func (k Kind) String() string {
	switch k {
	case KindScalar:
		return "scalar"
	case KindArray:
		return "array"
	case KindStruct:
		return "struct"
	case KindUnion:
		return "union"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// signedness of a scalar: fixed, or taken from the descriptor.
type signedness uint8

const (
	unsignedType signedness = iota
	signedType
	charSigned      // plain char: the descriptor decides
	registerTSigned // register_t: the descriptor decides
)

// Type describes a C type once, independent of any ABI. Types are
// immutable; build them with the constructors and variables in this
// package (or parse them from C with ParseC), then lay them out for a
// Descriptor with NewLayout or LayoutOf.
type Type struct {
	kind    Kind
	name    string // C spelling: "int", "uint64_t", "dev_t", "struct stat"
	base    Base
	sign    signedness
	float   bool
	complex bool // a _Complex pair of the float base
	elem    *Type
	n       int // array length; -1 for a flexible array member
	fields  []Field
	enums   []Enumerator
	packed  bool // __attribute__((packed)) on a struct or union
	align   int  // __attribute__((aligned(N))) on a struct or union: at least N
	exact   int  // __attribute__((aligned(N))) on a typedef: exactly N
	alias   *Type
}

// Field is one member of a struct or union, as declared.
//
// An anonymous struct or union member (C11) has an empty Name and an
// aggregate Type; its members are reached as if they were the enclosing
// aggregate's own. An unnamed bit-field (padding, or `int : 0`) has an
// empty Name and BitField set.
type Field struct {
	Name string // the member's name; "" for anonymous and unnamed ones
	Type *Type  // its declared type
	// BitField marks a bit-field member of Bits bits. A zero-width one
	// (`int : 0`) must be unnamed; it aligns the next member to its type.
	BitField bool
	Bits     int // the width of a bit-field, in bits
	// Align is __attribute__((aligned(N))) or _Alignas(N) on the member:
	// it is placed at least N-aligned (exactly N-aligned when packed).
	// Zero means no such attribute.
	Align int
	// Packed is __attribute__((packed)) on the member: alignment 1
	// unless Align says otherwise.
	Packed bool
}

// F is shorthand for an ordinary Field.
func F(name string, t *Type) Field { return Field{Name: name, Type: t} }

// Bits is shorthand for a bit-field member of width bits ("" for an
// unnamed one).
func Bits(name string, t *Type, width int) Field {
	return Field{Name: name, Type: t, BitField: true, Bits: width}
}

// Enumerator is one named constant of an enum.
type Enumerator struct {
	Name  string // the constant's C name
	Value int64  // its value
}

// Attrs are the GNU attributes a struct, union or typedef may carry.
type Attrs struct {
	// Packed is __attribute__((packed)): every member gets alignment 1
	// (unless it has its own aligned attribute), bit-fields are packed
	// without regard to their type's boundaries. Aggregates only.
	Packed bool
	// Align is __attribute__((aligned(N))): on a struct or union it
	// raises the alignment to at least N; on a typedef it sets the
	// alignment to exactly N (GCC lets a typedef lower it too). Zero
	// means none.
	Align int
}

// ErrBadType is wrapped by every error the type constructors return.
var ErrBadType = errors.New("bad type description")

func typeErr(format string, a ...any) error {
	return fmt.Errorf("abi: %s: %w", fmt.Sprintf(format, a...), ErrBadType)
}

// Must returns v, panicking when err is not nil. It turns the
// error-returning constructors into expressions for descriptions fixed at
// compile time: abi.Must(abi.NewStruct(...)).
func Must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func scalar(name string, b Base, s signedness) *Type {
	return &Type{kind: KindScalar, name: name, base: b, sign: s}
}

func floating(name string, b Base, complex bool) *Type {
	return &Type{kind: KindScalar, name: name, base: b, sign: signedType, float: true, complex: complex}
}

// The C scalar types. Fixed-width integers are laid out as the base type
// of the same width (int64_t as long long), which is what every supported
// ABI does inside structs. Scalars lists them all; ScalarNamed finds one
// by any C spelling.
var (
	Char      = scalar("char", BaseChar, charSigned)
	SChar     = scalar("signed char", BaseChar, signedType)
	UChar     = scalar("unsigned char", BaseChar, unsignedType)
	Short     = scalar("short", BaseShort, signedType)
	UShort    = scalar("unsigned short", BaseShort, unsignedType)
	Int       = scalar("int", BaseInt, signedType)
	UInt      = scalar("unsigned int", BaseInt, unsignedType)
	Long      = scalar("long", BaseLong, signedType)
	ULong     = scalar("unsigned long", BaseLong, unsignedType)
	LongLong  = scalar("long long", BaseLongLong, signedType)
	ULongLong = scalar("unsigned long long", BaseLongLong, unsignedType)
	Pointer   = scalar("void *", BasePointer, unsignedType)
	SizeT     = scalar("size_t", BaseSizeT, unsignedType)
	SSizeT    = scalar("ssize_t", BaseSizeT, signedType)
	RegisterT = scalar("register_t", BaseRegisterT, registerTSigned)
	Float     = floating("float", BaseFloat, false)
	Double    = floating("double", BaseDouble, false)

	// Bool is _Bool; it holds 0 or 1.
	Bool = scalar("_Bool", BaseBool, unsignedType)
	// LongDouble is long double. Its size and format differ between
	// ABIs (x87 extended, IEEE quad, IBM double-double, plain double);
	// Encode and Decode take its bytes only, from a Go byte array.
	LongDouble = floating("long double", BaseLongDouble, false)
	// Int128 and UInt128 are GCC's __int128 and unsigned __int128,
	// present only on ABIs whose descriptor has int128.
	Int128  = scalar("__int128", BaseInt128, signedType)
	UInt128 = scalar("unsigned __int128", BaseInt128, unsignedType)
	// The complex types: a real and an imaginary part, aligned as one
	// part.
	FloatComplex      = floating("float _Complex", BaseFloat, true)
	DoubleComplex     = floating("double _Complex", BaseDouble, true)
	LongDoubleComplex = floating("long double _Complex", BaseLongDouble, true)

	Int8   = scalar("int8_t", BaseChar, signedType)
	Uint8  = scalar("uint8_t", BaseChar, unsignedType)
	Int16  = scalar("int16_t", BaseShort, signedType)
	Uint16 = scalar("uint16_t", BaseShort, unsignedType)
	Int32  = scalar("int32_t", BaseInt, signedType)
	Uint32 = scalar("uint32_t", BaseInt, unsignedType)
	Int64  = scalar("int64_t", BaseLongLong, signedType)
	Uint64 = scalar("uint64_t", BaseLongLong, unsignedType)

	// IntPtrT, UIntPtrT and PtrdiffT are as wide as size_t on every
	// supported ABI.
	IntPtrT  = scalar("intptr_t", BaseSizeT, signedType)
	UIntPtrT = scalar("uintptr_t", BaseSizeT, unsignedType)
	PtrdiffT = scalar("ptrdiff_t", BaseSizeT, signedType)
)

// Typedef gives t another C name (dev_t for uint64_t). The layout is t's.
func Typedef(name string, t *Type) *Type {
	c := *t
	c.name = name
	c.alias = t
	return &c
}

// PointerTo returns a pointer type spelled "elem *". Every pointer has the
// descriptor's pointer layout; the element name is for humans only.
func PointerTo(elem string) *Type {
	return Typedef(strings.TrimSpace(elem)+" *", Pointer)
}

// NewArray returns the C array type elem[n]. Arrays may have any rank:
// an array of arrays is a multi-dimensional array (NewArray(NewArray(T,
// 3), 2) is T[2][3]). A length of 0 is GNU C's zero-length array: size
// 0, the element's alignment.
func NewArray(elem *Type, n int) (*Type, error) {
	switch {
	case elem == nil:
		return nil, typeErr("array of no type")
	case n < 0:
		return nil, typeErr("%s array with negative length %d", elem.name, n)
	case elem.IsFlexible():
		return nil, typeErr("array of the flexible array %s", elem.name)
	}
	return &Type{kind: KindArray, name: arrayName(elem, fmt.Sprintf("[%d]", n)), elem: elem, n: n}, nil
}

// Array is NewArray for descriptions known to be valid; it panics on an
// error.
func Array(elem *Type, n int) *Type { return Must(NewArray(elem, n)) }

// arrayName spells elem[n] with the new dimension outermost, as C does:
// an array of 2 int[3] is "int[2][3]".
func arrayName(elem *Type, dim string) string {
	if elem.kind == KindArray && elem.alias == nil {
		base := elem.name[:strings.IndexByte(elem.name, '[')]
		return base + dim + elem.name[len(base):]
	}
	return elem.name + dim
}

// FlexArray returns a flexible array member elem[] for the end of a struct.
func FlexArray(elem *Type) *Type {
	return &Type{kind: KindArray, name: arrayName(elem, "[]"), elem: elem, n: -1}
}

// NewStruct returns the C type "struct tag { fields }" (an empty tag for
// an anonymous struct). No fields is GNU C's empty struct, of size 0. It
// fails on a description no C compiler accepts: duplicate member names
// (promoted members of anonymous ones included), a flexible array that is
// not last, a bit-field of a non-integer type or a named zero-width one,
// an unnamed member that is neither a bit-field nor a struct or union, or
// an alignment that is not a power of two.
func NewStruct(tag string, fields ...Field) (*Type, error) {
	return aggregate(KindStruct, "struct", tag, fields)
}

// NewUnion returns the C type "union tag { fields }".
func NewUnion(tag string, fields ...Field) (*Type, error) {
	return aggregate(KindUnion, "union", tag, fields)
}

// Struct is NewStruct for descriptions known to be valid; it panics on an
// error.
func Struct(tag string, fields ...Field) *Type { return Must(NewStruct(tag, fields...)) }

// Union is NewUnion for descriptions known to be valid; it panics on an
// error.
func Union(tag string, fields ...Field) *Type { return Must(NewUnion(tag, fields...)) }

func aggregate(k Kind, word, tag string, fields []Field) (*Type, error) {
	name := word
	if tag != "" {
		name += " " + tag
	}
	seen := map[string]bool{}
	for i, f := range fields {
		// Spelled only for an error: package init describes many structs.
		what := func() string {
			if f.Name == "" {
				return fmt.Sprintf("%s: unnamed member %d", name, i)
			}
			return fmt.Sprintf("%s: member %q", name, f.Name)
		}
		if f.Type == nil {
			return nil, typeErr("%s has no type", what())
		}
		if f.Align != 0 && !powerOfTwo(f.Align) {
			return nil, typeErr("%s: alignment %d is not a power of two", what(), f.Align)
		}
		switch {
		case f.BitField:
			if !f.Type.isInteger() {
				return nil, typeErr("%s: a bit-field must have an integer type, not %s", what(), f.Type.name)
			}
			if f.Bits < 0 {
				return nil, typeErr("%s: negative bit-field width %d", what(), f.Bits)
			}
			if f.Bits == 0 && f.Name != "" {
				return nil, typeErr("%s: a zero-width bit-field must be unnamed", what())
			}
			if max := bitWidthMax(f.Type, maxIntSize(f.Type)); f.Bits > max {
				return nil, typeErr("%s: width %d exceeds its type %s", what(), f.Bits, f.Type.name)
			}
		case f.Name == "" && f.Type.kind != KindStruct && f.Type.kind != KindUnion:
			return nil, typeErr("%s: only a struct or union member may be anonymous, not %s", what(), f.Type.name)
		case f.Name == "" && (f.Align != 0 || f.Packed):
			// In C the attributes of an anonymous member are its type's.
			return nil, typeErr("%s: an anonymous member takes no attributes; give them to its struct or union type", what())
		case f.Bits != 0:
			return nil, typeErr("%s: Bits %d without BitField", what(), f.Bits)
		}
		if f.Type.IsFlexible() && (k != KindStruct || i != len(fields)-1) {
			return nil, typeErr("%s: a flexible array must be the last member of a struct", what())
		}
		if f.Name == "" && !f.BitField {
			for _, n := range f.Type.memberNames() {
				if seen[n] {
					return nil, typeErr("%s: duplicate member %q (promoted from an anonymous member)", name, n)
				}
				seen[n] = true
			}
			continue
		}
		if f.Name == "" {
			continue
		}
		if seen[f.Name] {
			return nil, typeErr("%s: duplicate member %q", name, f.Name)
		}
		seen[f.Name] = true
	}
	if n := len(fields); n > 0 && fields[n-1].Type.IsFlexible() && len(seen) < 2 {
		return nil, typeErr("%s: a flexible array member needs another named member", name)
	}
	return &Type{kind: k, name: name, fields: append([]Field(nil), fields...)}, nil
}

// memberNames lists the names an aggregate's members are reached by,
// promoted ones included.
func (t *Type) memberNames() []string {
	var out []string
	for _, f := range t.fields {
		switch {
		case f.Name != "":
			out = append(out, f.Name)
		case !f.BitField:
			out = append(out, f.Type.memberNames()...)
		}
	}
	return out
}

func powerOfTwo(n int) bool { return n > 0 && bits.OnesCount(uint(n)) == 1 }

// maxIntSize is the largest size an integer type can have on any ABI
// sprig accepts (long and size_t may be 8), for checking bit-field widths
// before an ABI is known; the layout checks again for its ABI.
func maxIntSize(t *Type) int {
	switch t.base {
	case BaseChar, BaseBool:
		return 1
	case BaseShort:
		return 2
	case BaseInt:
		return 4
	case BaseInt128:
		return 16
	}
	return 8
}

// bitWidthMax is the widest bit-field of type t when it is size bytes:
// _Bool holds one bit, whatever its size.
func bitWidthMax(t *Type, size int) int {
	if t.base == BaseBool {
		return 1
	}
	return 8 * size
}

// isInteger reports whether t may be a bit-field's type: an integer, an
// enum or _Bool.
func (t *Type) isInteger() bool {
	return t.kind == KindScalar && !t.float && t.base != BasePointer
}

// NewEnum returns the C type "enum tag { values }". Its size follows GCC
// (no -fshort-enums, as on every supported ABI): unsigned int when every
// value is non-negative and fits 32 bits, int when some are negative and
// all fit, otherwise a 64-bit integer, signed when any value is negative.
func NewEnum(tag string, values ...Enumerator) (*Type, error) {
	name := "enum"
	if tag != "" {
		name += " " + tag
	}
	if len(values) == 0 {
		return nil, typeErr("%s has no enumerators", name)
	}
	lo, hi := values[0].Value, values[0].Value
	seen := map[string]bool{}
	for _, e := range values {
		if e.Name == "" {
			return nil, typeErr("%s: an enumerator has no name", name)
		}
		if seen[e.Name] {
			return nil, typeErr("%s: duplicate enumerator %s", name, e.Name)
		}
		seen[e.Name] = true
		lo, hi = min(lo, e.Value), max(hi, e.Value)
	}
	t := &Type{kind: KindScalar, name: name, enums: append([]Enumerator(nil), values...)}
	switch {
	case lo >= 0 && hi <= 0xffffffff:
		t.base, t.sign = BaseInt, unsignedType
	case lo >= -1<<31 && hi <= 1<<31-1:
		t.base, t.sign = BaseInt, signedType
	case lo >= 0:
		t.base, t.sign = BaseLongLong, unsignedType
	default:
		t.base, t.sign = BaseLongLong, signedType
	}
	return t, nil
}

// Enum is NewEnum for descriptions known to be valid; it panics on an
// error.
func Enum(tag string, values ...Enumerator) *Type { return Must(NewEnum(tag, values...)) }

// With returns a copy of t carrying GNU attributes: packed (structs and
// unions only) and aligned(N). On a struct or union, aligned raises the
// alignment to at least N; on any other type the copy acts as a typedef
// with that attribute, aligned to exactly N. The copy keeps t's name.
func (t *Type) With(a Attrs) (*Type, error) {
	if a.Align != 0 && !powerOfTwo(a.Align) {
		return nil, typeErr("%s: alignment %d is not a power of two", t.name, a.Align)
	}
	aggr := (t.kind == KindStruct || t.kind == KindUnion) && t.alias == nil
	if a.Packed && !aggr {
		return nil, typeErr("%s: only a struct or union can be packed", t.name)
	}
	c := *t
	c.packed = c.packed || a.Packed
	switch {
	case a.Align == 0:
	case aggr:
		c.align = a.Align
	default:
		c.exact = a.Align
		if c.alias == nil {
			c.alias = t // an aligned scalar or array is a typedef in C
		}
	}
	return &c, nil
}

// Kind returns what sort of type t is.
func (t *Type) Kind() Kind { return t.kind }

// Name returns the C spelling of the type ("dev_t", "struct stat").
func (t *Type) Name() string { return t.name }

// String returns the C spelling.
func (t *Type) String() string { return t.name }

// Base returns the base type of a scalar (zero for other kinds); for a
// complex type, the base of each part.
func (t *Type) Base() Base { return t.base }

// Float reports whether the scalar is a floating-point type (complex
// ones included).
func (t *Type) Float() bool { return t.float }

// Complex reports whether the scalar is a _Complex type.
func (t *Type) Complex() bool { return t.complex }

// IsEnum reports whether t is an enum type (or a typedef of one).
func (t *Type) IsEnum() bool { return t.enums != nil }

// Enumerators returns a copy of an enum's constants in declaration order.
func (t *Type) Enumerators() []Enumerator { return append([]Enumerator(nil), t.enums...) }

// Typedef returns the type a typedef names and true, or nil and false
// when t is not a typedef.
func (t *Type) Typedef() (*Type, bool) { return t.alias, t.alias != nil }

// Attrs returns the GNU attributes t carries: those of a struct or union
// definition, or a typedef's aligned(N).
func (t *Type) Attrs() Attrs {
	if t.exact != 0 {
		return Attrs{Packed: t.packed, Align: t.exact}
	}
	return Attrs{Packed: t.packed, Align: t.align}
}

// Signed reports whether a scalar is signed on descriptor d.
func (t *Type) Signed(d *Descriptor) bool {
	switch t.sign {
	case signedType:
		return true
	case charSigned:
		return d.CharSigned
	case registerTSigned:
		return d.RegisterTSigned
	}
	return false
}

// Elem returns an array's element type.
func (t *Type) Elem() *Type { return t.elem }

// Len returns an array's length, -1 for a flexible array.
func (t *Type) Len() int { return t.n }

// IsFlexible reports whether t is a flexible array member type.
func (t *Type) IsFlexible() bool { return t.kind == KindArray && t.n < 0 }

// Fields returns a copy of a struct's or union's members.
func (t *Type) Fields() []Field { return append([]Field(nil), t.fields...) }

// Decl returns a C declaration of the type with its members, for humans
// and for generated C sources.
func (t *Type) Decl() string {
	var b strings.Builder
	t.decl(&b, Field{}, 0)
	return b.String()
}

// aggregateAttrs spells a struct's or union's own attributes.
func (t *Type) attrSuffix() string {
	var as []string
	if t.packed {
		as = append(as, "packed")
	}
	if t.align != 0 {
		as = append(as, fmt.Sprintf("aligned(%d)", t.align))
	}
	if len(as) == 0 {
		return ""
	}
	return " __attribute__((" + strings.Join(as, ", ") + "))"
}

// memberSuffix spells a member's bit width and attributes.
func memberSuffix(f Field) string {
	s := ""
	if f.BitField {
		s += fmt.Sprintf(" : %d", f.Bits)
	}
	var as []string
	if f.Packed {
		as = append(as, "packed")
	}
	if f.Align != 0 {
		as = append(as, fmt.Sprintf("aligned(%d)", f.Align))
	}
	if len(as) > 0 {
		s += " __attribute__((" + strings.Join(as, ", ") + "))"
	}
	return s
}

func (t *Type) decl(b *strings.Builder, f Field, depth int) {
	indent := strings.Repeat("\t", depth)
	name := f.Name
	switch {
	case (t.kind == KindStruct || t.kind == KindUnion) && t.alias == nil:
		b.WriteString(indent + t.name + " {\n")
		for _, m := range t.fields {
			m.Type.decl(b, m, depth+1)
		}
		b.WriteString(indent + "}" + t.attrSuffix())
		if name != "" {
			b.WriteString(" " + name)
		}
		b.WriteString(memberSuffix(f) + ";\n")
	case t.kind == KindArray && t.alias == nil:
		dims := ""
		e := t
		for e.kind == KindArray && e.alias == nil {
			if e.n < 0 {
				dims += "[]"
			} else {
				dims += fmt.Sprintf("[%d]", e.n)
			}
			e = e.elem
		}
		if e.kind == KindScalar || e.alias != nil {
			fmt.Fprintf(b, "%s%s;\n", indent, cDeclarator(e.name, name+dims)+memberSuffix(f))
		} else {
			g := f
			g.Name = name + dims
			e.decl(b, g, depth)
		}
	default:
		fmt.Fprintf(b, "%s%s%s;\n", indent, cDeclarator(t.name, name), memberSuffix(f))
	}
}

// cDeclarator spells "type name", without a blank after a '*'.
func cDeclarator(typ, name string) string {
	if name == "" {
		return typ
	}
	if strings.HasSuffix(typ, "*") {
		return typ + name
	}
	return typ + " " + name
}
