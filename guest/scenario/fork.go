package scenario

import (
	"fmt"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/sp"
)

// forkChildName is the scenario name the child instance reports under.
const forkChildName = "fork-child"

// forkMessage is what the parent sends the child through the inherited
// pipe; it also tells the child the parent's pid and the file's fd.
const forkMessage = "sprig-fork parent=%d file=%d"

// childMark is what the child writes through its copy of the file's
// descriptor, for the parent to read back.
const childMark = "written by the fork child"

// scenarioFork: PREFORK copies the process with its descriptors, and a
// second guest instance claims the copy with a FORK handshake. The child
// reads what the parent writes into an inherited pipe and writes into an
// inherited file; the parent sees that write.
func scenarioFork(t *T) {
	t.guest()
	pid := t.getpid()
	pp := t.ok(netbsd.SYS_pipe)
	path := t.path("f")
	ffd := t.open(path, netbsd.O_CREAT|netbsd.O_RDWR, 0o644)

	ck, err := t.c.Prefork(t.ctx)
	if err != nil {
		t.FailErr("PREFORK", err)
	}
	t.Check()
	expect(t, "PREFORK responses", 1, t.frames.count(sp.Received, sp.ClassResp, sp.TypePrefork))

	msg := fmt.Sprintf(forkMessage, pid, ffd)
	cfg := *t.cfg
	cfg.Role = guestapi.RoleForkChild
	cfg.Scenarios = nil
	cfg.Fork = &guestapi.ForkChild{Cookie: ck[:], ReadFD: int(pp[0]), Message: msg}
	child, err := t.env.Spawn(t.ctx, &cfg)
	if err != nil {
		t.Fail(guestapi.LayerGuest, "starting the fork child: %v", err)
	}
	// Written once the child runs, so its read may have to wait for it.
	t.write(pp[1], []byte(msg))

	switch code := t.waitChild(child); code {
	case 0:
	case 1:
		t.Fail(guestapi.LayerData, "the fork child failed a check (its %q result says which)", forkChildName)
	default:
		t.Fail(guestapi.LayerGuest, "the fork child ended with exit code %d (its %q result, if any, says why)", code, forkChildName)
	}
	t.Check()

	t.expectBytes("file written by the child through its inherited fd", []byte(childMark), t.pread(ffd, 64, 0))
	t.ok(netbsd.SYS_close, pp[0])
	t.ok(netbsd.SYS_close, pp[1])
	t.ok(netbsd.SYS_close, ffd)
	t.ok(netbsd.SYS_unlink, t.str(path))
}

// waitChild waits for the child until the scenario's deadline.
func (t *T) waitChild(child Child) int {
	code, err := child.Wait(t.ctx)
	switch {
	case err == nil:
		return code
	case t.ctx.Err() != nil:
		t.Fail(guestapi.LayerTimeout, "the fork child was still running at the scenario's deadline")
	default:
		t.Fail(guestapi.LayerGuest, "waiting for the fork child: %v", err)
	}
	return 0
}

// runForkChild is the whole program of a fork child instance: one
// scenario, reported under its own name so the host sees both sides.
func runForkChild(cfg *guestapi.Config, env Env) int {
	r := runScenario(cfg, env, scenario{forkChildName, scenarioForkChild})
	if err := env.Report(r); err != nil {
		return ExitBroken
	}
	if r.Status != guestapi.Pass {
		return ExitFail
	}
	return ExitPass
}

// scenarioForkChild runs in the child instance.
func scenarioForkChild(t *T) {
	f := t.cfg.Fork
	if f == nil || len(f.Cookie) != sp.CookieSize {
		t.Fail(guestapi.LayerGuest, "the configuration has no fork hand-over with a %d-byte cookie", sp.CookieSize)
	}
	var parent, fileFD uint64
	if _, err := fmt.Sscanf(f.Message, forkMessage, &parent, &fileFD); err != nil {
		t.Fail(guestapi.LayerGuest, "fork message %q: %v", f.Message, err)
	}
	var ck sp.Cookie
	copy(ck[:], f.Cookie)
	if err := t.c.HandshakeFork(t.ctx, ck, false); err != nil {
		t.FailErr("FORK handshake", err)
	}
	t.Check()

	// A rump server forks the preforked process once more on the FORK
	// handshake and drops the first, so the child's parent is gone and
	// it reports ppid 1 (as captured from the real C server).
	rv := t.ok(netbsd.SYS_getpid)
	expect(t, "getpid retval[1] (ppid) in the fork child", uint64(1), rv[1])
	if rv[0] == parent || rv[0] < 2 || rv[0] > pidMax {
		t.FailValue("getpid retval[0] in the fork child", fmt.Sprintf("a pid in 2..%d other than the parent's %d", pidMax, parent), rv[0])
	}
	t.Check()
	expect(t, "getppid in the fork child", uint64(1), t.ok(netbsd.SYS_getppid)[0])

	// A blocking read on the inherited pipe: the parent writes after
	// starting this instance.
	buf, b := t.alloc(len(f.Message)+16, guardFill)
	n := t.ok(netbsd.SYS_read, uint64(f.ReadFD), buf, uint64(len(b)))[0]
	expect(t, "read from the inherited pipe retval", uint64(len(f.Message)), n)
	t.expectBytes("read from the inherited pipe", []byte(f.Message), b[:n])

	n = t.ok(netbsd.SYS_pwrite, fileFD, t.data([]byte(childMark)), uint64(len(childMark)), 0)[0]
	expect(t, "pwrite through the inherited file fd retval", uint64(len(childMark)), n)
}
