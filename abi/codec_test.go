package abi_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

func sampleStat() netbsd.Stat {
	return netbsd.Stat{
		Dev: 0x0102030405060708, Mode: netbsd.S_IFREG | 0o644, Ino: 0xfedcba9876543210,
		Nlink: 3, UID: 1000, GID: 100, Rdev: netbsd.NODEV,
		Atim:     netbsd.Timespec{Sec: 1700000000, Nsec: 123456789},
		Mtim:     netbsd.Timespec{Sec: -1, Nsec: 0},
		Ctim:     netbsd.Timespec{Sec: 1 << 40, Nsec: 999999999},
		Birthtim: netbsd.Timespec{Sec: 0, Nsec: 1},
		Size:     -2, Blocks: 1 << 33, Blksize: 65536, Flags: 0x80000001, Gen: 42,
	}
}

func TestStatRoundTripEveryABI(t *testing.T) {
	want := sampleStat()
	for _, d := range builtins {
		l := netbsd.LayoutsFor(d).Stat
		b, err := l.Encode(want)
		require.NoError(t, err, d.Name)
		require.Len(t, b, l.Size, d.Name)
		for _, p := range l.Padding() {
			assert.Equal(t, make([]byte, p.Size), b[p.Offset:p.Offset+p.Size], "%s: padding is zero", d.Name)
		}
		var got netbsd.Stat
		require.NoError(t, l.Decode(b, &got), d.Name)
		assert.Equal(t, want, got, d.Name)

		// Spot-check the bytes in the ABI's own order.
		mode, err := l.Uint(b, "st_mode")
		require.NoError(t, err)
		assert.Equal(t, uint64(want.Mode), mode)
		sec, err := l.Int(b, "st_mtim.tv_sec")
		require.NoError(t, err)
		assert.Equal(t, int64(-1), sec)
		off := l.Offset("st_mode")
		if d.BigEndian() {
			assert.Equal(t, []byte{0, 0, 0x81, 0xa4}, b[off:off+4], d.Name)
		} else {
			assert.Equal(t, []byte{0xa4, 0x81, 0, 0}, b[off:off+4], d.Name)
		}
	}
}

func TestStatBytesBigVsLittle(t *testing.T) {
	st := netbsd.Stat{Dev: 0x0102030405060708, Atim: netbsd.Timespec{Nsec: 0x0a0b0c0d}}
	mips, err := netbsd.LayoutsFor(abi.MustLookup("mips")).Stat.Encode(st)
	require.NoError(t, err)
	i386, err := netbsd.LayoutsFor(abi.MustLookup("i386")).Stat.Encode(st)
	require.NoError(t, err)
	assert.Len(t, mips, 152)
	assert.Len(t, i386, 124)
	assert.Equal(t, []byte{1, 2, 3, 4, 5, 6, 7, 8}, mips[0:8])
	assert.Equal(t, []byte{8, 7, 6, 5, 4, 3, 2, 1}, i386[0:8])
	assert.Equal(t, []byte{0x0a, 0x0b, 0x0c, 0x0d}, mips[56:60], "mips tv_nsec at 48+8")
	assert.Equal(t, []byte{0x0d, 0x0c, 0x0b, 0x0a}, i386[48:52], "i386 tv_nsec at 40+8")
}

// A value too wide for its C member is a RangeError: a 64-bit address in
// a 4-byte pointer, a nanosecond count past 2^31 in a 4-byte long.
func TestEncodeRangeErrors(t *testing.T) {
	cd := netbsd.Copydata{Len: 16, Addr: 1 << 32}
	for _, name := range []string{"i386", "arm", "mips", "powerpc"} {
		l := netbsd.LayoutsFor(abi.MustLookup(name)).Copydata
		_, err := l.Encode(cd)
		var re *abi.RangeError
		require.ErrorAs(t, err, &re, name)
		assert.Equal(t, 4, re.Size)
		assert.Contains(t, re.Path, "rcp_addr")
		assert.Contains(t, err.Error(), "4294967296")

		b := make([]byte, l.Size)
		require.ErrorAs(t, l.PutUint(b, "rcp_addr", 1<<32), &re)
		require.NoError(t, l.PutUint(b, "rcp_addr", 0xffffffff))
		require.ErrorAs(t, l.PutInt(b, "rcp_len", -1<<40), &re)
	}
	for _, name := range []string{"amd64", "sparc64"} {
		b, err := netbsd.LayoutsFor(abi.MustLookup(name)).Copydata.Encode(cd)
		require.NoError(t, err, name)
		assert.Len(t, b, 16)
	}
	_, err := netbsd.LayoutsFor(abi.MustLookup("i386")).Stat.Encode(netbsd.Stat{Atim: netbsd.Timespec{Nsec: 1 << 32}})
	var re *abi.RangeError
	require.ErrorAs(t, err, &re)
	assert.Contains(t, re.Path, "st_atim.tv_nsec")
	// A negative value fits a signed member, and a 4-byte unsigned one
	// as C's conversion would.
	_, err = netbsd.LayoutsFor(abi.MustLookup("i386")).Stat.Encode(netbsd.Stat{Atim: netbsd.Timespec{Nsec: -1 << 31}})
	assert.NoError(t, err)
}

func TestDecodeShortBuffer(t *testing.T) {
	for name, size := range map[string]int{"amd64": 152, "i386": 124} {
		l := netbsd.LayoutsFor(abi.MustLookup(name)).Stat
		var st netbsd.Stat
		err := l.Decode(make([]byte, size-1), &st)
		var se *abi.ShortError
		require.ErrorAs(t, err, &se, name)
		assert.Equal(t, size, se.Need)
		assert.Equal(t, size-1, se.Have)
		assert.Contains(t, err.Error(), "struct stat")

		require.ErrorAs(t, l.EncodeTo(make([]byte, 10), sampleStat()), &se)
		_, err = l.Uint(make([]byte, 10), "st_size")
		require.ErrorAs(t, err, &se)
	}
	var st netbsd.Stat
	err := netbsd.LayoutsFor(abi.MustLookup("amd64")).Stat.Decode(make([]byte, 152), st)
	require.Error(t, err, "decode into a non-pointer")
}

// tagged is struct tagged { int kind; union val { int i; long long ll;
// unsigned char bytes[8]; } u; }.
var (
	valUnion = abi.Union("val", abi.F("i", abi.Int), abi.F("ll", abi.LongLong), abi.F("bytes", abi.Array(abi.UChar, 8)))
	tagged   = abi.Struct("tagged", abi.F("kind", abi.Int), abi.F("u", valUnion))
)

type val struct {
	I     int32
	LL    int64
	Bytes [8]byte
}

type taggedGo struct {
	Kind int32
	U    val
}

func TestUnionEncoding(t *testing.T) {
	mips, i386 := abi.MustLookup("mips"), abi.MustLookup("i386")
	lu := abi.LayoutOf(mips, valUnion)
	assert.Equal(t, 8, lu.Size)
	for _, f := range lu.Fields {
		assert.Zero(t, f.Offset, f.Name)
	}

	b, err := lu.Encode(val{I: -2})
	require.NoError(t, err)
	assert.Equal(t, []byte{0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0}, b)
	var got val
	require.NoError(t, lu.Decode(b, &got))
	assert.Equal(t, int32(-2), got.I)
	assert.Equal(t, int64(-0x200000000), got.LL, "every member reads the same bytes")
	assert.Equal(t, [8]byte{0xff, 0xff, 0xff, 0xfe}, got.Bytes)

	_, err = lu.Encode(val{I: 1, LL: 2})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "more than one member")

	// Inside a struct the union aligns like its widest member.
	lt := abi.LayoutOf(mips, tagged)
	assert.Equal(t, 16, lt.Size)
	assert.Equal(t, 8, lt.Offset("u"))
	assert.Equal(t, []abi.Range{{Offset: 4, Size: 4}}, lt.Padding())
	li := abi.LayoutOf(i386, tagged)
	assert.Equal(t, 12, li.Size)
	assert.Equal(t, 4, li.Offset("u.ll"))
	bi, err := li.Encode(taggedGo{Kind: 7, U: val{LL: 0x0102030405060708}})
	require.NoError(t, err)
	assert.Equal(t, []byte{7, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1}, bi)
	var tg taggedGo
	require.NoError(t, li.Decode(bi, &tg))
	assert.Equal(t, int32(7), tg.Kind)
	assert.Equal(t, int64(0x0102030405060708), tg.U.LL)
	assert.Equal(t, int32(0x05060708), tg.U.I)
}

func TestFlexibleArrayTail(t *testing.T) {
	de := netbsd.Dirent{Fileno: 0x1122334455667788, Reclen: 24, Namlen: 5, Type: netbsd.DT_REG, Name: "hello"}
	for _, name := range []string{"amd64", "sparc64", "i386"} {
		l := netbsd.LayoutsFor(abi.MustLookup(name)).Dirent
		off, ok := l.FlexOffset()
		require.True(t, ok)
		assert.Equal(t, 13, off, name)
		assert.Equal(t, 16, l.Size, "%s: sizeof includes no name", name)

		b, err := l.Encode(de)
		require.NoError(t, err, name)
		assert.Len(t, b, 13+5, "%s: fixed part plus the name", name)
		assert.Equal(t, "hello", string(b[13:]))

		// A record as getdents sends it: NUL and padding to reclen.
		rec := append(b, make([]byte, int(de.Reclen)-len(b))...)
		var got netbsd.Dirent
		require.NoError(t, l.Decode(rec, &got), name)
		assert.Equal(t, de, got, name)
	}
	// A short name still gets the whole fixed part.
	b, err := netbsd.LayoutsFor(abi.MustLookup("amd64")).Dirent.Encode(netbsd.Dirent{Name: "a"})
	require.NoError(t, err)
	assert.Len(t, b, 16)

	// A byte tail: COPYOUT's data after rsp_copydata.
	type copyout struct {
		Len  uint64 `abi:"rcp_len"`
		Addr uint64 `abi:"rcp_addr"`
		Data []byte `abi:"rcp_data"`
	}
	l := netbsd.LayoutsFor(abi.MustLookup("mips")).Copydata
	b, err = l.Encode(copyout{Len: 3, Addr: 0x7fff0000, Data: []byte("abc")})
	require.NoError(t, err)
	assert.Equal(t, []byte{0, 0, 0, 3, 0x7f, 0xff, 0, 0, 'a', 'b', 'c'}, b)
	var co copyout
	require.NoError(t, l.Decode(b, &co))
	assert.Equal(t, []byte("abc"), co.Data)
}

func TestEncodeMatchingAndKinds(t *testing.T) {
	amd64, arm64 := abi.MustLookup("amd64"), abi.MustLookup("arm64")
	st := abi.Struct("kinds", abi.F("c", abi.Char), abi.F("ok", abi.Int), abi.F("ratio", abi.Double),
		abi.F("name", abi.Array(abi.Char, 4)), abi.F("reg", abi.RegisterT))
	type kinds struct {
		C     int8
		OK    bool
		Ratio float64
		Name  string
		Reg   int64
	}
	l := abi.LayoutOf(amd64, st)
	b, err := l.Encode(&kinds{C: -1, OK: true, Ratio: 1.5, Name: "abcd", Reg: -3})
	require.NoError(t, err)
	var k kinds
	require.NoError(t, l.Decode(b, &k))
	assert.Equal(t, kinds{C: -1, OK: true, Ratio: 1.5, Name: "abcd", Reg: -3}, k)

	// Plain char and register_t are unsigned on arm64: the same bytes
	// read back as 255 and a huge register value.
	la := abi.LayoutOf(arm64, st)
	c, err := la.Int(b, "c")
	require.NoError(t, err)
	assert.Equal(t, int64(255), c)
	c, err = l.Int(b, "c")
	require.NoError(t, err)
	assert.Equal(t, int64(-1), c)
	var ku struct {
		C   uint8
		Reg uint64
	}
	require.NoError(t, la.Decode(b, &ku))
	assert.Equal(t, uint64(0xfffffffffffffffd), ku.Reg)

	_, err = l.Encode(struct{ Nope int }{1})
	require.Error(t, err, "a Go field matching no member")
	_, err = l.Encode(struct{ Name string }{"toolong"})
	var re *abi.RangeError
	require.ErrorAs(t, err, &re)
	_, err = l.Encode(struct{ Ratio string }{"x"})
	require.Error(t, err)
	var narrow struct{ C int8 }
	require.Error(t, la.Decode(b, &narrow), "unsigned char 255 overflows a Go int8")
	require.NoError(t, l.Decode(b, &narrow), "signed char -1 fits")
	assert.Equal(t, int8(-1), narrow.C)
	_, _, err = l.Field("nope")
	assert.True(t, errors.Is(err, abi.ErrNoField))
}
