package kern

import (
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// getpid(2): the pid in retval[0] and the parent's in retval[1], as
// NetBSD returns both.
func sysGetpid(c *call) sp.Result {
	return sp.Result{Retval: [2]uint64{uint64(c.p.pid), uint64(c.p.PPid())}}
}

// getppid(2).
func sysGetppid(c *call) sp.Result { return result(uint64(c.p.PPid()), 0) }

// getuid(2) and geteuid(2): sprig's real and effective uid are one.
func sysGetuid(c *call) sp.Result { return result(uint64(c.p.cred.uid), 0) }

// getgid(2).
func sysGetgid(c *call) sp.Result { return result(uint64(c.p.cred.gid), 0) }

// sync(2): there is nothing to write back.
func sysSync(c *call) sp.Result { return done(0) }

// kill(2): pid, signum. A positive pid names one process, 0 the caller's
// process group, -1 every process the caller may signal except pid 1 and
// itself, and -g the group g. Signal 0 only checks. A process may signal
// those with its own uid; root may signal anyone. ESRCH when nothing
// matched, EPERM when something matched but none may be signalled.
func sysKill(c *call) sp.Result {
	pid, sig := int(int32(c.arg(0))), c.int(1)
	if sig < 0 || sig >= netbsd.NSIG {
		return fail(netbsd.EINVAL)
	}
	var targets []*Process
	c.k.mu.Lock()
	for _, q := range c.k.procs {
		switch {
		case pid > 0 && q.pid == pid,
			pid == 0 && q.pgid == c.p.pgid,
			pid == -1 && q.pid != initPid && q != c.p,
			pid < -1 && q.pgid == -pid:
			targets = append(targets, q)
		}
	}
	c.k.mu.Unlock()
	if len(targets) == 0 {
		return fail(netbsd.ESRCH)
	}
	allowed := 0
	for _, q := range targets {
		if !c.p.cred.root() && c.p.cred.uid != q.cred.uid {
			continue
		}
		allowed++
		if sig != 0 {
			q.signal(int32(sig))
		}
	}
	if allowed == 0 {
		return fail(netbsd.EPERM)
	}
	return done(0)
}

// mmap(2): addr, len, prot, flags, fd, PAD, pos. Only anonymous memory is
// served, and it is the client's: the kernel asks the client to map len
// bytes (ANONMMAP) and returns the client's address. A file mapping is
// ENODEV (after the descriptor is checked), since the server cannot put
// a file into the client's address space; MAP_FIXED is EINVAL, since the
// client picks the address.
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

// munmap(2): addr, len. The memory belongs to the client, which the
// sysproxy protocol gives no way to unmap; so, after NetBSD's own checks
// (the range must not wrap around the address space), the call
// succeeds and the mapping stays where it is.
func sysMunmap(c *call) sp.Result {
	ptrMax := uint64(1)<<(8*c.abi().Pointer.Size-1)<<1 - 1
	addr, size := c.arg(0), c.arg(1)
	if size > ptrMax-addr {
		return fail(netbsd.EINVAL)
	}
	return done(0)
}
