package abi_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

func lseekArgs(name string) *abi.ArgsLayout {
	return netbsd.LayoutsFor(abi.MustLookup(name)).Args(netbsd.SYS_lseek)
}

func TestSyscallArgsEncodeFill(t *testing.T) {
	fd := uint64(0xffffffffffffffff) // -1
	off := uint64(0x0000000100000002)

	b, err := lseekArgs("mips").Encode(0xee, fd, off, 2)
	require.NoError(t, err)
	assert.Equal(t, []byte{
		0xff, 0xff, 0xff, 0xff, // fd
		0, 0, 0, 0, // PAD, zero
		0, 0, 0, 1, 0, 0, 0, 2, // offset
		0, 0, 0, 2, // whence
		0xee, 0xee, 0xee, 0xee, // tail padding to 8
	}, b)

	b, err = lseekArgs("sparc64").Encode(0xee, 3, off, 2)
	require.NoError(t, err)
	assert.Equal(t, []byte{
		0xee, 0xee, 0xee, 0xee, 0, 0, 0, 3,
		0xee, 0xee, 0xee, 0xee, 0, 0, 0, 0,
		0, 0, 0, 1, 0, 0, 0, 2,
		0xee, 0xee, 0xee, 0xee, 0, 0, 0, 2,
	}, b)

	b, err = lseekArgs("amd64").Encode(0xee, 3, off, 2)
	require.NoError(t, err)
	assert.Equal(t, []byte{
		3, 0, 0, 0, 0xee, 0xee, 0xee, 0xee,
		0, 0, 0, 0, 0xee, 0xee, 0xee, 0xee,
		2, 0, 0, 0, 1, 0, 0, 0,
		2, 0, 0, 0, 0xee, 0xee, 0xee, 0xee,
	}, b)

	b, err = lseekArgs("i386").Encode(0xee, 3, off, 2)
	require.NoError(t, err)
	assert.Len(t, b, 20)
	assert.NotContains(t, string(b), "\xee", "i386 lseek has no padding")

	a := lseekArgs("amd64")
	assert.Equal(t, 3, a.Values())
	assert.True(t, a.Slots[1].Pad())
	_, err = a.Encode(0, 1, 2)
	require.Error(t, err, "too few values")
	_, err = netbsd.LayoutsFor(abi.MustLookup("mips")).Args(netbsd.SYS_read).Encode(0, 3, 1<<32, 1)
	var re *abi.RangeError
	require.ErrorAs(t, err, &re, "a 64-bit pointer into a 4-byte slot")
	assert.Equal(t, "buf", re.Path)
	_, err = netbsd.LayoutsFor(abi.MustLookup("amd64")).Args(netbsd.SYS_fchmod).Encode(0, 3, 1<<32)
	require.ErrorAs(t, err, &re, "mode_t is 4 bytes even in an 8-byte slot")
	assert.Equal(t, "mode", re.Path)

	assert.Panics(t, func() {
		abi.SyscallArgs(abi.MustLookup("amd64"), abi.F("st", netbsd.TimespecType))
	})
}

func TestSyscallArgsDecodeIgnoresPadding(t *testing.T) {
	for _, d := range builtins {
		a := lseekArgs(d.Name)
		clean, err := a.Encode(0x00, 7, 0x123456789, 1)
		require.NoError(t, err)
		dirty, err := a.Encode(0xa5, 7, 0x123456789, 1)
		require.NoError(t, err)
		// Garbage in PAD's value too: it is never read.
		pad := a.Slots[1].Datum
		copy(dirty[pad.Offset:pad.Offset+pad.Size], bytes.Repeat([]byte{0x5a}, pad.Size))

		for _, b := range [][]byte{clean, dirty} {
			vals, missing := a.Decode(b)
			assert.Zero(t, missing, d.Name)
			assert.Equal(t, []uint64{7, 0x123456789, 1}, vals, d.Name)
		}

		// Signed int arguments sign-extend; unsigned ones do not.
		neg, err := a.Encode(0xa5, uint64(0xffffffffffffffff), 0, 0)
		require.NoError(t, err)
		vals, _ := a.Decode(neg)
		assert.Equal(t, uint64(0xffffffffffffffff), vals[0], d.Name)
		fchmod := netbsd.LayoutsFor(d).Args(netbsd.SYS_fchmod)
		m, err := fchmod.Encode(0xa5, 3, 0xffffffff)
		require.NoError(t, err)
		vals, _ = fchmod.Decode(m)
		assert.Equal(t, []uint64{3, 0xffffffff}, vals, d.Name)
	}
}

func TestSyscallArgsDecodeMissingBytes(t *testing.T) {
	a := lseekArgs("amd64")
	b, err := a.Encode(0, 3, 100, 2)
	require.NoError(t, err)
	vals, missing := a.Decode(b[:20])
	assert.Equal(t, 12, missing)
	assert.Equal(t, []uint64{3, 100, 0}, vals, "absent bytes read as zero")
	vals, missing = a.Decode(nil)
	assert.Equal(t, 32, missing)
	assert.Equal(t, []uint64{0, 0, 0}, vals)
	// Extra bytes after the struct are ignored, as the C server does.
	vals, missing = a.Decode(append(b, 1, 2, 3))
	assert.Zero(t, missing)
	assert.Equal(t, []uint64{3, 100, 2}, vals)

	m := lseekArgs("mips")
	b, err = m.Encode(0, 3, 100, 2)
	require.NoError(t, err)
	vals, missing = m.Decode(b[:16])
	assert.Equal(t, 8, missing)
	assert.Equal(t, []uint64{3, 100, 0}, vals)
}

func TestSyscallArgsNoArgs(t *testing.T) {
	a := abi.SyscallArgs(abi.MustLookup("amd64"))
	assert.Zero(t, a.Size)
	b, err := a.Encode(0xff)
	require.NoError(t, err)
	assert.Empty(t, b)
	assert.Nil(t, netbsd.LayoutsFor(abi.MustLookup("amd64")).Args(9999))
}

// AppendEncode and AppendDecode add to what dst holds, and add exactly
// what Encode and Decode return, on every ABI.
func TestSyscallArgsAppendKeepWhatIsThere(t *testing.T) {
	for _, d := range abi.All() {
		a := lseekArgs(d.Name)
		want, err := a.Encode(0xee, 3, 0x0000000100000002, 2)
		require.NoError(t, err)
		prefix := []byte("head")
		got, err := a.AppendEncode(append([]byte(nil), prefix...), 0xee, 3, 0x0000000100000002, 2)
		require.NoError(t, err)
		assert.Equal(t, append(prefix, want...), got, d.Name)

		got, err = a.AppendEncode(prefix, 0, 1, 2) // too few values
		require.Error(t, err)
		assert.Equal(t, prefix, got, "%s: a failed encoding left bytes behind", d.Name)

		vals, missing := a.Decode(want)
		more, missing2 := a.AppendDecode([]uint64{7}, want)
		assert.Equal(t, append([]uint64{7}, vals...), more, d.Name)
		assert.Equal(t, missing, missing2)
	}
}

// otherOrder is a byte order that is not one of encoding/binary's.
type otherOrder struct{ abi.ByteOrder }

// PutUint and Uint agree with the order they are given, encoding/binary's
// own (called directly) or any other (called through the interface).
func TestScalarsInEveryKindOfOrder(t *testing.T) {
	for _, o := range []abi.ByteOrder{abi.LittleEndian.ByteOrder(), abi.BigEndian.ByteOrder(),
		otherOrder{abi.LittleEndian.ByteOrder()}, otherOrder{abi.BigEndian.ByteOrder()}} {
		for _, size := range []int{1, 2, 4, 8} {
			v := uint64(0x0102030405060708) & (1<<(8*size) - 1)
			if size == 8 {
				v = 0x0102030405060708
			}
			b := bytes.Repeat([]byte{0xaa}, 10)
			abi.PutUint(o, b[1:], size, v)
			want := make([]byte, 8)
			o.PutUint64(want, v)
			if o.Uint16([]byte{1, 0}) != 1 { // big-endian: the low bytes are last
				want = want[8-size:]
			} else {
				want = want[:size]
			}
			assert.Equal(t, want, b[1:1+size], "%T size %d", o, size)
			assert.Equal(t, byte(0xaa), b[0])
			assert.Equal(t, byte(0xaa), b[1+size], "%T size %d wrote past its bytes", o, size)
			assert.Equal(t, v, abi.Uint(o, b[1:], size), "%T size %d", o, size)
		}
	}
	// An Endian stores the bytes its encoding/binary order would, and
	// nothing around them; a value that names no order is little-endian,
	// as its ByteOrder is.
	for _, e := range []abi.Endian{abi.LittleEndian, abi.BigEndian, "middle"} {
		o := e.ByteOrder()
		for _, size := range []int{1, 2, 4, 8} {
			v := uint64(0xf1f2f3f4f5f6f7f8) >> (64 - 8*size)
			got := bytes.Repeat([]byte{0xaa}, 10)
			e.PutUint(got[1:], size, v)
			full := make([]byte, 8)
			o.PutUint64(full, v)
			want := full[:size]
			if e == abi.BigEndian {
				want = full[8-size:]
			}
			assert.Equal(t, want, got[1:1+size], "%s size %d", e, size)
			assert.Equal(t, []byte{0xaa}, got[:1], "%s size %d wrote before its bytes", e, size)
			assert.Equal(t, []byte{0xaa}, got[1+size:2+size], "%s size %d wrote past its bytes", e, size)
			assert.Equal(t, v, e.Uint(got[1:], size), "%s size %d", e, size)
		}
	}
}
