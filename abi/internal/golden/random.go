package golden

import (
	"fmt"
	"math/rand/v2"

	"github.com/rumpsprig/sprig/abi"
)

// RandomSet returns n random structs and unions drawn from a seeded PCG,
// the same ones for the same seed on every machine, for tests that
// compile them with every ABI's compiler and compare the numbers with the
// layout engine's. They mix bit-fields (named, unnamed, zero-width, of
// every integer type, enums and _Bool included), packed and aligned
// structs and members, aligned typedefs, enums of every size, _Bool,
// long double, complex types, __int128 (compiled only where it exists),
// nested, anonymous and array members, and flexible tails.
func RandomSet(seed uint64, n int) *Set {
	g := &rgen{r: rand.New(rand.NewPCG(seed, seed^0x2545f4914f6cdd1d))}
	g.enums = []*abi.Type{EnumSmall, EnumNeg, EnumU32, EnumBig, EnumS64, EnumMin, EnumTD}
	var structs []*abi.Type
	for i := range n {
		g.tag = fmt.Sprintf("r%04d", i)
		g.next = 0
		kind := abi.KindStruct
		if g.r.IntN(8) == 0 {
			kind = abi.KindUnion
		}
		structs = append(structs, g.aggregate(kind, g.tag, 0, kind == abi.KindStruct && g.r.IntN(10) == 0))
	}
	return &Set{
		Name:    "random.c",
		Comment: fmt.Sprintf("Random structs: seed %#x, %d structs (RandomSet).", seed, n),
		Scalars: ScalarsOf(append(append([]*abi.Type(nil), basicScalars...), VocabScalars...), structs, nil),
		Structs: structs,
	}
}

type rgen struct {
	r     *rand.Rand
	tag   string
	next  int // member and nested tag counter, unique within a top-level struct
	enums []*abi.Type
}

// Scalars for ordinary members.
var randScalars = []*abi.Type{
	abi.Char, abi.SChar, abi.UChar, abi.Short, abi.UShort, abi.Int, abi.UInt,
	abi.Long, abi.ULong, abi.LongLong, abi.ULongLong, abi.Pointer, abi.SizeT,
	abi.Float, abi.Double, abi.Bool, abi.LongDouble, abi.FloatComplex, abi.DoubleComplex,
	abi.LongDoubleComplex, abi.RegisterT,
	Al2Int, Al8Int, Al4LL, Al16Char,
}

// Integer types for bit-fields, with the widest width allowed on every
// ABI (long is 32 bits on the ILP32 ones).
var randBitTypes = []struct {
	t   *abi.Type
	max int
}{
	{abi.Char, 8}, {abi.SChar, 8}, {abi.UChar, 8}, {abi.Short, 16}, {abi.UShort, 16},
	{abi.Int, 32}, {abi.UInt, 32}, {abi.Long, 32}, {abi.ULong, 32},
	{abi.LongLong, 64}, {abi.ULongLong, 64}, {abi.Bool, 1},
	{EnumSmall, 32}, {EnumNeg, 32}, {EnumBig, 64},
}

func (g *rgen) name() string {
	g.next++
	return fmt.Sprintf("m%d", g.next)
}

func (g *rgen) subTag() string {
	g.next++
	return fmt.Sprintf("%s_%d", g.tag, g.next)
}

func (g *rgen) aggregate(k abi.Kind, tag string, depth int, flex bool) *abi.Type {
	n := 1 + g.r.IntN(4)
	if depth == 0 {
		n = 1 + g.r.IntN(9)
	}
	var fields []abi.Field
	for range n {
		fields = append(fields, g.member(depth))
	}
	if flex {
		fields = append(fields, abi.F(g.name(), abi.FlexArray(randScalars[g.r.IntN(8)])))
		if _, err := abi.NewStruct(tag, fields...); err != nil {
			fields = fields[:len(fields)-1] // no other named member
		}
	}
	var t *abi.Type
	var err error
	if k == abi.KindUnion {
		t, err = abi.NewUnion(tag, fields...)
	} else {
		t, err = abi.NewStruct(tag, fields...)
	}
	if err != nil {
		panic(err) // the generator makes valid descriptions only
	}
	var a abi.Attrs
	if g.r.IntN(6) == 0 {
		a.Packed = true
	}
	if g.r.IntN(10) == 0 {
		a.Align = 1 << g.r.IntN(5)
	}
	if a != (abi.Attrs{}) {
		t = abi.Must(t.With(a))
	}
	return t
}

func (g *rgen) member(depth int) abi.Field {
	var f abi.Field
	switch n := g.r.IntN(100); {
	case n < 30:
		bt := randBitTypes[g.r.IntN(len(randBitTypes))]
		if g.r.IntN(60) == 0 {
			bt.t, bt.max = abi.Int128, 128 // rare: ILP32 ABIs skip the struct
		}
		width := g.r.IntN(bt.max + 1)
		name := ""
		if width > 0 && g.r.IntN(6) != 0 {
			name = g.name()
		}
		f = abi.Bits(name, bt.t, width)
	case n < 62 || depth >= 2:
		f = abi.F(g.name(), g.scalar())
	case n < 72:
		f = abi.F(g.name(), abi.Array(g.elem(), 1+g.r.IntN(4)))
	case n < 75:
		f = abi.F(g.name(), abi.Array(abi.Array(g.elem(), 1+g.r.IntN(3)), 2))
	case n < 84:
		k := abi.KindStruct
		if g.r.IntN(3) == 0 {
			k = abi.KindUnion
		}
		f = abi.F("", g.aggregate(k, "", depth+1, false)) // anonymous member
	case n < 93:
		k := abi.KindStruct
		if g.r.IntN(4) == 0 {
			k = abi.KindUnion
		}
		tag := ""
		if g.r.IntN(2) == 0 {
			tag = g.subTag()
		}
		f = abi.F(g.name(), g.aggregate(k, tag, depth+1, false))
	default:
		f = abi.F(g.name(), abi.Array(g.aggregate(abi.KindStruct, g.subTag(), depth+1, false), 2))
	}
	// An aligned attribute on a bit-field as wide as its type makes GCC
	// treat it as an ordinary member at the type's natural alignment,
	// which on i386 (long long, 8) is not its in-struct one (4); the
	// engine does not model that corner (see NewLayout), so it is not
	// drawn.
	fullWidth := f.BitField && f.Bits == 8*maxIntBytes(f.Type)
	if f.Name != "" && !fullWidth {
		switch g.r.IntN(14) {
		case 0:
			f.Align = 1 << g.r.IntN(5)
		case 1:
			f.Packed = true
		}
	}
	return f
}

// elem picks an array element: any scalar but the over-aligned typedefs,
// whose arrays C refuses.
func (g *rgen) elem() *abi.Type {
	for {
		if t := g.scalar(); t.Attrs().Align == 0 {
			return t
		}
	}
}

func (g *rgen) scalar() *abi.Type {
	switch g.r.IntN(120) {
	case 0:
		return abi.Int128 // rare: ILP32 ABIs skip the struct
	case 1:
		return abi.UInt128
	}
	if g.r.IntN(8) == 0 {
		return g.enums[g.r.IntN(len(g.enums))]
	}
	return randScalars[g.r.IntN(len(randScalars))]
}

// maxIntBytes is the size of a bit-field type on every ABI where the
// generator uses it (long is drawn with at most 32 bits).
func maxIntBytes(t *abi.Type) int {
	switch t.Base() {
	case abi.BaseChar, abi.BaseBool:
		return 1
	case abi.BaseShort:
		return 2
	case abi.BaseInt:
		return 4
	case abi.BaseInt128:
		return 16
	case abi.BaseLong:
		return 4
	}
	return 8
}
