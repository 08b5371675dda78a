package kern

import (
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// The extensions: calls a NetBSD rump kernel answers with ENOSYS, which
// sprig serves when Config.Extensions asks for them.

// kill(2) (ExtKill): pid, signum. A positive pid names one process, 0 the
// caller's process group, -1 every process the caller may signal but pid
// 1 and itself, and -g the group g. Signal 0 only checks. The caller may
// signal processes of its own connection tree (unless
// Config.KillAnyClient widens that to every client) whose real or
// effective uid matches its own, or any of them as root; pid 1, the
// server, is no client's. A single target it may not signal is EPERM; a
// group or everyone skips those, and finding no one is ESRCH.
func sysKill(c *call) sp.Result {
	pid, sig := int(int32(c.arg(0))), c.int(1)
	if sig < 0 || sig >= netbsd.NSIG {
		return fail(netbsd.EINVAL)
	}
	mine, _ := c.p.tree()
	cr := c.p.creds()
	may := func(q *Process) bool {
		theirs, client := q.tree()
		if !client || (!c.k.cfg.KillAnyClient && theirs != mine) {
			return false
		}
		qc := q.creds()
		return cr.root() || cr.ruid == qc.ruid || cr.ruid == qc.svuid || cr.euid == qc.ruid || cr.euid == qc.svuid
	}
	send := func(q *Process) {
		if sig != 0 {
			q.signal(int32(sig))
		}
	}
	if pid > 0 {
		q := c.k.process(pid)
		switch {
		case q == nil:
			return fail(netbsd.ESRCH)
		case !may(q):
			return fail(netbsd.EPERM)
		}
		send(q)
		return done(0)
	}
	found := 0
	for _, q := range c.k.processes() {
		switch {
		case pid == 0 && q.pgid != c.p.pgid,
			pid == -1 && (q.pid == initPid || q == c.p),
			pid < -1 && q.pgid != -pid:
			continue
		}
		if !may(q) {
			continue
		}
		found++
		send(q)
	}
	if found == 0 {
		return fail(netbsd.ESRCH)
	}
	return done(0)
}

// mmap(2) (ExtMmap): addr, len, prot, flags, fd, PAD, pos. Only anonymous
// memory is served, and it is the client's: the kernel asks the client to
// map len bytes (ANONMMAP) and returns the client's address. A file
// mapping is ENODEV (after the descriptor is checked), since the server
// cannot put a file into the client's address space; MAP_FIXED is
// EINVAL, since the client picks the address.
func sysMmap(c *call) sp.Result {
	flags := c.int(3)
	if flags&netbsd.MAP_ANON == 0 {
		f, e := c.file(4)
		if e != 0 {
			return fail(e)
		}
		f.release()
		return fail(netbsd.ENODEV)
	}
	size := c.arg(1)
	if size == 0 || flags&netbsd.MAP_FIXED != 0 {
		return fail(netbsd.EINVAL)
	}
	addr, err := c.req.Mem.AnonMmap(c.ctx, size)
	if err != nil {
		if e := sp.ErrnoOf(err); e != netbsd.EFAULT {
			return fail(e)
		}
		return fail(netbsd.ENOMEM)
	}
	return result(addr, 0)
}

// munmap(2) (ExtMmap): addr, len. The memory belongs to the client, which
// the sysproxy protocol gives no way to unmap; so, after NetBSD's own
// checks (the range must not wrap around the address space), the call
// succeeds and the mapping stays where it is.
func sysMunmap(c *call) sp.Result {
	ptrMax := uint64(1)<<(8*c.abi().Pointer.Size-1)<<1 - 1
	addr, size := c.arg(0), c.arg(1)
	if size > ptrMax-addr {
		return fail(netbsd.EINVAL)
	}
	return done(0)
}
