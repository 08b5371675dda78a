package xlate_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp/internal/xlate"
	"github.com/rumpsprig/sprig/sp/sptest"
)

// Window bounds as the package documents them.
const (
	winBase  = 0x0001_0000
	winLimit = 0xffff_0000
)

// fixture is one client's session against one server ABI, with the
// client's memory where a real process of its kind would have it.
type fixture struct {
	t    *testing.T
	c, s *abi.Descriptor
	sess *xlate.Session
	mem  *sptest.Memory
	view xlate.Memory
	ctx  context.Context
}

func newFixture(t *testing.T, client, server string) *fixture {
	c, s := abi.MustLookup(client), abi.MustLookup(server)
	base := uint64(0x0001_0000)
	if c.LP64() {
		base = 0x7ffe_bda2_e000
	}
	f := &fixture{t: t, c: c, s: s, mem: sptest.NewMemory(base, 64<<10), ctx: context.Background()}
	f.sess = xlate.NewSession(xlate.NewPair(c, s), xlate.DefaultConfig())
	f.view = f.sess.View(f.mem)
	return f
}

func (f *fixture) begin(num netbsd.Sysno, args ...uint64) (*xlate.Call, []uint64) {
	f.t.Helper()
	call, wire, err := f.sess.Begin(f.ctx, f.mem, num, args)
	require.NoError(f.t, err, "%s %s→%s", num, f.c.Name, f.s.Name)
	return call, wire
}

// put lays v out as C type t in d's layout.
func put(t *testing.T, d *abi.Descriptor, ty *abi.Type, v any) []byte {
	t.Helper()
	b, err := abi.LayoutOf(d, ty).Encode(v)
	require.NoError(t, err)
	return b
}

func pairs() [][2]*abi.Descriptor {
	var out [][2]*abi.Descriptor
	for _, c := range abi.All() {
		for _, s := range abi.All() {
			out = append(out, [2]*abi.Descriptor{c, s})
		}
	}
	return out
}

// sample gives each argument of sc a value a client could pass, and the
// memory its pointers point at.
func sample(f *fixture, sc *netbsd.Syscall) []uint64 {
	var vals []uint64
	pts := sc.Pointees()
	for i, a := range sc.Args {
		if a.Type == abi.Pad {
			continue
		}
		pt := pts[i]
		var v uint64
		switch {
		case sc.Num == netbsd.SYS___sysctl && a.Name == "name":
			v = f.mem.Alloc(8, cints(f.c, netbsd.CTL_HW, netbsd.HW_PAGESIZE))
		case sc.Num == netbsd.SYS___sysctl && a.Name == "namelen":
			v = 2
		case sc.Num == netbsd.SYS___sysctl && a.Name == "oldlenp":
			v = f.mem.Alloc(8, sizeT(f.c, 4))
		case sc.Num == netbsd.SYS___sysctl && a.Name == "newlen":
			v = 4
		case sc.Num == netbsd.SYS_ioctl && a.Name == "com":
			com, _ := ioctlCmd("FIONREAD").Com(f.c)
			v = uint64(com)
		case sc.Num == netbsd.SYS_fcntl && a.Name == "cmd":
			v = netbsd.F_SETFL
		case sc.Num == netbsd.SYS_fcntl && a.Name == "arg":
			v = netbsd.O_NONBLOCK
		case sc.Num == netbsd.SYS___mount50 && a.Name == "type":
			v = f.mem.AllocString(netbsd.MOUNT_TMPFS) // the file system decides what data points at
		case sc.Num == netbsd.SYS___mount50 && a.Name == "data_len":
			v = uint64(netbsd.LayoutsFor(f.c).TmpfsArgs.Size)
		case pt.Points == netbsd.PointsAddress:
			v = 0x2000 // an address that fits every ABI
		case pt.Points != netbsd.PointsNone:
			v = f.mem.Alloc(256, nil)
		case a.Type.Name() == "off_t":
			v = 5<<30 + 3 // needs all 64 bits
		case a.Type.Base() == abi.BaseSizeT:
			v = 64
		case a.Type.Signed(f.c):
			v = uint64(0xffff_ffff_ffff_fffe) // -2, sign-extended
		default:
			v = 7
		}
		vals = append(vals, v)
	}
	return vals
}

func ioctlCmd(name string) netbsd.IoctlCmd {
	for _, c := range netbsd.IoctlCmds() {
		if c.Name == name {
			return c
		}
	}
	panic(name)
}

func cints(d *abi.Descriptor, vs ...int32) []byte {
	b := make([]byte, 4*len(vs))
	for i, v := range vs {
		d.ByteOrder().PutUint32(b[4*i:], uint32(v))
	}
	return b
}

func sizeT(d *abi.Descriptor, v uint64) []byte {
	b := make([]byte, d.SizeT.Size)
	abi.PutUint(d.ByteOrder(), b, d.SizeT.Size, v)
	return b
}

// TestEveryArgumentStructCrossesEveryPair sends every described
// syscall's argument struct from every ABI to every ABI the way the proxy
// does (client bytes with garbage in the slot padding, decoded, planned,
// re-encoded in the server's layout) and reads the server's bytes back in
// the server's layout: values survive (64-bit offsets whole, signed ones
// sign-extended), PAD slots are zero, and pointers are the client's own
// addresses, or windows in 32-bit space at the same page offset when the
// server's pointers are narrower.
func TestEveryArgumentStructCrossesEveryPair(t *testing.T) {
	for _, p := range pairs() {
		for _, sc := range netbsd.Syscalls() {
			if len(sc.Args) == 0 {
				continue
			}
			t.Run(fmt.Sprintf("%s→%s/%s", p[0].Name, p[1].Name, sc.Name), func(t *testing.T) {
				f := newFixture(t, p[0].Name, p[1].Name)
				vals := sample(f, sc)
				ca, sa := netbsd.LayoutsFor(f.c).Args(sc.Num), netbsd.LayoutsFor(f.s).Args(sc.Num)
				cb, err := ca.Encode(0xa5, vals...) // old stubs left garbage in padding
				require.NoError(t, err)
				decoded, missing := ca.Decode(cb)
				require.Zero(t, missing)
				call, wire := f.begin(sc.Num, decoded...)
				sb, err := sa.Encode(0, wire...)
				require.NoError(t, err)
				got, _ := sa.Decode(sb)

				pts := sc.Pointees()
				vi := 0
				for i, a := range sc.Args {
					if a.Type == abi.Pad {
						slot := sa.Slots[i]
						assert.Equal(t, make([]byte, slot.Size), sb[slot.Offset:slot.Offset+slot.Size], "PAD slot is zero")
						continue
					}
					want, v := vals[vi], got[vi]
					vi++
					switch pt := pts[i]; {
					case sc.Num == netbsd.SYS_ioctl && a.Name == "com":
						com, _ := ioctlCmd("FIONREAD").Com(f.s)
						assert.Equal(t, uint64(com), v, "the command word on the server's ABI")
					case sc.Num == netbsd.SYS___mount50 && a.Name == "data_len":
						assert.Equal(t, uint64(netbsd.LayoutsFor(f.s).TmpfsArgs.Size), v, "the length of the server's struct tmpfs_args")
					case pt.Points == netbsd.PointsNone || pt.Points == netbsd.PointsAddress ||
						(pt.Points == netbsd.PointsDepends && sc.Num == netbsd.SYS_fcntl):
						assert.Equal(t, want, v, "value %s", a.Name)
					case f.c.Pointer.Size > f.s.Pointer.Size:
						assert.GreaterOrEqual(t, v, uint64(winBase), "%s is a window", a.Name)
						assert.Less(t, v, uint64(winLimit), "%s is a window", a.Name)
						assert.Equal(t, want%4096, v%4096, "%s keeps its page offset", a.Name)
					default:
						assert.Equal(t, want, v, "pointer %s is the client's own", a.Name)
					}
				}
				call.End(0, [2]uint64{})
				assert.Zero(t, f.sess.Windows(), "windows are freed when the call ends")
				assert.Zero(t, f.sess.Regions(), "regions are forgotten when the call ends")
			})
		}
	}
}

// The layouts are the abi package's, checked against compilers; these
// bytes are worked out by hand from the fact sheet's table, so the test
// above does not only agree with itself.
func TestArgumentBytesMatchTheFactSheet(t *testing.T) {
	for _, tc := range []struct {
		name           string
		client, server string
		num            netbsd.Sysno
		args           []uint64
		want           []byte
	}{
		{"lseek from amd64 to i386: PAD at 4, offset at 8, whence at 16", "amd64", "i386", netbsd.SYS_lseek,
			[]uint64{3, 5<<30 + 7, 2},
			[]byte{3, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0x40, 1, 0, 0, 0, 2, 0, 0, 0}},
		{"lseek from i386 to mips: big-endian, offset 8-aligned at 8, 24 bytes", "i386", "mips", netbsd.SYS_lseek,
			[]uint64{3, 5<<30 + 7, 2},
			[]byte{0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0x40, 0, 0, 7, 0, 0, 0, 2, 0, 0, 0, 0}},
		{"close from mips to sparc64: the int at the end of its 8-byte slot", "mips", "sparc64", netbsd.SYS_close,
			[]uint64{0xffff_ffff_ffff_ffff},
			[]byte{0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}},
		{"close from sparc64 to i386: -1 stays -1", "sparc64", "i386", netbsd.SYS_close,
			[]uint64{0xffff_ffff_ffff_ffff},
			[]byte{0xff, 0xff, 0xff, 0xff}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.client, tc.server)
			_, wire := f.begin(tc.num, tc.args...)
			b, err := netbsd.LayoutsFor(f.s).Args(tc.num).Encode(0, wire...)
			require.NoError(t, err)
			assert.Equal(t, tc.want, b)
		})
	}
}

// TestTypedDataCrossesEveryPairBothWays moves every kind of typed datum
// the syscall table describes through the server's view of the client's
// memory: a COPYOUT in the server's layout lands in the client's layout,
// and a COPYIN of the client's layout reaches the server in its own.
func TestTypedDataCrossesEveryPairBothWays(t *testing.T) {
	st := netbsd.Stat{Dev: 0x0102030405060708, Mode: netbsd.S_IFREG | 0o644, Ino: 1 << 40, Nlink: 3, UID: 1000, GID: 100,
		Rdev: netbsd.NODEV, Atim: netbsd.Timespec{Sec: -5, Nsec: 999_999_999}, Mtim: netbsd.Timespec{Sec: 1 << 33, Nsec: 1},
		Size: 5<<30 + 1, Blocks: 77, Blksize: 4096, Flags: 2, Gen: 9}
	type datum struct {
		name string
		num  netbsd.Sysno
		arg  string // the pointer argument the copy goes to
		// set prepares the other arguments; nil leaves sample's
		set func(f *fixture, args []uint64)
		// server bytes, and what the client must hold
		server func(f *fixture) []byte
		client func(f *fixture) []byte
	}
	data := []datum{
		{name: "struct stat", num: netbsd.SYS___fstat50, arg: "sb",
			server: func(f *fixture) []byte { return put(f.t, f.s, netbsd.StatType, st) },
			client: func(f *fixture) []byte { return put(f.t, f.c, netbsd.StatType, st) }},
		{name: "pipe2's int[2]", num: netbsd.SYS_pipe2, arg: "fildes",
			server: func(f *fixture) []byte { return cints(f.s, 3, -4) },
			client: func(f *fixture) []byte { return cints(f.c, 3, -4) }},
		{name: "sysctl hw.pagesize", num: netbsd.SYS___sysctl, arg: "oldv",
			server: func(f *fixture) []byte { return cints(f.s, 4096) },
			client: func(f *fixture) []byte { return cints(f.c, 4096) }},
		{name: "sysctl name", num: netbsd.SYS___sysctl, arg: "name",
			server: func(f *fixture) []byte { return cints(f.s, netbsd.CTL_HW, netbsd.HW_PAGESIZE) },
			client: func(f *fixture) []byte { return cints(f.c, netbsd.CTL_HW, netbsd.HW_PAGESIZE) }},
		{name: "size_t at oldlenp", num: netbsd.SYS___sysctl, arg: "oldlenp",
			server: func(f *fixture) []byte { return sizeT(f.s, 4) },
			client: func(f *fixture) []byte { return sizeT(f.c, 4) }},
		{name: "sysctl kern.ostype, a string", num: netbsd.SYS___sysctl, arg: "oldv",
			set: func(f *fixture, args []uint64) {
				args[0] = f.mem.Alloc(8, cints(f.c, netbsd.CTL_KERN, netbsd.KERN_OSTYPE))
				args[3] = f.mem.Alloc(8, sizeT(f.c, 16)) // *oldlenp: the buffer's size
			},
			server: func(f *fixture) []byte { return []byte("NetBSD\x00") },
			client: func(f *fixture) []byte { return []byte("NetBSD\x00") }},
		{name: "sysctl hw.physmem64, an int64", num: netbsd.SYS___sysctl, arg: "oldv",
			set: func(f *fixture, args []uint64) {
				args[0] = f.mem.Alloc(8, cints(f.c, netbsd.CTL_HW, 13))
				args[3] = f.mem.Alloc(8, sizeT(f.c, 8))
			},
			server: func(f *fixture) []byte { return put(f.t, f.s, abi.Int64, int64(6<<30)) },
			client: func(f *fixture) []byte { return put(f.t, f.c, abi.Int64, int64(6<<30)) }},
		{name: "FIONREAD's int", num: netbsd.SYS_ioctl, arg: "data",
			server: func(f *fixture) []byte { return cints(f.s, 123456) },
			client: func(f *fixture) []byte { return cints(f.c, 123456) }},
		{name: "bytes of read", num: netbsd.SYS_read, arg: "buf",
			server: func(f *fixture) []byte { return []byte("\x01\x02\x03\x04 raw") },
			client: func(f *fixture) []byte { return []byte("\x01\x02\x03\x04 raw") }},
	}
	for _, p := range pairs() {
		for _, d := range data {
			t.Run(fmt.Sprintf("%s→%s/%s", p[0].Name, p[1].Name, d.name), func(t *testing.T) {
				sc := netbsd.Lookup(d.num)
				for _, dir := range []string{"out", "in"} {
					f := newFixture(t, p[0].Name, p[1].Name)
					args := sample(f, sc)
					if d.set != nil {
						d.set(f, args)
					}
					_, wire := f.begin(d.num, args...)
					ai := argIndex(sc, d.arg)
					clientAddr, serverAddr := args[ai], wire[ai]
					if dir == "out" {
						require.NoError(t, f.view.CopyOut(f.ctx, serverAddr, d.server(f)))
						want := d.client(f)
						assert.Equal(t, want, f.mem.Read(clientAddr, len(want)), "COPYOUT lands in the client's layout")
					} else {
						cb := d.client(f)
						require.NoError(t, f.mem.CopyOut(f.ctx, clientAddr, cb))
						want := d.server(f)
						got, err := f.view.CopyIn(f.ctx, serverAddr, len(want))
						require.NoError(t, err)
						assert.Equal(t, want, got, "COPYIN reaches the server in its layout")
					}
				}
			})
		}
	}
}

func argIndex(sc *netbsd.Syscall, name string) int {
	vi := 0
	for _, a := range sc.Args {
		if a.Type == abi.Pad {
			continue
		}
		if a.Name == name {
			return vi
		}
		vi++
	}
	panic(name)
}

// dirent builds __getdents30 records in d's layout.
func dirents(d *abi.Descriptor, names ...string) []byte {
	l := netbsd.LayoutsFor(d).Dirent
	var out []byte
	for i, n := range names {
		reclen := (13 + len(n) + 1 + 7) &^ 7
		b := make([]byte, reclen)
		l.PutUint(b, "d_fileno", uint64(1000+i)<<20)
		l.PutUint(b, "d_reclen", uint64(reclen))
		l.PutUint(b, "d_namlen", uint64(len(n)))
		l.PutUint(b, "d_type", netbsd.DT_REG)
		copy(b[13:], n)
		out = append(out, b...)
	}
	return out
}

func TestDirentsCrossEveryPair(t *testing.T) {
	for _, p := range pairs() {
		t.Run(p[0].Name+"→"+p[1].Name, func(t *testing.T) {
			f := newFixture(t, p[0].Name, p[1].Name)
			buf := f.mem.Alloc(1024, nil)
			_, wire := f.begin(netbsd.SYS___getdents30, 3, buf, 1024)
			require.NoError(t, f.view.CopyOut(f.ctx, wire[1], dirents(f.s, ".", "..", "a-long-file-name")))
			want := dirents(f.c, ".", "..", "a-long-file-name")
			assert.Equal(t, want, f.mem.Read(buf, len(want)))
		})
	}
}

// TestResultsCrossEveryPair checks rsp_sysresp's words: an off_t split
// over two 32-bit words or joined from them, two-value results, ints
// sign-extended to a wider register.
func TestResultsCrossEveryPair(t *testing.T) {
	for _, p := range pairs() {
		t.Run(p[0].Name+"→"+p[1].Name, func(t *testing.T) {
			f := newFixture(t, p[0].Name, p[1].Name)
			const off = 5<<30 + 7
			call, _ := f.begin(netbsd.SYS_lseek, 3, off, netbsd.SEEK_SET)
			e, rv := call.End(0, xlate.SplitOff(f.s, off))
			assert.Zero(t, e)
			assert.Equal(t, uint64(off), xlate.JoinOff(f.c, rv), "lseek's off_t")
			assert.Equal(t, xlate.SplitOff(f.c, off), rv)

			call, _ = f.begin(netbsd.SYS_getpid)
			_, rv = call.End(0, [2]uint64{42, 1})
			assert.Equal(t, [2]uint64{42, 1}, rv, "getpid's two values")

			call, _ = f.begin(netbsd.SYS_fcntl, 3, 5, 0) // F_GETOWN: a negative process group
			neg := uint64(0xffff_fff0)
			if f.s.RegisterT.Size == 8 {
				neg = 0xffff_ffff_ffff_fff0
			}
			e, rv = call.End(0, [2]uint64{neg, 0})
			assert.Zero(t, e)
			want := uint64(0xffff_fff0)
			if f.c.RegisterT.Size == 8 {
				want = 0xffff_ffff_ffff_fff0
			}
			if f.s.RegisterT.Size < 8 && !f.s.RegisterTSigned && f.c.RegisterT.Size == 8 {
				want = 0xffff_fff0 // an unsigned 32-bit register_t zero-extends
			}
			assert.Equal(t, want, rv[0], "-16 in the client's register_t")

			call, _ = f.begin(netbsd.SYS_read, 3, f.mem.Alloc(8, nil), 8)
			e, rv = call.End(netbsd.EBADF, [2]uint64{})
			assert.Equal(t, netbsd.EBADF, e, "errno values are the same on every ABI")
		})
	}
}

// TestHighClientMemoryGetsWindowsOnNarrowServers is the reason windows
// exist: a 64-bit client's addresses above 4 GiB, a 32-bit server.
func TestHighClientMemoryGetsWindowsOnNarrowServers(t *testing.T) {
	f := newFixture(t, "amd64", "i386")
	require.True(t, f.sess.Pair().Narrow())
	path := f.mem.AllocString("/tmp/x")
	buf := f.mem.Alloc(4096, nil)
	require.Greater(t, buf, uint64(1)<<32)

	c1, w1 := f.begin(netbsd.SYS_readlink, path, buf, 4096)
	c2, w2 := f.begin(netbsd.SYS_read, 3, buf, 4096) // the same buffer, another call
	assert.NotEqual(t, w1[1], w2[1], "each call gets its own window")
	assert.Equal(t, 3, f.sess.Windows())

	require.NoError(t, f.view.CopyOut(f.ctx, w2[1]+100, []byte("via the second window")))
	assert.Equal(t, "via the second window", string(f.mem.Read(buf+100, 21)), "an offset inside a window maps to the same offset")
	s, err := f.view.CopyInStr(f.ctx, w1[0], 1024)
	require.NoError(t, err)
	assert.Equal(t, "/tmp/x", s)

	_, err = f.view.CopyIn(f.ctx, w2[1]+4090, 100)
	assert.ErrorIs(t, err, netbsd.EFAULT, "a copy past a window's end faults")
	_, err = f.view.CopyIn(f.ctx, 0x7000_0000, 4)
	assert.ErrorIs(t, err, netbsd.EFAULT, "an address no window holds faults")

	c1.End(0, [2]uint64{})
	c2.End(0, [2]uint64{})
	assert.Zero(t, f.sess.Windows())
	_, err = f.view.CopyIn(f.ctx, w2[1], 4)
	assert.ErrorIs(t, err, netbsd.EFAULT, "a freed window faults")
}

func TestWindowsRunOutAndComeBack(t *testing.T) {
	f := newFixture(t, "arm64", "mips")
	buf := f.mem.Alloc(16, nil)
	var calls []*xlate.Call
	for {
		// 256 MiB windows (the most one buffer gets): 15 fit in 4 GiB.
		call, _, err := f.sess.Begin(f.ctx, f.mem, netbsd.SYS_read, []uint64{3, buf, 1 << 30})
		if err != nil {
			assert.ErrorIs(t, err, netbsd.ENOMEM)
			assert.NotNil(t, xlate.IsRefusal(err))
			break
		}
		calls = append(calls, call)
		require.Less(t, len(calls), 100)
	}
	assert.Len(t, calls, 15)
	calls[3].End(0, [2]uint64{})
	_, _, err := f.sess.Begin(f.ctx, f.mem, netbsd.SYS_read, []uint64{3, buf, 1 << 30})
	assert.NoError(t, err, "a freed window is reused")
}

func TestAnonMmapGetsAWindowUntilMunmap(t *testing.T) {
	f := newFixture(t, "sparc64", "arm")
	call, _ := f.begin(netbsd.SYS_mmap, 0, 8192, netbsd.PROT_READ|netbsd.PROT_WRITE, netbsd.MAP_ANON|netbsd.MAP_PRIVATE, uint64(0xffff_ffff_ffff_ffff), 0)
	w, err := f.view.AnonMmap(f.ctx, 8192)
	require.NoError(t, err)
	assert.Less(t, w, uint64(winLimit), "the server gets a 32-bit address")
	_, rv := call.End(0, [2]uint64{w})
	addr := rv[0]
	assert.Greater(t, addr, uint64(1)<<32, "the client gets its own address back")
	require.NoError(t, f.view.CopyOut(f.ctx, w+16, []byte("mapped")))
	assert.Equal(t, "mapped", string(f.mem.Read(addr+16, 6)))

	// munmap names the client's address; the server sees the window's.
	call, wire := f.begin(netbsd.SYS_munmap, addr, 8192)
	assert.Equal(t, w, wire[0])
	call.End(0, [2]uint64{})
	assert.Zero(t, f.sess.Windows(), "munmap drops the mapping's window")
}

// TestRefusals: what cannot be translated is refused with an errno the
// client understands, never forwarded mangled.
func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name           string
		client, server string
		num            netbsd.Sysno
		args           func(f *fixture) []uint64
		errno          netbsd.Errno // 0: not refused
	}{
		{"a syscall sprig does not describe", "i386", "amd64", 9999, func(*fixture) []uint64 { return nil }, netbsd.ENOSYS},
		{"a sysctl node whose type is unknown", "i386", "mips", netbsd.SYS___sysctl, func(f *fixture) []uint64 {
			return []uint64{f.mem.Alloc(8, cints(f.c, netbsd.CTL_KERN, 99)), 2, f.mem.Alloc(8, nil), f.mem.Alloc(8, sizeT(f.c, 4)), 0, 0}
		}, netbsd.ENOSYS},
		{"an unknown sysctl node asked only for its size", "i386", "mips", netbsd.SYS___sysctl, func(f *fixture) []uint64 {
			return []uint64{f.mem.Alloc(8, cints(f.c, netbsd.CTL_KERN, 99)), 2, 0, f.mem.Alloc(8, sizeT(f.c, 4)), 0, 0}
		}, 0},
		{"a sysctl MIB the client cannot read", "i386", "mips", netbsd.SYS___sysctl, func(f *fixture) []uint64 {
			return []uint64{f.mem.BadAddress(), 2, f.mem.Alloc(8, nil), f.mem.Alloc(8, sizeT(f.c, 4)), 0, 0}
		}, netbsd.EFAULT},
		{"an ioctl command sprig does not describe", "amd64", "mips", netbsd.SYS_ioctl, func(f *fixture) []uint64 {
			return []uint64{3, netbsd.IOC_OUT | 8<<16 | 'z'<<8 | 1, f.mem.Alloc(8, nil)}
		}, netbsd.ENOSYS},
		{"an ioctl whose argument type is not described", "amd64", "mips", netbsd.SYS_ioctl, func(f *fixture) []uint64 {
			return []uint64{3, netbsd.IOC_OUT | 8<<16 | 't'<<8 | 104, f.mem.Alloc(64, nil)} // TIOCGWINSZ: struct winsize
		}, netbsd.ENOSYS},
		{"an ioctl without argument", "amd64", "mips", netbsd.SYS_ioctl, func(f *fixture) []uint64 {
			return []uint64{3, netbsd.IOC_VOID | 'f'<<8 | 1, 0} // FIOCLEX
		}, 0},
		{"fcntl F_GETLK's struct flock", "i386", "sparc64", netbsd.SYS_fcntl, func(f *fixture) []uint64 {
			return []uint64{3, 7, f.mem.Alloc(32, nil)}
		}, netbsd.ENOSYS},
		{"a count a 32-bit server cannot hold", "amd64", "i386", netbsd.SYS_read, func(f *fixture) []uint64 {
			return []uint64{3, f.mem.Alloc(8, nil), 5 << 30}
		}, netbsd.EINVAL},
		{"a high address the kernel keeps but never copies through", "amd64", "i386", netbsd.SYS_munmap, func(f *fixture) []uint64 {
			return []uint64{f.mem.Alloc(8, nil), 4096}
		}, netbsd.EINVAL},
		{"layout-identical ABIs pass an undescribed syscall", "amd64", "riscv64", 9999, func(*fixture) []uint64 { return nil }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.client, tc.server)
			_, _, err := f.sess.Begin(f.ctx, f.mem, tc.num, tc.args(f))
			if tc.errno == 0 {
				assert.NoError(t, err)
				return
			}
			r := xlate.IsRefusal(err)
			require.NotNil(t, r, "%v", err)
			assert.Equal(t, tc.errno, r.Errno, r.Error())
			assert.ErrorIs(t, err, tc.errno)
			assert.Zero(t, f.sess.Regions(), "a refused call leaves nothing behind")
		})
	}
}

// TestUntranslatableCopiesSpoilTheCall: typed data that cannot be read
// whole faults, and the syscall answers ENOSYS instead of its result.
func TestUntranslatableCopiesSpoilTheCall(t *testing.T) {
	f := newFixture(t, "i386", "amd64")
	sb := f.mem.Alloc(256, nil)
	call, wire := f.begin(netbsd.SYS___fstat50, 3, sb)
	err := f.view.CopyOut(f.ctx, wire[1], make([]byte, 100)) // not a whole 152-byte stat
	assert.ErrorIs(t, err, netbsd.EFAULT)
	assert.Contains(t, call.Spoiled(), "not whole")
	e, _ := call.End(0, [2]uint64{})
	assert.Equal(t, netbsd.ENOSYS, e)

	f = newFixture(t, "mips", "amd64")
	buf := f.mem.Alloc(256, nil)
	call, wire = f.begin(netbsd.SYS___getdents30, 3, buf, 256)
	bad := dirents(f.s, "x")
	bad[8] = 200 // d_reclen past the data
	assert.ErrorIs(t, f.view.CopyOut(f.ctx, wire[1], bad), netbsd.EFAULT)
	e, _ = call.End(0, [2]uint64{uint64(len(bad))})
	assert.Equal(t, netbsd.ENOSYS, e)
}

func TestSamePairsPassEverything(t *testing.T) {
	f := newFixture(t, "amd64", "arm64") // char and register_t signedness differ, bytes do not
	require.True(t, f.sess.Pair().Same())
	assert.Equal(t, xlate.Memory(f.mem), f.view, "the view is the memory itself")
	buf := f.mem.Alloc(8, nil)
	_, wire := f.begin(netbsd.SYS_read, 3, buf, 8)
	assert.Equal(t, buf, wire[1])
}

// A real rump kernel copies getdents records out one at a time, each at
// its own place in the buffer: a translator must convert every one, not
// only the one at the buffer's start.
func TestDirentsCopiedOutOneByOneCrossEveryPair(t *testing.T) {
	for _, p := range pairs() {
		t.Run(p[0].Name+"→"+p[1].Name, func(t *testing.T) {
			f := newFixture(t, p[0].Name, p[1].Name)
			buf := f.mem.Alloc(1024, nil)
			_, wire := f.begin(netbsd.SYS___getdents30, 3, buf, 1024)
			first, second := dirents(f.s, "a"), dirents(f.s, "bravo")
			require.NoError(t, f.view.CopyOut(f.ctx, wire[1], first))
			require.NoError(t, f.view.CopyOut(f.ctx, wire[1]+uint64(len(first)), second), "the second record, copied out alone")
			want := append(dirents(f.c, "a"), dirents(f.c, "bravo")...)
			assert.Equal(t, want, f.mem.Read(buf, len(want)))
		})
	}
}
