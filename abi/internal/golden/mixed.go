package golden

import (
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

// Seed drives the random struct generator. Changing it (or the generator)
// changes layouts.c and every golden file; regenerate them together.
const Seed = 0x5b1d_2026

// MixedCount is how many random top-level types there are.
const MixedCount = 40

// mixScalars are the scalar types the random structs draw from: every
// base type in several spellings, and some of NetBSD's typedefs.
var mixScalars = []*abi.Type{
	abi.Char, abi.SChar, abi.UChar, abi.Short, abi.UShort, abi.Int, abi.UInt,
	abi.Long, abi.ULong, abi.LongLong, abi.ULongLong, abi.Pointer, abi.SizeT,
	abi.SSizeT, abi.RegisterT, abi.Float, abi.Double,
	abi.Int8, abi.Uint8, abi.Int16, abi.Uint16, abi.Int32, abi.Uint32, abi.Int64, abi.Uint64,
	netbsd.OffT, netbsd.DevT, netbsd.TimeT, netbsd.ModeT, abi.PointerTo("char"),
}

var (
	mixedOnce sync.Once
	mixed     []*abi.Type
)

// MixedTypes returns the random structs (and a few unions), the same ones
// on every call and every machine: a seeded PCG drives the choices. They
// mix every base type in random orders with nested named and anonymous
// structs and unions, fixed arrays (also two-dimensional), arrays of
// structs, NetBSD's struct timespec, and a flexible array tail in some.
func MixedTypes() []*abi.Type {
	mixedOnce.Do(func() {
		g := &mixgen{r: rand.New(rand.NewPCG(Seed, Seed^0x9e3779b97f4a7c15))}
		for i := range MixedCount {
			tag := fmt.Sprintf("mix%02d", i)
			if i%10 == 9 {
				mixed = append(mixed, g.aggregate(abi.KindUnion, tag, 0, false))
			} else {
				mixed = append(mixed, g.aggregate(abi.KindStruct, tag, 0, i%3 == 1))
			}
		}
	})
	return mixed
}

type mixgen struct {
	r *rand.Rand
}

func (g *mixgen) scalar() *abi.Type { return mixScalars[g.r.IntN(len(mixScalars))] }

// aggregate builds a struct or union called tag ("" for an anonymous
// one); nested types are named after their parent.
func (g *mixgen) aggregate(k abi.Kind, tag string, depth int, flex bool) *abi.Type {
	n := 1 + g.r.IntN(4)
	if depth == 0 {
		n = 2 + g.r.IntN(7)
	}
	var fields []abi.Field
	for i := range n {
		sub := ""
		if tag != "" {
			sub = fmt.Sprintf("%s_%d", tag, i)
		}
		fields = append(fields, abi.F(fmt.Sprintf("f%d", i), g.member(sub, depth)))
	}
	if flex {
		var elem *abi.Type
		if g.r.IntN(4) == 0 {
			elem = g.aggregate(abi.KindStruct, tag+"_tail", depth+1, false)
		} else {
			elem = g.scalar()
		}
		fields = append(fields, abi.F("tail", abi.FlexArray(elem)))
	}
	if k == abi.KindUnion {
		return abi.Union(tag, fields...)
	}
	return abi.Struct(tag, fields...)
}

// member picks one member type; sub names a nested aggregate ("" makes
// nested ones anonymous).
func (g *mixgen) member(sub string, depth int) *abi.Type {
	n := g.r.IntN(100)
	nest := depth < 2
	anon := func() string {
		if sub == "" || g.r.IntN(3) == 0 {
			return ""
		}
		return sub
	}
	switch {
	case n < 52 || !nest && n >= 62:
		return g.scalar()
	case n < 62:
		return abi.Array(g.scalar(), 1+g.r.IntN(5))
	case n < 67:
		return abi.Array(abi.Array(g.scalar(), 1+g.r.IntN(3)), 2+g.r.IntN(2))
	case n < 76:
		return g.aggregate(abi.KindStruct, anon(), depth+1, false)
	case n < 85:
		return g.aggregate(abi.KindUnion, anon(), depth+1, false)
	case n < 93:
		return abi.Array(g.aggregate(abi.KindStruct, anon(), depth+1, false), 2+g.r.IntN(2))
	case n < 96:
		return abi.Array(abi.Array(g.aggregate(abi.KindStruct, anon(), depth+1, false), 2), 2)
	default:
		return netbsd.TimespecType
	}
}
