package scenario

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/sp"
)

// scenarios returns every scenario in report order. Between them they
// make the server send or answer every message type: HANDSHAKE
// GUEST/EXEC (handshake), FORK (fork's child), SYSCALL (all), COPYINSTR
// (paths), COPYIN (write), COPYOUT (read), ANONMMAP (mmap-anon), PREFORK
// (fork) and RAISE (kill-raise). The scenario about a message checks
// that the server really sent it.
func scenarios() []scenario {
	return []scenario{
		{"handshake", scenarioHandshake},
		{"getpid", scenarioGetpid},
		{"file-io", scenarioFileIO},
		{"lseek-4g", scenarioLseek4G},
		{"pread-pwrite", scenarioPreadPwrite},
		{"stat", scenarioStat},
		{"getdents", scenarioGetdents},
		{"dirs", scenarioDirs},
		{"cwd", scenarioCwd},
		{"dup-fcntl", scenarioDupFcntl},
		{"pipe", scenarioPipe},
		{"sysctl", scenarioSysctl},
		{"mmap-anon", scenarioMmapAnon},
		{"kill-raise", scenarioKillRaise},
		{"fork", scenarioFork},
		{"concurrent", scenarioConcurrent},
		{"errors", scenarioErrors},
		{"efault", scenarioEfault},
	}
}

// guest performs the GUEST handshake every scenario but the handshake
// scenario itself starts with.
func (t *T) guest() {
	if err := t.c.HandshakeGuest(t.ctx); err != nil {
		t.FailErr("GUEST handshake", err)
	}
	t.Check()
}

func scenarioHandshake(t *T) {
	b := t.c.Banner()
	if b.OSType != "NetBSD" {
		t.FailValue("banner.ostype", "NetBSD", b.OSType)
	}
	t.Check()
	t.guest()
	if t.c.Version().HasExec() {
		if err := t.c.HandshakeExec(t.ctx, "sprig-guest-exec"); err != nil {
			t.FailErr("EXEC handshake", err)
		}
		t.Check()
	}
}

// sys runs a syscall and fails the scenario on a protocol error. A
// server without the syscall (ENOSYS) makes the scenario unsupported: it
// cannot be judged there. try is sys for calls whose ENOSYS the caller
// handles itself.
func (t *T) sys(num netbsd.Sysno, args ...uint64) (netbsd.Errno, [2]uint64) {
	e, rv := t.try(num, args...)
	if e == netbsd.ENOSYS {
		t.Unsupported("the server has no %s (ENOSYS)", num)
	}
	return e, rv
}

func (t *T) try(num netbsd.Sysno, args ...uint64) (netbsd.Errno, [2]uint64) {
	r, err := t.c.Syscall(t.ctx, num, anys(args)...)
	if err != nil {
		t.Fail(layerOf(err), "%v", err) // the error names the syscall
	}
	return r.Errno, r.Retval
}

// ok runs a syscall that must succeed.
func (t *T) ok(num netbsd.Sysno, args ...uint64) [2]uint64 {
	e, rv := t.sys(num, args...)
	if e != 0 {
		t.FailValue(num.String()+" errno", "0", errName(e))
	}
	t.Check()
	return rv
}

// fails runs a syscall that must fail with exactly want.
func (t *T) fails(what string, want netbsd.Errno, num netbsd.Sysno, args ...uint64) {
	t.failsWith(what, []netbsd.Errno{want}, num, args...)
}

// failsWith runs a syscall that must fail with one of want, the first
// being NetBSD's usual answer and the others what real servers are known
// to give instead.
func (t *T) failsWith(what string, want []netbsd.Errno, num netbsd.Sysno, args ...uint64) netbsd.Errno {
	var e netbsd.Errno
	var rv [2]uint64
	if slices.Contains(want, netbsd.ENOSYS) {
		e, rv = t.try(num, args...)
	} else {
		e, rv = t.sys(num, args...)
	}
	if !slices.Contains(want, e) {
		names := make([]string, len(want))
		for i, w := range want {
			names[i] = w.String()
		}
		t.FailValue(what+" errno", strings.Join(names, " or "), fmt.Sprintf("%s (retval %d)", errName(e), rv[0]))
	}
	t.Check()
	return e
}

// expectErrno fails the scenario unless a call's errno is want.
func (t *T) expectErrno(what string, want, got netbsd.Errno) {
	if got != want {
		t.FailValue(what+" errno", errName(want), errName(got))
	}
	t.Check()
}

func errName(e netbsd.Errno) string {
	if e == 0 {
		return "0 (success)"
	}
	return e.String()
}

// expect fails the scenario with a data failure unless got == want.
func expect[V comparable](t *T, what string, want, got V) {
	if got != want {
		t.FailValue(what, want, got)
	}
	t.Check()
}

// expectBytes compares byte strings and names the first differing byte.
func (t *T) expectBytes(what string, want, got []byte) {
	if !bytes.Equal(want, got) {
		i := 0
		for i < len(want) && i < len(got) && want[i] == got[i] {
			i++
		}
		switch {
		case i < len(want) && i < len(got):
			t.FailValue(fmt.Sprintf("%s[%d] (of %d bytes)", what, i, len(want)), fmt.Sprintf("%#02x", want[i]), fmt.Sprintf("%#02x", got[i]))
		default:
			t.FailValue(what+" length", len(want), len(got))
		}
	}
	t.Check()
}

// untouched checks that a guard area the server had no business writing
// still holds the fill byte.
func (t *T) untouched(what string, b []byte, fill byte) {
	for i, c := range b {
		if c != fill {
			t.FailValue(fmt.Sprintf("%s: byte %d of the %d-byte guard", what, i, len(b)), fmt.Sprintf("%#02x (unwritten)", fill), fmt.Sprintf("%#02x", c))
		}
	}
	t.Check()
}

// alloc returns n bytes of guest memory filled with fill.
func (t *T) alloc(n int, fill byte) (uint64, []byte) {
	a, b := t.mem.AllocBytes(n)
	for i := range b {
		b[i] = fill
	}
	return a, b
}

// data returns a copy of p in guest memory.
func (t *T) data(p []byte) uint64 {
	a, b := t.mem.AllocBytes(len(p))
	copy(b, p)
	return a
}

// str returns the NUL-terminated s in guest memory.
func (t *T) str(s string) uint64 { return t.mem.AllocString(s) }

// getpid returns this process's pid.
func (t *T) getpid() uint64 { return t.ok(netbsd.SYS_getpid)[0] }

// open opens path and returns the descriptor.
func (t *T) open(path string, flags, mode uint64) uint64 {
	return t.ok(netbsd.SYS_open, t.str(path), flags, mode)[0]
}

// write writes all of p to fd with one write(2).
func (t *T) write(fd uint64, p []byte) {
	rv := t.ok(netbsd.SYS_write, fd, t.data(p), uint64(len(p)))
	expect(t, "write retval", uint64(len(p)), rv[0])
}

// seek runs lseek and returns the 64-bit offset.
func (t *T) seek(fd uint64, off int64, whence uint64) uint64 {
	r, err := t.c.Syscall(t.ctx, netbsd.SYS_lseek, fd, off, whence)
	if err != nil {
		t.Fail(layerOf(err), "%v", err)
	}
	if r.Errno == netbsd.ENOSYS {
		t.Unsupported("the server has no lseek (ENOSYS)")
	}
	if r.Errno != 0 {
		t.FailValue("lseek errno", "0", errName(r.Errno))
	}
	t.Check()
	return uint64(r.Off())
}

// requested checks that the server sent at least one request of type
// typ during the scenario, as the operation just done requires.
func (t *T) requested(typ sp.Type, why string) {
	if n := t.frames.serverRequests(typ); n == 0 {
		t.Fail(guestapi.LayerData, "%s: the server sent no %s request", why, typ)
	}
	t.Check()
}

// pidMax is NetBSD's PID_MAX: no pid is larger.
const pidMax = 30000

func scenarioGetpid(t *T) {
	t.guest()
	rv := t.ok(netbsd.SYS_getpid)
	if rv[0] < 2 || rv[0] > pidMax {
		t.FailValue("getpid retval[0] (pid)", fmt.Sprintf("2..%d", pidMax), rv[0])
	}
	t.Check()
	expect(t, "getpid retval[1] (ppid)", 1, rv[1])
	pp := t.ok(netbsd.SYS_getppid)
	expect(t, "getppid retval[0]", 1, pp[0])
	again := t.ok(netbsd.SYS_getpid)
	expect(t, "second getpid retval[0]", rv[0], again[0])
}

// anys turns argument words into Syscall's arguments.
func anys(vals []uint64) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = v
	}
	return out
}
