package abi_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
)

func TestMemberPaths(t *testing.T) {
	amd64 := abi.MustLookup("amd64")
	s := abi.Struct("s",
		abi.F("a", abi.Int),
		abi.F("", abi.Struct("", abi.F("b", abi.Short), abi.F("", abi.Union("", abi.F("c", abi.Char), abi.F("d", abi.Double))))),
		abi.Bits("e", abi.UInt, 3))
	l := abi.LayoutOf(amd64, s)
	for path, off := range map[string]int{"a": 0, "b": 8, "c": 16, "d": 16, "e": 24} {
		m, err := l.Member(path)
		require.NoError(t, err, path)
		assert.Equal(t, off, m.Offset, path)
	}
	for _, bad := range []string{"", ".a", "a.", "e.x", "e[0]", "nope"} {
		_, err := l.Member(bad)
		assert.ErrorIs(t, err, abi.ErrNoField, bad)
		_, _, err = l.Field(bad)
		assert.ErrorIs(t, err, abi.ErrNoField, "Field(%q) must not silently answer offset 0", bad)
	}
	var paths []string
	for _, lf := range l.Leaves() {
		paths = append(paths, lf.Path)
	}
	assert.Equal(t, []string{"a", "b", "c", "d", "e"}, paths, "promoted members under their own names")

	// Duplicate names across anonymous members are refused.
	_, err := abi.NewStruct("dup", abi.F("x", abi.Int), abi.F("", abi.Struct("", abi.F("x", abi.Int))))
	assert.ErrorIs(t, err, abi.ErrBadType)
}

func TestLeavesOfArrays(t *testing.T) {
	l := abi.LayoutOf(abi.MustLookup("arm"), abi.Struct("a",
		abi.F("one", abi.Array(abi.Short, 3)),
		abi.F("two", abi.Array(abi.Array(abi.Short, 3), 2)),
		abi.F("zero", abi.Array(abi.Int, 0)),
		abi.F("tail", abi.Char)))
	var got []string
	for _, lf := range l.Leaves() {
		got = append(got, lf.Path+":"+lf.Type.Name())
	}
	assert.Equal(t, []string{"one:short[3]", "two[0]:short[3]", "two[1]:short[3]", "zero:int[0]", "tail:char"}, got)
	assert.Equal(t, 20, l.Offset("tail"), "a zero-length array takes no room but aligns")
	assert.Equal(t, 24, l.Size)
}

func TestEmptyStructIsSizeZero(t *testing.T) {
	e := abi.Struct("e")
	for _, d := range builtins {
		l := abi.LayoutOf(d, e)
		assert.Equal(t, [2]int{0, 1}, [2]int{l.Size, l.Align}, d.Name)
		assert.Empty(t, l.Leaves())
	}
}

// Encode and Decode carry bit-fields, _Bool, enums, complex, __int128 and
// promoted members, in each ABI's byte and bit order.
func TestEncodeDecodeVocabulary(t *testing.T) {
	color := abi.Enum("color", abi.Enumerator{Name: "RED", Value: 0}, abi.Enumerator{Name: "BLUE", Value: 2})
	s := abi.Struct("v",
		abi.Bits("lo", abi.UInt, 4), abi.Bits("neg", abi.Int, 5), abi.Bits("ok", abi.Bool, 1),
		abi.F("col", color), abi.F("b", abi.Bool),
		abi.F("", abi.Struct("", abi.F("inner", abi.Short))),
		abi.F("z", abi.DoubleComplex), abi.F("big", abi.Int128))
	type V struct {
		Lo    uint8
		Neg   int8
		OK    bool `abi:"ok"`
		Col   int
		B     bool
		Inner int16
		Z     complex128
		Big   int64
	}
	want := V{Lo: 9, Neg: -7, OK: true, Col: 2, B: true, Inner: -300, Z: complex(1.5, -2), Big: -5}
	for _, name := range []string{"amd64", "sparc64"} {
		l := abi.LayoutOf(abi.MustLookup(name), s)
		b, err := l.Encode(want)
		require.NoError(t, err, name)
		var got V
		require.NoError(t, l.Decode(b, &got), name)
		assert.Equal(t, want, got, name)
		lo, err := l.Uint(b, "lo")
		require.NoError(t, err)
		assert.Equal(t, uint64(9), lo)
		neg, err := l.Int(b, "neg")
		require.NoError(t, err)
		assert.Equal(t, int64(-7), neg)
		if name == "amd64" {
			assert.Equal(t, byte(0x9|(0x19&0x0f)<<4), b[0], "lo in the low bits, neg above it")
		} else {
			assert.Equal(t, byte(0x9<<4|0x19>>1), b[0], "big-endian: lo in the high bits")
		}
		_, err = l.Encode(V{Lo: 16})
		var re *abi.RangeError
		require.ErrorAs(t, err, &re, "4 bits hold 0..15")
		assert.Equal(t, 4, re.Bits)
		assert.Contains(t, err.Error(), "does not fit unsigned int : 4")
	}
	_, err := abi.NewLayout(abi.MustLookup("i386"), s)
	assert.ErrorIs(t, err, abi.ErrNotOnABI)
}

func TestConvertBitFieldsAcrossByteOrders(t *testing.T) {
	s := abi.Struct("f", abi.F("c", abi.Char), abi.Bits("x", abi.Int, 13), abi.Bits("y", abi.UInt, 7))
	src, dst := abi.LayoutOf(abi.MustLookup("amd64"), s), abi.LayoutOf(abi.MustLookup("mips"), s)
	b := make([]byte, src.Size)
	require.NoError(t, src.PutInt(b, "x", -1000))
	require.NoError(t, src.PutUint(b, "y", 100))
	out, err := abi.Convert(dst, src, b)
	require.NoError(t, err)
	x, _ := dst.Int(out, "x")
	y, _ := dst.Uint(out, "y")
	assert.Equal(t, int64(-1000), x)
	assert.Equal(t, uint64(100), y)

	ld := abi.Struct("ld", abi.F("x", abi.LongDouble))
	_, err = abi.Convert(abi.LayoutOf(abi.MustLookup("arm64"), ld), abi.LayoutOf(abi.MustLookup("amd64"), ld), make([]byte, 16))
	assert.ErrorContains(t, err, "its format differs between ABIs")
}

func TestScalarNamedRefusesNonsense(t *testing.T) {
	for _, s := range []string{"long long long", "unsigned float", "short char", "signed unsigned", "void", "frobnicate", "_Complex"} {
		_, err := abi.ScalarNamed(s)
		assert.Error(t, err, s)
	}
	for _, s := range []string{"signed", "unsigned", "long unsigned", "short int", "long double", "double _Complex", "unsigned __int128", "char *", "bool"} {
		_, err := abi.ScalarNamed(s)
		assert.NoError(t, err, s)
	}
	assert.Len(t, abi.Scalars(), 35)
}
