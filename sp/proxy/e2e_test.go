package proxy_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/sptest"
)

// allPairs is every ordered pair of the built-in ABIs: little ↔ big
// endian, 32 ↔ 64 bit, i386's 4-aligned int64, unsigned register_t, and
// each ABI with itself.
func allPairs() [][2]string {
	var out [][2]string
	for _, c := range abi.All() {
		for _, s := range abi.All() {
			out = append(out, [2]string{c.Name, s.Name})
		}
	}
	return out
}

// TestUnmodifiedClientsReachServersOfAnyABIThroughTheProxy is the point
// of the proxy: a client that behaves as an unmodified C client of one
// ABI (native, reading what it gets the C way, its memory above 4 GiB
// when it is 64-bit) runs a syscall mix against a C-like server of
// another ABI, and every result is right in the client's own terms.
func TestUnmodifiedClientsReachServersOfAnyABIThroughTheProxy(t *testing.T) {
	for _, p := range allPairs() {
		t.Run(p[0]+"→"+p[1], func(t *testing.T) {
			t.Parallel()
			_, up := cServer(t, p[1], nil)
			_, url := startProxy(t, p[0], p[1], up, nil)
			runMix(t, url, p[0], baseFor(p[0]), nil)
		})
	}
}

// TestClientTranslatesIsTheSameMechanism runs the same mix with no proxy:
// an sp.Client in client-translates mode, its memory above 4 GiB when it
// is 64-bit, straight to a C-like server of every ABI. It translates with
// the proxy's mechanism, windows included, so the 64-bit client reaches
// 32-bit servers (before windows it failed: "value 0x7ffe... does not
// fit const char * (4 bytes)").
func TestClientTranslatesIsTheSameMechanism(t *testing.T) {
	for _, p := range allPairs() {
		t.Run(p[0]+"→"+p[1], func(t *testing.T) {
			t.Parallel()
			_, up := cServer(t, p[1], nil)
			runMix(t, up, p[0], baseFor(p[0]), func(c *sp.ClientConfig) {
				c.Mode = sp.ModeClientTranslates
				c.ServerABI = abi.MustLookup(p[1])
				c.Faithful = false
			})
		})
	}
}

// cints lays out C ints in d's byte order.
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

// mixer runs syscalls and checks they succeed.
type mixer struct {
	t   *testing.T
	ctx context.Context
	c   *sp.Client
	mem *sptest.Memory
	d   *abi.Descriptor
}

func (m *mixer) ok(num netbsd.Sysno, args ...any) sp.Result {
	m.t.Helper()
	r, err := m.c.Syscall(m.ctx, num, args...)
	require.NoError(m.t, err, "%s", num)
	require.NoError(m.t, r.Err(), "%s", num)
	return r
}

func (m *mixer) str(s string) uint64 { return m.mem.AllocString(s) }

func (m *mixer) stat(addr uint64) netbsd.Stat {
	m.t.Helper()
	l := netbsd.LayoutsFor(m.d).Stat
	var st netbsd.Stat
	require.NoError(m.t, l.Decode(m.mem.Read(addr, l.Size), &st))
	return st
}

// runMix is the representative syscall mix, checked in the client's own
// layout: files, offsets past 4 GiB, stat, getdents, pipes, sysctl,
// getcwd and a fork through PREFORK and a FORK handshake.
func runMix(t *testing.T, url, client string, base uint64, mutate func(*sp.ClientConfig)) {
	cfg, mem := cClient(client, base)
	if mutate != nil {
		mutate(&cfg)
	}
	c := dial(t, url, cfg)
	ctx := ctxT(t)
	require.NoError(t, c.HandshakeGuest(ctx))
	m := &mixer{t: t, ctx: ctx, c: c, mem: mem, d: cfg.ABI}
	o := m.d.ByteOrder()

	pid := m.ok(netbsd.SYS_getpid).Int()
	require.Positive(t, pid)
	dir := fmt.Sprintf("/tmp/mix%d", pid) // clients may share a server

	m.ok(netbsd.SYS_mkdir, m.str(dir), 0o755)
	fd := m.ok(netbsd.SYS_open, m.str(dir+"/f"), netbsd.O_CREAT|netbsd.O_RDWR, 0o644).Int()
	msg := []byte("hello, proxy")
	assert.Equal(t, int64(len(msg)), m.ok(netbsd.SYS_write, fd, mem.Alloc(len(msg), msg), len(msg)).Int(), "write")
	assert.Equal(t, int64(3), m.ok(netbsd.SYS_pwrite, fd, mem.Alloc(3, []byte("XYZ")), 3, 3).Int(), "pwrite")
	buf := mem.Alloc(64, nil)
	assert.Equal(t, int64(5), m.ok(netbsd.SYS_pread, fd, buf, 5, 0).Int(), "pread")
	assert.Equal(t, "helXY", string(mem.Read(buf, 5)), "pread data")

	// A 64-bit offset crosses as a split off_t on 32-bit ABIs.
	assert.Equal(t, int64(5<<30+7), m.ok(netbsd.SYS_lseek, fd, 5<<30+7, netbsd.SEEK_SET).Off(), "lseek past 4 GiB")
	assert.Equal(t, int64(1), m.ok(netbsd.SYS_pwrite, fd, mem.Alloc(1, []byte("!")), 1, 6<<30).Int(), "pwrite past 4 GiB")
	assert.Equal(t, int64(6<<30+1), m.ok(netbsd.SYS_lseek, fd, 0, netbsd.SEEK_END).Off(), "lseek to the end")
	m.ok(netbsd.SYS_lseek, fd, 0, netbsd.SEEK_SET)
	assert.Equal(t, int64(64), m.ok(netbsd.SYS_read, fd, buf, 64).Int(), "read")
	assert.Equal(t, "helXYZ proxy", string(mem.Read(buf, 12)), "read data")
	m.ok(netbsd.SYS_ftruncate, fd, len(msg))

	sb := mem.Alloc(256, nil)
	m.ok(netbsd.SYS___fstat50, fd, sb)
	st := m.stat(sb)
	assert.Equal(t, int64(len(msg)), st.Size, "fstat st_size")
	assert.Equal(t, uint32(netbsd.S_IFREG|0o644), st.Mode, "fstat st_mode")
	assert.Equal(t, uint32(1), st.Nlink, "fstat st_nlink")
	assert.Equal(t, netbsd.NODEV, st.Rdev, "fstat st_rdev")
	assert.Positive(t, st.Mtim.Sec, "fstat st_mtim")
	m.ok(netbsd.SYS___stat50, m.str(dir+"/f"), sb)
	st2 := m.stat(sb)
	assert.Equal(t, st.Ino, st2.Ino, "stat and fstat agree on st_ino")
	m.ok(netbsd.SYS___lstat50, m.str(dir), sb)
	assert.Equal(t, uint32(netbsd.S_IFDIR), m.stat(sb).Mode&netbsd.S_IFMT, "lstat of a directory")

	dfd := m.ok(netbsd.SYS_open, m.str(dir), netbsd.O_RDONLY|netbsd.O_DIRECTORY, 0).Int()
	dbuf := mem.Alloc(1024, nil)
	dn := m.ok(netbsd.SYS___getdents30, dfd, dbuf, 1024).Int()
	var names []string
	recs := mem.Read(dbuf, int(dn))
	for off := 0; off < len(recs); {
		reclen := int(o.Uint16(recs[off+8:]))
		namlen := int(o.Uint16(recs[off+10:]))
		require.Positive(t, reclen, "d_reclen")
		names = append(names, string(recs[off+13:off+13+namlen]))
		off += reclen
	}
	// The rump root (rumpfs) lists no "." or ".."; what it lists must
	// cross whole, each record converted.
	assert.ElementsMatch(t, []string{"f"}, names, "getdents")

	r := m.ok(netbsd.SYS_pipe)
	rfd, wfd := int64(int32(r.Retval[0])), int64(int32(r.Retval[1]))
	assert.Equal(t, int64(4), m.ok(netbsd.SYS_write, wfd, mem.Alloc(4, []byte("ping")), 4).Int(), "pipe write")
	assert.Equal(t, int64(4), m.ok(netbsd.SYS_read, rfd, buf, 64).Int(), "pipe read")
	assert.Equal(t, "ping", string(mem.Read(buf, 4)))
	fildes := mem.Alloc(8, nil)
	m.ok(netbsd.SYS_pipe2, fildes, netbsd.O_CLOEXEC)
	fds := mem.Read(fildes, 8)
	p0, p1 := int64(int32(o.Uint32(fds))), int64(int32(o.Uint32(fds[4:])))
	assert.Greater(t, p1, p0, "pipe2 wrote two ints in the client's byte order")
	assert.Less(t, p1, int64(64), "pipe2 descriptors are small ints")

	mib := mem.Alloc(8, cints(m.d, netbsd.CTL_HW, netbsd.HW_PAGESIZE))
	oldv := mem.Alloc(16, nil)
	oldlenp := mem.Alloc(8, sizeT(m.d, 4))
	m.ok(netbsd.SYS___sysctl, mib, 2, oldv, oldlenp, 0, 0)
	assert.Equal(t, uint32(4096), o.Uint32(mem.Read(oldv, 4)), "hw.pagesize in the client's byte order")
	assert.Equal(t, sizeT(m.d, 4), mem.Read(oldlenp, m.d.SizeT.Size), "*oldlenp")
	mib = mem.Alloc(8, cints(m.d, netbsd.CTL_KERN, netbsd.KERN_OSTYPE))
	oldlenp = mem.Alloc(8, sizeT(m.d, 16))
	m.ok(netbsd.SYS___sysctl, mib, 2, oldv, oldlenp, 0, 0)
	assert.Equal(t, "NetBSD\x00", string(mem.Read(oldv, 7)), "kern.ostype")
	assert.Equal(t, sizeT(m.d, 7), mem.Read(oldlenp, m.d.SizeT.Size), "kern.ostype's length")

	cwd := mem.Alloc(64, nil)
	m.ok(netbsd.SYS_chdir, m.str(dir))
	m.ok(netbsd.SYS___getcwd, cwd, 64)
	assert.Equal(t, dir+"\x00", string(mem.Read(cwd, len(dir)+1)), "getcwd")

	// A fork: PREFORK here, a FORK handshake on a new connection, and
	// the child shares the parent's open file.
	childBase := base + 0x1000_0000 // another address space
	ccfg, cmem := cClient(client, childBase)
	if mutate != nil {
		mutate(&ccfg)
	}
	u, err := sp.ParseURL(url)
	require.NoError(t, err)
	conn, err := u.Dial(ctx)
	require.NoError(t, err)
	child, err := c.Fork(ctx, conn, ccfg)
	require.NoError(t, err, "fork through the proxy")
	defer child.Close()
	cr, err := child.Syscall(ctx, netbsd.SYS_getpid)
	require.NoError(t, err)
	require.NoError(t, cr.Err())
	assert.NotEqual(t, pid, cr.Int(), "the child is another process")
	csb := cmem.Alloc(256, nil)
	cr, err = child.Syscall(ctx, netbsd.SYS___fstat50, fd, csb)
	require.NoError(t, err)
	require.NoError(t, cr.Err(), "the child inherited the descriptor")
	var cst netbsd.Stat
	require.NoError(t, netbsd.LayoutsFor(m.d).Stat.Decode(cmem.Read(csb, netbsd.LayoutsFor(m.d).Stat.Size), &cst))
	assert.Equal(t, st.Ino, cst.Ino, "the child's fstat sees the parent's file")

	m.ok(netbsd.SYS_close, fd)
	m.ok(netbsd.SYS_close, dfd)
}
