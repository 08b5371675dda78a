package abi

import (
	"fmt"
	"sort"
	"strings"
)

// Scalars returns every scalar type this package defines, in a fixed
// order: C's own types (with _Bool, long double, __int128 and the complex
// types), then the fixed-width and pointer-sized typedefs and NetBSD's
// register_t. Each is the Type a spelling of it stands for.
func Scalars() []*Type {
	return []*Type{
		Char, SChar, UChar, Short, UShort, Int, UInt, Long, ULong, LongLong, ULongLong,
		Bool, Float, Double, LongDouble, FloatComplex, DoubleComplex, LongDoubleComplex,
		Int128, UInt128, Pointer,
		Int8, Uint8, Int16, Uint16, Int32, Uint32, Int64, Uint64,
		SizeT, SSizeT, IntPtrT, UIntPtrT, PtrdiffT, RegisterT,
	}
}

// typedefNames are the scalar typedef names every C source may use
// without declaring them (stdint.h, stddef.h, stdbool.h, and NetBSD's
// register_t); they are laid out per ABI, as their headers define them.
var typedefNames = map[string]*Type{
	"int8_t": Int8, "uint8_t": Uint8, "int16_t": Int16, "uint16_t": Uint16,
	"int32_t": Int32, "uint32_t": Uint32, "int64_t": Int64, "uint64_t": Uint64,
	"u_int8_t": Uint8, "u_int16_t": Uint16, "u_int32_t": Uint32, "u_int64_t": Uint64,
	"size_t": SizeT, "ssize_t": SSizeT, "intptr_t": IntPtrT, "uintptr_t": UIntPtrT,
	"ptrdiff_t": PtrdiffT, "register_t": RegisterT, "bool": Bool,
}

// ScalarNamed returns the scalar type a C spelling names, in any of the
// orders and abbreviations C allows: "unsigned long long", "long long
// unsigned int", "long int", "signed", "signed char", "_Bool" or "bool",
// "double _Complex", "unsigned __int128", a typedef name such as
// "uint32_t" or "size_t", or a pointer ("char *", "void *"). Plain char
// keeps the ABI's signedness; "signed char" does not.
func ScalarNamed(spelling string) (*Type, error) {
	s := strings.TrimSpace(spelling)
	if strings.HasSuffix(s, "*") {
		return PointerTo(strings.TrimSpace(strings.TrimSuffix(s, "*"))), nil
	}
	words := strings.Fields(s)
	if len(words) == 1 {
		if t, ok := typedefNames[words[0]]; ok {
			return t, nil
		}
	}
	var quals []string
	var specs []string
	for _, w := range words {
		switch w {
		case "const", "volatile", "restrict":
			quals = append(quals, w)
		default:
			specs = append(specs, w)
		}
	}
	_ = quals // qualifiers do not change a layout
	t, err := scalarFromSpecifiers(specs)
	if err != nil {
		return nil, fmt.Errorf("abi: %q: %w", spelling, err)
	}
	return t, nil
}

// scalarFromSpecifiers combines C's type specifier keywords (in any
// order) into a scalar type.
func scalarFromSpecifiers(specs []string) (*Type, error) {
	var n struct{ signed, unsigned, char, short, int_, long, float, double, bool_, complex, int128, void int }
	for _, w := range specs {
		switch w {
		case "signed", "__signed__", "__signed":
			n.signed++
		case "unsigned":
			n.unsigned++
		case "char":
			n.char++
		case "short":
			n.short++
		case "int":
			n.int_++
		case "long":
			n.long++
		case "float":
			n.float++
		case "double":
			n.double++
		case "_Bool":
			n.bool_++
		case "_Complex", "__complex__":
			n.complex++
		case "__int128":
			n.int128++
		case "void":
			n.void++
		default:
			return nil, fmt.Errorf("%q is not a C type specifier", w)
		}
	}
	bad := func() (*Type, error) {
		return nil, fmt.Errorf("%q is not a valid combination of type specifiers", strings.Join(specs, " "))
	}
	if n.signed+n.unsigned > 1 || n.char > 1 || n.short > 1 || n.int_ > 1 || n.long > 2 || n.float+n.double+n.bool_+n.int128+n.void > 1 || n.complex > 1 {
		return bad()
	}
	sign := n.signed + n.unsigned
	switch {
	case n.void == 1:
		if len(specs) != 1 {
			return bad()
		}
		return nil, fmt.Errorf("void is not an object type")
	case n.bool_ == 1:
		if len(specs) != 1 {
			return bad()
		}
		return Bool, nil
	case n.float == 1:
		if len(specs) != 1+n.complex {
			return bad()
		}
		if n.complex == 1 {
			return FloatComplex, nil
		}
		return Float, nil
	case n.double == 1:
		if sign+n.char+n.short+n.int_+n.int128 > 0 || n.long > 1 {
			return bad()
		}
		switch {
		case n.long == 1 && n.complex == 1:
			return LongDoubleComplex, nil
		case n.long == 1:
			return LongDouble, nil
		case n.complex == 1:
			return DoubleComplex, nil
		}
		return Double, nil
	case n.complex == 1:
		return bad() // _Complex alone, or with an integer type
	case n.int128 == 1:
		if n.char+n.short+n.int_+n.long > 0 {
			return bad()
		}
		if n.unsigned == 1 {
			return UInt128, nil
		}
		return Int128, nil
	case n.char == 1:
		if n.short+n.int_+n.long > 0 {
			return bad()
		}
		switch {
		case n.signed == 1:
			return SChar, nil
		case n.unsigned == 1:
			return UChar, nil
		}
		return Char, nil
	case n.short == 1:
		if n.long > 0 {
			return bad()
		}
		if n.unsigned == 1 {
			return UShort, nil
		}
		return Short, nil
	case n.long == 2:
		if n.unsigned == 1 {
			return ULongLong, nil
		}
		return LongLong, nil
	case n.long == 1:
		if n.unsigned == 1 {
			return ULong, nil
		}
		return Long, nil
	case n.int_ == 1 || sign == 1:
		if n.unsigned == 1 {
			return UInt, nil
		}
		return Int, nil
	}
	return bad()
}

// ScalarSpellings lists the spellings ScalarNamed knows for typedef
// names, sorted, for messages and documentation.
func ScalarSpellings() []string {
	out := make([]string, 0, len(typedefNames))
	for n := range typedefNames {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
