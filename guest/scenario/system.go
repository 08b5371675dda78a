package scenario

import (
	"fmt"
	"strings"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/sp"
)

// noOldLen asks sysctl for no oldlenp at all (a pure write).
const noOldLen = -1

// sysctl runs __sysctl on mib. oldSize is the old-value buffer's size
// (0: oldv NULL, a size query; noOldLen: neither oldv nor oldlenp);
// newv, when not nil, is the new value. It returns the errno, the length
// the kernel stored at oldlenp and the whole old buffer, whose bytes past
// oldSize are a guard.
func (t *T) sysctl(mib []int32, oldSize int, newv []byte) (netbsd.Errno, uint64, []byte) {
	o := t.own.ByteOrder()
	name, nb := t.mem.AllocBytes(4 * len(mib))
	for i, v := range mib {
		o.PutUint32(nb[4*i:], uint32(v))
	}
	var oldv, oldlenp uint64
	var ob, lb []byte
	if oldSize > 0 {
		oldv, ob = t.alloc(oldSize+16, guardFill)
	}
	if oldSize >= 0 {
		oldlenp, lb = t.mem.AllocBytes(t.own.SizeT.Size)
		abi.PutUint(o, lb, t.own.SizeT.Size, uint64(oldSize))
	}
	var newp uint64
	if newv != nil {
		newp = t.data(newv)
	}
	e, _ := t.sys(netbsd.SYS___sysctl, name, uint64(len(mib)), oldv, oldlenp, newp, uint64(len(newv)))
	var oldlen uint64
	if lb != nil {
		oldlen = abi.Uint(o, lb, t.own.SizeT.Size)
	}
	return e, oldlen, ob
}

// sysctlString reads a string MIB into a 256-byte buffer and checks the
// length stored at oldlenp and the guard past it.
func (t *T) sysctlString(what string, mib []int32) string {
	e, n, b := t.sysctl(mib, 256, nil)
	t.expectErrno(what, 0, e)
	if n < 1 || n > 256 || b[n-1] != 0 {
		t.FailValue(what+" *oldlenp (length with the NUL)", "1..256 ending at the NUL", fmt.Sprintf("%d (%q)", n, b[:min(n, 256)]))
	}
	t.Check()
	s := string(b[:n-1])
	if strings.IndexByte(s, 0) >= 0 {
		t.FailValue(what+" *oldlenp", fmt.Sprintf("%d (the string's NUL)", strings.IndexByte(s, 0)+1), n)
	}
	t.untouched(what+" buffer past *oldlenp", b[n:], guardFill)
	return s
}

// scenarioSysctl: string and int MIBs, size queries, a short buffer and a
// write, with oldlenp a size_t in the client's width.
func scenarioSysctl(t *T) {
	t.guest()
	ostype := []int32{netbsd.CTL_KERN, netbsd.KERN_OSTYPE}
	expect(t, "sysctl kern.ostype", "NetBSD", t.sysctlString("kern.ostype", ostype))
	expect(t, "sysctl kern.osrelease (the banner's)", t.c.Banner().OSRelease,
		t.sysctlString("kern.osrelease", []int32{netbsd.CTL_KERN, netbsd.KERN_OSRELEASE}))
	expect(t, "sysctl hw.machine (the banner's)", t.c.Banner().Machine,
		t.sysctlString("hw.machine", []int32{netbsd.CTL_HW, netbsd.HW_MACHINE}))

	e, n, _ := t.sysctl(ostype, 0, nil)
	t.expectErrno("kern.ostype size query", 0, e)
	expect(t, "kern.ostype size query *oldlenp", uint64(7), n)

	// Too small a buffer: as much as fits, the full length, ENOMEM.
	e, n, b := t.sysctl(ostype, 3, nil)
	t.expectErrno("kern.ostype into 3 bytes", netbsd.ENOMEM, e)
	expect(t, "kern.ostype into 3 bytes *oldlenp", uint64(7), n)
	t.expectBytes("kern.ostype into 3 bytes", []byte("Net"), b[:3])
	t.untouched("kern.ostype into 3 bytes past the buffer", b[3:], guardFill)

	e, n, b = t.sysctl([]int32{netbsd.CTL_HW, netbsd.HW_PAGESIZE}, 4, nil)
	t.expectErrno("hw.pagesize", 0, e)
	expect(t, "hw.pagesize *oldlenp (sizeof(int))", uint64(4), n)
	expect(t, "hw.pagesize", int32(4096), int32(t.own.ByteOrder().Uint32(b)))
	t.untouched("hw.pagesize past the int", b[4:], guardFill)

	// kern.hostname is writable by root only. The names differ in length
	// modulo sizeof(int) and one is exactly an int wide, so a translator
	// that guesses types from lengths shows; newlen leaves out the NUL as
	// sethostname(3) does.
	root := t.ok(netbsd.SYS_geteuid)[0] == 0
	hostname := []int32{netbsd.CTL_KERN, netbsd.KERN_HOSTNAME}
	was := t.sysctlString("kern.hostname", hostname)
	if !root {
		// A name no other client writes: the check holds on a server
		// others use at the same time.
		refused := fmt.Sprintf("sprig-refused-%d", t.getpid())
		e, _, _ = t.sysctl(hostname, noOldLen, []byte(refused))
		t.expectErrno("setting kern.hostname as non-root", netbsd.EPERM, e)
		if got := t.sysctlString("kern.hostname", hostname); got == refused {
			t.Fail(guestapi.LayerData, "kern.hostname after a refused write: the write took effect (%q)", got)
		}
		t.Check()
		return
	}
	// The server's hostname is put back however the scenario ends.
	t.atEnd(func() { t.sysctl(hostname, noOldLen, []byte(was)) })
	for _, name := range []string{"sprig.test", "sprig-guest", "rump"} {
		t.hostnameReadsBack(hostname, name)
	}
}

// hostnameReadsBack sets kern.hostname to name and checks a read gives
// it back. The hostname is the whole server's: another client of a shared
// server (a matrix against one outside server runs many) may set it in
// between, so a read of someone else's name is tried again, a few times;
// a server that ignores the write fails every time.
func (t *T) hostnameReadsBack(mib []int32, name string) {
	const tries = 5
	var got string
	for range tries {
		e, _, _ := t.sysctl(mib, noOldLen, []byte(name))
		t.expectErrno(fmt.Sprintf("setting kern.hostname to %q", name), 0, e)
		if got = t.sysctlString("kern.hostname", mib); got == name {
			t.Check()
			return
		}
	}
	t.Fail(guestapi.LayerData, "kern.hostname read back: expected %s, got %s (%d tries)", name, got, tries)
}

// scenarioMmapAnon: mmap MAP_ANON is served by asking the client for
// memory (ANONMMAP); the address returned is the one the client gave.
func scenarioMmapAnon(t *T) {
	const size = 65536
	t.guest()
	rv := t.ok(netbsd.SYS_mmap, 0, size, netbsd.PROT_READ|netbsd.PROT_WRITE,
		netbsd.MAP_ANON|netbsd.MAP_PRIVATE, uint64(1<<64-1) /* fd -1 */, 0)
	t.requested(sp.TypeAnonMmap, "mmap MAP_ANON")
	maps := t.space.mappings()
	expect(t, "ANONMMAP requests for one mmap", 1, len(maps))
	expect(t, "ANONMMAP size", uint64(size), maps[0].size)
	if maps[0].addr == 0 {
		t.Fail(guestapi.LayerGuest, "the guest could not map %d bytes for ANONMMAP", size)
	}
	expect(t, "mmap retval (the address ANONMMAP returned)", fmt.Sprintf("%#x", maps[0].addr), fmt.Sprintf("%#x", rv[0]))

	// The mapping is guest memory: zeroed, writable, readable.
	got, err := t.mem.CopyIn(t.ctx, rv[0], size)
	if err != nil {
		t.FailValue("mmap retval", "an address inside the guest's memory", fmt.Sprintf("%#x (%v)", rv[0], err))
	}
	t.Check()
	t.expectBytes("fresh anonymous memory", make([]byte, size), got)
	p := pattern(size, 9)
	if err := t.mem.CopyOut(t.ctx, rv[0], p); err != nil {
		t.Fail(guestapi.LayerGuest, "writing the mapping: %v", err)
	}
	got, _ = t.mem.CopyIn(t.ctx, rv[0], size)
	t.expectBytes("anonymous memory after writing it", p, got)

	// And the kernel can use it as a buffer: write from it to a pipe.
	pp := t.ok(netbsd.SYS_pipe)
	n := t.ok(netbsd.SYS_write, pp[1], rv[0]+100, 64)[0]
	expect(t, "write from the mapping retval", uint64(64), n)
	buf, b := t.alloc(64, guardFill)
	expect(t, "read back retval", uint64(64), t.ok(netbsd.SYS_read, pp[0], buf, 64)[0])
	t.expectBytes("bytes written from the mapping", p[100:164], b)
	t.ok(netbsd.SYS_close, pp[0])
	t.ok(netbsd.SYS_close, pp[1])
}

// scenarioKillRaise: a signal the kernel posts to the client's process
// arrives as a RAISE request.
func scenarioKillRaise(t *T) {
	t.guest()
	pid := t.getpid()
	t.mem.TakeSignals()
	expect(t, "kill(getpid(), SIGUSR1) retval", uint64(0), t.ok(netbsd.SYS_kill, pid, uint64(netbsd.SIGUSR1))[0])
	t.requested(sp.TypeRaise, "kill of the caller's own process")
	expect(t, "RAISE requests' signal numbers", fmt.Sprint([]uint32{uint32(netbsd.SIGUSR1)}), fmt.Sprint(t.frames.raises()))
	expect(t, "signals the guest received", fmt.Sprint([]int32{int32(netbsd.SIGUSR1)}), fmt.Sprint(t.mem.TakeSignals()))

	expect(t, "kill(getpid(), 0) retval", uint64(0), t.ok(netbsd.SYS_kill, pid, 0)[0])
	if s := t.mem.TakeSignals(); len(s) != 0 {
		t.FailValue("signals received after kill(pid, 0)", "none", fmt.Sprint(s))
	}
	t.Check()
	t.fails("kill(99999, SIGUSR1)", netbsd.ESRCH, netbsd.SYS_kill, 99999, uint64(netbsd.SIGUSR1))
	t.fails("kill(getpid(), 9999)", netbsd.EINVAL, netbsd.SYS_kill, pid, 9999)
	if s := t.mem.TakeSignals(); len(s) != 0 {
		t.FailValue("signals received after the failed kills", "none", fmt.Sprint(s))
	}
	t.Check()
}

// scenarioErrors: the errno of each failure a client commonly meets,
// exactly.
func scenarioErrors(t *T) {
	t.guest()
	path := t.path("f")
	t.fails("close(987)", netbsd.EBADF, netbsd.SYS_close, 987)
	t.fails("open of a missing path", netbsd.ENOENT, netbsd.SYS_open, t.str(path+"-missing"), netbsd.O_RDONLY, 0)
	t.fails("open of a missing directory's file", netbsd.ENOENT, netbsd.SYS_open, t.str(path+"-missing/f"), netbsd.O_CREAT|netbsd.O_RDWR, 0o644)

	fd := t.open(path, netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
	t.fails("open O_CREAT|O_EXCL of an existing file", netbsd.EEXIST, netbsd.SYS_open, t.str(path), netbsd.O_CREAT|netbsd.O_EXCL|netbsd.O_RDWR, 0o644)
	t.fails("open of a directory for writing", netbsd.EISDIR, netbsd.SYS_open, t.str(t.workdir()), netbsd.O_WRONLY, 0)
	long := t.workdir() + "/" + strings.Repeat("x", netbsd.PATH_MAX+100)
	t.fails("open of a path longer than PATH_MAX", netbsd.ENAMETOOLONG, netbsd.SYS_open, t.str(long), netbsd.O_RDONLY, 0)
	t.failsWith("syscall 9999", []netbsd.Errno{netbsd.ENOSYS}, netbsd.Sysno(9999))
	expect(t, "fstat size of the new file", int64(0), t.fstat(fd).Size)
	t.ok(netbsd.SYS_close, fd)
	t.ok(netbsd.SYS_unlink, t.str(path))
}

// scenarioEfault: pointers the client cannot serve. A path at a bad
// address (COPYINSTR answered empty) is EFAULT in NetBSD's kernel and
// sprig's; NetBSD's rump server reads the empty answer as a string
// without its NUL and says ENAMETOOLONG. Data at a bad address (COPYIN
// answered empty) is EFAULT, but NetBSD's C server reads memory it never
// received there and dies: the scenario is destructive, and sprig runs
// it against outside servers only when asked.
func scenarioEfault(t *T) {
	t.guest()
	t.failsWith("open with a bad path pointer", []netbsd.Errno{netbsd.EFAULT, netbsd.ENAMETOOLONG},
		netbsd.SYS_open, t.mem.BadAddress(), netbsd.O_RDONLY, 0)
	t.requested(sp.TypeCopyInStr, "open with a bad path pointer")
	path := t.path("f")
	fd := t.open(path, netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
	t.fails("write from a bad address", netbsd.EFAULT, netbsd.SYS_write, fd, t.mem.BadAddress(), 16)
	t.requested(sp.TypeCopyIn, "write from a bad address")
	expect(t, "fstat size after the failed write", int64(0), t.fstat(fd).Size)
	t.ok(netbsd.SYS_close, fd)
	t.ok(netbsd.SYS_unlink, t.str(path))
}
