package golden

import (
	"sync"

	"github.com/rumpsprig/sprig/abi"
)

// The vocabulary probes: one small struct per C feature beyond plain
// members (bit-fields, packed and aligned, _Alignas, _Bool, enums, long
// double, __int128, complex types, empty structs, anonymous members,
// zero-length and many-dimensional arrays, typedefs with alignment), so
// every ABI's compiler measures each of them.

func e(name string, v int64) abi.Enumerator { return abi.Enumerator{Name: name, Value: v} }

// The enums, one per size and signedness GCC picks.
var (
	EnumSmall = abi.Enum("v_small", e("v_small_a", 0), e("v_small_b", 5))                 // unsigned int
	EnumNeg   = abi.Enum("v_neg", e("v_neg_a", -1), e("v_neg_b", 7))                      // int
	EnumU32   = abi.Enum("v_u32", e("v_u32_a", 0x80000000))                               // unsigned int
	EnumBig   = abi.Enum("v_big", e("v_big_a", 0x100000000))                              // 64-bit unsigned
	EnumS64   = abi.Enum("v_s64", e("v_s64_a", -1), e("v_s64_b", 0x80000000))             // 64-bit signed
	EnumMin   = abi.Enum("v_min", e("v_min_a", -2147483648), e("v_min_b", 2147483647))    // int, both ends
	EnumTD    = abi.Typedef("v_enum_t", abi.Enum("v_td", e("v_td_a", 1), e("v_td_b", 2))) // typedef of an enum
)

// Typedefs with aligned(N): lowering and raising alignment.
var (
	Al2Int   = abi.Must(abi.Typedef("v_al2_int", abi.Int).With(abi.Attrs{Align: 2}))
	Al8Int   = abi.Must(abi.Typedef("v_al8_int", abi.Int).With(abi.Attrs{Align: 8}))
	Al4LL    = abi.Must(abi.Typedef("v_al4_ll", abi.LongLong).With(abi.Attrs{Align: 4}))
	Al16Char = abi.Must(abi.Typedef("v_al16_char", abi.Char).With(abi.Attrs{Align: 16}))
)

// VocabScalars are the scalar types the vocabulary adds, probed alone.
var VocabScalars = []*abi.Type{
	abi.Bool, abi.LongDouble, abi.FloatComplex, abi.DoubleComplex, abi.LongDoubleComplex,
	abi.Int128, abi.UInt128, abi.IntPtrT, abi.UIntPtrT, abi.PtrdiffT,
	EnumSmall, EnumNeg, EnumU32, EnumBig, EnumS64, EnumMin, EnumTD,
	Al2Int, Al8Int, Al4LL, Al16Char,
}

func aligned(f abi.Field, n int) abi.Field { f.Align = n; return f }
func packedF(f abi.Field) abi.Field        { f.Packed = true; return f }
func packed(t *abi.Type) *abi.Type         { return abi.Must(t.With(abi.Attrs{Packed: true})) }
func alignedT(t *abi.Type, n int) *abi.Type {
	return abi.Must(t.With(abi.Attrs{Align: n}))
}

var (
	vocabOnce sync.Once
	vocab     []*abi.Type
)

// Vocab returns the vocabulary structs, the same ones on every call.
func Vocab() []*abi.Type {
	vocabOnce.Do(func() { vocab = makeVocab() })
	return vocab
}

func makeVocab() []*abi.Type {
	F, B := abi.F, abi.Bits
	empty := abi.Struct("v_empty")
	al16 := alignedT(abi.Struct("v_aligned", F("c", abi.Char)), 16)
	tds := abi.Typedef("v_tds", abi.Struct("", F("a", abi.Int), F("b", abi.Char)))
	return []*abi.Type{
		abi.Struct("v_bool", F("c", abi.Char), F("b", abi.Bool), F("arr", abi.Array(abi.Bool, 3))),
		abi.Struct("v_enums", F("c", abi.Char), F("s", EnumSmall), F("b", EnumBig), F("d", abi.Char),
			F("n", EnumNeg), F("x", EnumS64), F("u", EnumU32), F("m", EnumMin), F("t", EnumTD)),
		abi.Struct("v_ldouble", F("c", abi.Char), F("ld", abi.LongDouble), F("d", abi.Char)),
		abi.Struct("v_complex", F("c", abi.Char), F("fc", abi.FloatComplex), F("d", abi.Char),
			F("dc", abi.DoubleComplex), F("e", abi.Char), F("ldc", abi.LongDoubleComplex)),
		abi.Struct("v_int128", F("c", abi.Char), F("i", abi.Int128), F("u", abi.UInt128), F("d", abi.Char)),
		empty,
		abi.Struct("v_has_empty", F("c", abi.Char), F("e", empty), F("i", abi.Int), F("e2", abi.Array(empty, 3)), F("d", abi.Char)),
		abi.Struct("v_anon",
			F("a", abi.Int),
			F("", abi.Struct("", F("b", abi.Short), F("c", abi.Char))),
			F("", abi.Union("", F("u", abi.Int), F("dd", abi.Double))),
			F("tail", abi.Char),
			F("nested", abi.Struct("", F("", abi.Struct("", F("deep", abi.Char))), F("after", abi.Short)))),
		abi.Union("v_anon_union", F("", abi.Struct("", F("lo", abi.Short), F("hi", abi.Short))), F("all", abi.Int)),
		abi.Struct("v_zero_len", F("n", abi.Int), F("z", abi.Array(abi.Char, 0)), F("l", abi.Long)),
		abi.Struct("v_3d", F("c", abi.Char), F("a", abi.Array(abi.Array(abi.Array(abi.Short, 4), 3), 2))),

		abi.Struct("v_bf_basic", B("a", abi.UInt, 3), B("b", abi.UInt, 5), B("c", abi.UInt, 9), B("d", abi.Int, 15)),
		abi.Struct("v_bf_straddle", F("c", abi.Char), B("x", abi.Int, 30), B("s", abi.Short, 9), B("d", abi.Char, 7), B("ll", abi.LongLong, 33)),
		abi.Struct("v_bf_zero", F("a", abi.Char), B("", abi.Int, 0), F("b", abi.Char), B("", abi.LongLong, 0), F("c", abi.Char),
			B("", abi.Short, 0), F("d", abi.Char)),
		abi.Struct("v_bf_unnamed", F("a", abi.Char), B("", abi.Int, 5), F("b", abi.Char), B("", abi.Short, 3)),
		abi.Struct("v_bf_only_unnamed", B("", abi.Int, 3)),
		abi.Struct("v_bf_ll", B("a", abi.Int, 30), B("x", abi.LongLong, 40), B("y", abi.ULongLong, 64), B("z", abi.Char, 1)),
		abi.Struct("v_bf_types", B("b1", abi.Bool, 1), B("c", abi.Char, 3), B("sc", abi.SChar, 2), B("uc", abi.UChar, 7),
			B("e", EnumSmall, 3), B("en", EnumNeg, 4), B("l", abi.Long, 20), B("ul", abi.ULong, 31), B("b2", abi.Bool, 1)),
		abi.Union("v_bf_union", B("a", abi.UInt, 3), B("b", abi.Int, 17), F("c", abi.Char), B("d", abi.LongLong, 40)),
		abi.Struct("v_bf_mixed", F("c", abi.Char), B("a", abi.UInt, 4), F("s", abi.Short), B("b", abi.UInt, 12),
			F("t", abi.Array(abi.Char, 3)), B("x", abi.Int, 1), F("dd", abi.Double), B("y", abi.UInt, 31)),
		abi.Struct("v_bf_in_array", F("c", abi.Char), F("a", abi.Array(abi.Struct("v_bf_elem", B("p", abi.UInt, 3), B("q", abi.Int, 6)), 3))),
		abi.Struct("v_bf_int128", B("a", abi.Int128, 70), B("b", abi.Int, 3), B("c", abi.UInt128, 100)),

		packed(abi.Struct("v_packed", F("c", abi.Char), F("i", abi.Int), F("s", abi.Short), F("ll", abi.LongLong),
			F("d", abi.Double), F("e", abi.Char))),
		packed(abi.Struct("v_packed_bf", F("c", abi.Char), B("x", abi.Int, 30), B("y", abi.UInt, 5), B("z", abi.LongLong, 33),
			B("", abi.Int, 0), F("w", abi.Char))),
		abi.Struct("v_packed_member", F("c", abi.Char), packedF(F("i", abi.Int)), F("d", abi.Char), packedF(F("ll", abi.LongLong)),
			packedF(B("bf", abi.Int, 20)), F("e", abi.Char)),
		al16,
		abi.Struct("v_aligned_in", F("c", abi.Char), F("a", al16), F("d", abi.Char)),
		abi.Struct("v_member_aligned", F("c", abi.Char), aligned(F("i", abi.Int), 8), F("d", abi.Char),
			aligned(F("ll", abi.LongLong), 4), F("e", abi.Char), aligned(F("dd", abi.Double), 16), aligned(F("two", abi.Int), 2)),
		abi.Struct("v_alignas", F("c", abi.Char), aligned(F("x", abi.Char), 16), F("i", abi.Int), aligned(F("j", abi.Int), 8),
			aligned(F("ll", abi.LongLong), 8)),
		alignedT(packed(abi.Struct("v_packed_aligned", F("c", abi.Char), F("i", abi.Int))), 4),
		packed(abi.Struct("v_packed_keeps", F("c", abi.Char), aligned(F("i", abi.Int), 2), F("d", abi.Char), F("a", al16), F("t", Al8Int))),
		abi.Struct("v_typedef_aligned", F("c", abi.Char), F("a", Al2Int), F("d", abi.Char), F("b", Al8Int), F("e", abi.Char),
			F("f", Al4LL), F("g", abi.Char), F("h", Al16Char)),
		abi.Struct("v_uses_td", F("c", abi.Char), F("t", tds), F("a", abi.Array(tds, 2))),
	}
}

// alignasStructs are written with _Alignas(N) rather than
// __attribute__((aligned(N))) on their aligned members, so the goldens
// show both spellings mean the same (for N at least the natural
// alignment, the only case _Alignas allows).
var alignasStructs = map[string]bool{"struct v_alignas": true}
