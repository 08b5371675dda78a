package abi_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/internal/golden"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

// gval returns a number the ABI's compiler measured.
func gval(t *testing.T, abiName, key string) int {
	t.Helper()
	m := goldenFile(t, abiName).Map()
	v, ok := m[key]
	require.True(t, ok, "golden file %s has no %q", abiName, key)
	return int(v)
}

// both asserts that the engine and the compiler agree on want.
func both(t *testing.T, abiName, key string, want, engine int) {
	t.Helper()
	assert.Equal(t, want, engine, "%s %s: engine", abiName, key)
	assert.Equal(t, want, gval(t, abiName, key), "%s %s: compiler", abiName, key)
}

var (
	lp64     = []string{"amd64", "arm64", "aarch64eb", "sparc64", "riscv64"}
	ilp32a8  = []string{"arm", "mips", "powerpc"} // 32-bit, int64 aligned 8
	trapIntL = golden.Traps[0]                    // struct { int i; long long ll; }
)

// i386 places 64-bit integers and doubles at 4-byte boundaries inside
// structs (although __alignof__ says 8); ARM EABI places them at 8.
func TestTrapI386Int64AlignIs4VsArmEABI8(t *testing.T) {
	i386, arm := abi.MustLookup("i386"), abi.MustLookup("arm")
	for _, ty := range []*abi.Type{abi.LongLong, abi.Int64, abi.Uint64, abi.Double, netbsd.OffT} {
		both(t, "i386", golden.AlignOf(ty.Name()), 4, abi.LayoutOf(i386, ty).Align)
		both(t, "arm", golden.AlignOf(ty.Name()), 8, abi.LayoutOf(arm, ty).Align)
	}
	// The trap itself: GCC's __alignof__ is the preferred alignment, 8 on
	// both, which is why alignment is measured with offsetof.
	assert.Equal(t, 8, gval(t, "i386", golden.GNUAlignOf("long long")))
	assert.Equal(t, 8, gval(t, "arm", golden.GNUAlignOf("long long")))

	n := trapIntL.Name()
	li, la := abi.LayoutOf(i386, trapIntL), abi.LayoutOf(arm, trapIntL)
	both(t, "i386", golden.SizeOf(n), 12, li.Size)
	both(t, "i386", golden.OffsetOf(n, "ll"), 4, li.Offset("ll"))
	both(t, "i386", golden.AlignOf(n), 4, li.Align)
	both(t, "arm", golden.SizeOf(n), 16, la.Size)
	both(t, "arm", golden.OffsetOf(n, "ll"), 8, la.Offset("ll"))
	both(t, "arm", golden.AlignOf(n), 8, la.Align)
	for _, name := range []string{"mips", "powerpc"} {
		l := abi.LayoutOf(abi.MustLookup(name), trapIntL)
		both(t, name, golden.SizeOf(n), 16, l.Size)
	}
}

// struct timespec is 12 bytes on i386 and 16 everywhere else.
func TestTrapTimespec12Vs16(t *testing.T) {
	n := netbsd.TimespecType.Name()
	l := netbsd.LayoutsFor(abi.MustLookup("i386")).Timespec
	both(t, "i386", golden.SizeOf(n), 12, l.Size)
	both(t, "i386", golden.OffsetOf(n, "tv_nsec"), 8, l.Offset("tv_nsec"))
	assert.Empty(t, l.Padding())
	for _, name := range ilp32a8 {
		l := netbsd.LayoutsFor(abi.MustLookup(name)).Timespec
		both(t, name, golden.SizeOf(n), 16, l.Size)
		both(t, name, golden.OffsetOf(n, "tv_nsec"), 8, l.Offset("tv_nsec"))
		both(t, name, golden.MemberSize(n, "tv_nsec"), 4, mustField(t, l, "tv_nsec").Size)
		assert.Equal(t, []abi.Range{{Offset: 12, Size: 4}}, l.Padding(), name)
	}
	for _, name := range lp64 {
		l := netbsd.LayoutsFor(abi.MustLookup(name)).Timespec
		both(t, name, golden.SizeOf(n), 16, l.Size)
		both(t, name, golden.MemberSize(n, "tv_nsec"), 8, mustField(t, l, "tv_nsec").Size)
	}
}

func mustField(t *testing.T, l *abi.Layout, path string) *abi.Layout {
	t.Helper()
	_, fl, err := l.Field(path)
	require.NoError(t, err)
	return fl
}

// struct stat is 124 bytes on i386 and 152 on every other ABI; the
// offsets are the table in sysproxy.md section 7.
func TestTrapStat124Vs152(t *testing.T) {
	fields := []string{"st_dev", "st_mode", "st_ino", "st_nlink", "st_uid", "st_gid", "st_rdev",
		"st_atim", "st_mtim", "st_ctim", "st_birthtim", "st_size", "st_blocks", "st_blksize",
		"st_flags", "st_gen", "st_spare"}
	wide := []int{0, 8, 16, 24, 28, 32, 40, 48, 64, 80, 96, 112, 120, 128, 132, 136, 140}
	i386 := []int{0, 8, 12, 20, 24, 28, 32, 40, 52, 64, 76, 88, 96, 104, 108, 112, 116}
	n := netbsd.StatType.Name()
	check := func(name string, size int, offs []int) {
		l := netbsd.LayoutsFor(abi.MustLookup(name)).Stat
		both(t, name, golden.SizeOf(n), size, l.Size)
		for i, f := range fields {
			path := f
			if f == "st_atim" || f == "st_mtim" || f == "st_ctim" || f == "st_birthtim" {
				path = f + ".tv_sec" // golden files record leaves
			}
			both(t, name, golden.OffsetOf(n, path), offs[i], l.Offset(f))
		}
		both(t, name, golden.OffsetOf(n, "st_atim.tv_nsec"), offs[7]+8, l.Offset("st_atim.tv_nsec"))
	}
	check("i386", 124, i386)
	for _, name := range append(append([]string(nil), lp64...), ilp32a8...) {
		check(name, 152, wide)
	}
}

// lseek(fd, PAD, offset, whence): 20 bytes on i386, 24 on the 32-bit ABIs
// that align off_t to 8, 32 on LP64; sysproxy.md section 6 has the rest
// of the table.
func TestTrapLseekArgs20Vs24(t *testing.T) {
	type row struct {
		sc   netbsd.Sysno
		offs []int // nil: only the size is tabled
		size int
	}
	table := map[string][]row{
		"lp64": {
			{netbsd.SYS_read, []int{0, 8, 16}, 24}, {netbsd.SYS_write, []int{0, 8, 16}, 24},
			{netbsd.SYS_lseek, []int{0, 8, 16, 24}, 32},
			{netbsd.SYS_pread, []int{0, 8, 16, 24, 32}, 40}, {netbsd.SYS_pwrite, []int{0, 8, 16, 24, 32}, 40},
			{netbsd.SYS_mmap, []int{0, 8, 16, 24, 32, 40, 48}, 56},
			{netbsd.SYS_open, nil, 24}, {netbsd.SYS_mkdir, nil, 16}, {netbsd.SYS___sysctl, nil, 48},
		},
		"i386": {
			{netbsd.SYS_read, []int{0, 4, 8}, 12}, {netbsd.SYS_lseek, []int{0, 4, 8, 16}, 20},
			{netbsd.SYS_pread, []int{0, 4, 8, 12, 16}, 24},
			{netbsd.SYS_mmap, []int{0, 4, 8, 12, 16, 20, 24}, 32},
			{netbsd.SYS_open, nil, 12}, {netbsd.SYS_mkdir, nil, 8}, {netbsd.SYS___sysctl, nil, 24},
		},
		"ilp32a8": {
			{netbsd.SYS_read, []int{0, 4, 8}, 12}, {netbsd.SYS_lseek, []int{0, 4, 8, 16}, 24},
			{netbsd.SYS_pread, []int{0, 4, 8, 12, 16}, 24},
			{netbsd.SYS_mmap, []int{0, 4, 8, 12, 16, 20, 24}, 32},
			{netbsd.SYS_open, nil, 12}, {netbsd.SYS_mkdir, nil, 8}, {netbsd.SYS___sysctl, nil, 24},
		},
	}
	groups := map[string][]string{"lp64": lp64, "i386": {"i386"}, "ilp32a8": ilp32a8}
	for g, names := range groups {
		for _, name := range names {
			lays := netbsd.LayoutsFor(abi.MustLookup(name))
			for _, r := range table[g] {
				sc := netbsd.Lookup(r.sc)
				a := lays.Args(r.sc)
				args := golden.ArgsName(sc)
				both(t, name, golden.SizeOf(args), r.size, a.Size)
				if r.offs == nil {
					continue
				}
				require.Len(t, a.Slots, len(r.offs), "%s %s", name, sc.Name)
				for i, s := range a.Slots {
					both(t, name, golden.OffsetOf(args, s.Name), r.offs[i], s.Offset)
				}
			}
		}
	}
	// The trap in one line: same offsets, different size.
	assert.Equal(t, 20, netbsd.LayoutsFor(abi.MustLookup("i386")).Args(netbsd.SYS_lseek).Size)
	assert.Equal(t, 24, netbsd.LayoutsFor(abi.MustLookup("arm")).Args(netbsd.SYS_lseek).Size)
}

// On big-endian machines an argument narrower than register_t sits at the
// end of its slot: on sparc64 (and aarch64eb) an int argument's value is
// at slot offset +4. mips and powerpc have 4-byte slots, which an int
// fills exactly; their off_t takes an 8-byte slot of its own.
func TestTrapBigEndianDatumAtEndOfSlot(t *testing.T) {
	read := golden.ArgsName(netbsd.Lookup(netbsd.SYS_read))
	lseek := golden.ArgsName(netbsd.Lookup(netbsd.SYS_lseek))
	slot := func(d *abi.Descriptor, n netbsd.Sysno, i int) abi.Slot {
		return netbsd.LayoutsFor(d).Args(n).Slots[i]
	}

	for _, name := range []string{"sparc64", "aarch64eb"} {
		d := abi.MustLookup(name)
		fd := slot(d, netbsd.SYS_read, 0)
		both(t, name, golden.OffsetOf(read, "fd"), 0, fd.Offset)
		both(t, name, golden.MemberSize(read, "fd"), 8, fd.Size)
		both(t, name, golden.DatumOf(read, "fd"), 4, fd.Datum.Offset)
		both(t, name, golden.DatumSize(read, "fd"), 4, fd.Datum.Size)
		nbyte := slot(d, netbsd.SYS_read, 2) // size_t fills its slot
		both(t, name, golden.DatumOf(read, "nbyte"), 16, nbyte.Datum.Offset)
		whence := slot(d, netbsd.SYS_lseek, 3)
		both(t, name, golden.OffsetOf(lseek, "whence"), 24, whence.Offset)
		both(t, name, golden.DatumOf(lseek, "whence"), 28, whence.Datum.Offset)

		// And the bytes: the value is in the last four bytes of the slot.
		b, err := netbsd.LayoutsFor(d).Args(netbsd.SYS_read).Encode(0xee, 3, 0x1000, 64)
		require.NoError(t, err)
		assert.Equal(t, []byte{0xee, 0xee, 0xee, 0xee, 0, 0, 0, 3}, b[:8], name)
	}
	for _, name := range []string{"amd64", "arm64", "riscv64"} {
		fd := slot(abi.MustLookup(name), netbsd.SYS_read, 0)
		both(t, name, golden.DatumOf(read, "fd"), 0, fd.Datum.Offset)
	}
	for _, name := range []string{"mips", "powerpc"} {
		d := abi.MustLookup(name)
		fd := slot(d, netbsd.SYS_read, 0)
		both(t, name, golden.MemberSize(read, "fd"), 4, fd.Size)
		both(t, name, golden.DatumOf(read, "fd"), 0, fd.Datum.Offset)
		both(t, name, golden.DatumOf(read, "buf"), 4, slot(d, netbsd.SYS_read, 1).Datum.Offset)
		off := slot(d, netbsd.SYS_lseek, 2)
		both(t, name, golden.MemberSize(lseek, "offset"), 8, off.Size)
		both(t, name, golden.DatumOf(lseek, "offset"), 8, off.Datum.Offset)
		both(t, name, golden.DatumOf(lseek, "whence"), 16, slot(d, netbsd.SYS_lseek, 3).Datum.Offset)
	}
}
