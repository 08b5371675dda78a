package abi

import (
	"fmt"
	"strings"
)

// Base is a C scalar type whose size and alignment vary between ABIs. Every
// scalar Type is one of these, possibly renamed by a typedef.
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
)

var baseNames = [...]string{
	BaseChar: "char", BaseShort: "short", BaseInt: "int", BaseLong: "long",
	BaseLongLong: "long long", BasePointer: "pointer", BaseSizeT: "size_t",
	BaseRegisterT: "register_t", BaseFloat: "float", BaseDouble: "double",
}

func (b Base) String() string {
	if int(b) < len(baseNames) && baseNames[b] != "" {
		return baseNames[b]
	}
	return fmt.Sprintf("Base(%d)", uint8(b))
}

// Kind says what sort of C type a Type is.
type Kind uint8

// The kinds of C type the layout engine handles.
const (
	KindScalar Kind = iota + 1
	KindArray
	KindStruct
	KindUnion
)

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
// package, then lay them out for a Descriptor with LayoutOf.
type Type struct {
	kind   Kind
	name   string // C spelling: "int", "uint64_t", "dev_t", "struct stat"
	base   Base
	sign   signedness
	float  bool
	elem   *Type
	n      int // array length; -1 for a flexible array member
	fields []Field
}

// Field is one named member of a struct or union.
type Field struct {
	Name string
	Type *Type
}

// F is shorthand for a Field.
func F(name string, t *Type) Field { return Field{Name: name, Type: t} }

func scalar(name string, b Base, s signedness) *Type {
	return &Type{kind: KindScalar, name: name, base: b, sign: s}
}

// The C scalar types. Fixed-width integers are laid out as the base type
// of the same width (int64_t as long long), which is what every supported
// ABI does inside structs.
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
	Float     = &Type{kind: KindScalar, name: "float", base: BaseFloat, sign: signedType, float: true}
	Double    = &Type{kind: KindScalar, name: "double", base: BaseDouble, sign: signedType, float: true}

	Int8   = scalar("int8_t", BaseChar, signedType)
	Uint8  = scalar("uint8_t", BaseChar, unsignedType)
	Int16  = scalar("int16_t", BaseShort, signedType)
	Uint16 = scalar("uint16_t", BaseShort, unsignedType)
	Int32  = scalar("int32_t", BaseInt, signedType)
	Uint32 = scalar("uint32_t", BaseInt, unsignedType)
	Int64  = scalar("int64_t", BaseLongLong, signedType)
	Uint64 = scalar("uint64_t", BaseLongLong, unsignedType)
)

// Typedef gives t another C name (dev_t for uint64_t). The layout is t's.
func Typedef(name string, t *Type) *Type {
	c := *t
	c.name = name
	return &c
}

// PointerTo returns a pointer type spelled "elem *". Every pointer has the
// descriptor's pointer layout; the element name is for humans only.
func PointerTo(elem string) *Type {
	return Typedef(elem+" *", Pointer)
}

// Array returns the C array type elem[n].
func Array(elem *Type, n int) *Type {
	if n < 0 {
		panic("abi: negative array length")
	}
	return &Type{kind: KindArray, name: fmt.Sprintf("%s[%d]", elem.name, n), elem: elem, n: n}
}

// FlexArray returns a flexible array member elem[] for the end of a struct.
func FlexArray(elem *Type) *Type {
	return &Type{kind: KindArray, name: elem.name + "[]", elem: elem, n: -1}
}

// Struct returns the C type "struct tag { fields }". It panics on a
// programming error in the description (no fields, a duplicate name, a
// flexible array that is not last), since descriptions are static.
func Struct(tag string, fields ...Field) *Type {
	return aggregate(KindStruct, "struct", tag, fields)
}

// Union returns the C type "union tag { fields }".
func Union(tag string, fields ...Field) *Type {
	return aggregate(KindUnion, "union", tag, fields)
}

func aggregate(k Kind, word, tag string, fields []Field) *Type {
	if len(fields) == 0 {
		panic(fmt.Sprintf("abi: %s %s has no fields", word, tag))
	}
	seen := map[string]bool{}
	for i, f := range fields {
		if f.Type == nil {
			panic(fmt.Sprintf("abi: %s %s: field %q has no type", word, tag, f.Name))
		}
		if seen[f.Name] {
			panic(fmt.Sprintf("abi: %s %s: duplicate field %q", word, tag, f.Name))
		}
		seen[f.Name] = true
		if f.Type.IsFlexible() && (k != KindStruct || i != len(fields)-1) {
			panic(fmt.Sprintf("abi: %s %s: flexible array %q must be the last member of a struct", word, tag, f.Name))
		}
	}
	name := word
	if tag != "" {
		name += " " + tag
	}
	return &Type{kind: k, name: name, fields: append([]Field(nil), fields...)}
}

// Kind returns what sort of type t is.
func (t *Type) Kind() Kind { return t.kind }

// Name returns the C spelling of the type ("dev_t", "struct stat").
func (t *Type) Name() string { return t.name }

// String returns the C spelling.
func (t *Type) String() string { return t.name }

// Base returns the base type of a scalar (zero for other kinds).
func (t *Type) Base() Base { return t.base }

// Float reports whether the scalar is a floating-point type.
func (t *Type) Float() bool { return t.float }

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
	t.decl(&b, "", 0)
	return b.String()
}

func (t *Type) decl(b *strings.Builder, name string, depth int) {
	indent := strings.Repeat("\t", depth)
	switch t.kind {
	case KindStruct, KindUnion:
		b.WriteString(indent + t.name + " {\n")
		for _, f := range t.fields {
			f.Type.decl(b, f.Name, depth+1)
		}
		b.WriteString(indent + "}")
		if name != "" {
			b.WriteString(" " + name)
		}
		b.WriteString(";\n")
	case KindArray:
		dims := ""
		e := t
		for e.kind == KindArray {
			if e.n < 0 {
				dims += "[]"
			} else {
				dims += fmt.Sprintf("[%d]", e.n)
			}
			e = e.elem
		}
		if e.kind == KindScalar {
			b.WriteString(fmt.Sprintf("%s%s %s%s;\n", indent, e.name, name, dims))
		} else {
			e.decl(b, name+dims, depth)
		}
	default:
		b.WriteString(fmt.Sprintf("%s%s %s;\n", indent, t.name, name))
	}
}
