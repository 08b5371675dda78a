package kern

import (
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// close(2): fd.
func sysClose(c *call) sp.Result {
	f, e := c.p.fds.remove(c.int(0))
	if e != 0 {
		return fail(e)
	}
	f.release()
	return done(0)
}

// dup(2): fd. The copy is the lowest free descriptor, close-on-exec clear.
func sysDup(c *call) sp.Result {
	f, e := c.file(0)
	if e != 0 {
		return fail(e)
	}
	fd, e := c.p.fds.install(f, 0, c.p.nofile(), false)
	if e != 0 {
		f.release()
	}
	return result(uint64(fd), e)
}

// dup2(2): from, to. A target at or past RLIMIT_NOFILE is EBADF. As
// NetBSD's sys_dup2 stores the target in retval before it returns, a
// failure on the target (not on from) still carries it in retval[0].
func sysDup2(c *call) sp.Result {
	from, to := c.int(0), c.int(1)
	if _, e := c.p.fds.cloexec(from); e != 0 {
		return fail(e)
	}
	old, e := c.p.fds.dup2(from, to, c.p.nofile())
	if old != nil {
		old.release()
	}
	return sp.Result{Errno: e, Retval: [2]uint64{uint64(to)}}
}

// fcntl(2): fd, cmd, arg. The argument slot is a pointer's; the commands
// served take an int, its low 32 bits.
func sysFcntl(c *call, f *file) sp.Result {
	fd := c.int(0)
	arg := c.int(2)
	switch cmd := c.int(1); cmd {
	case netbsd.F_DUPFD, netbsd.F_DUPFD_CLOEXEC:
		limit := c.p.nofile()
		if arg < 0 || arg >= limit {
			return fail(netbsd.EINVAL)
		}
		nfd, e := c.p.fds.install(f.hold(), arg, limit, cmd == netbsd.F_DUPFD_CLOEXEC)
		if e != 0 {
			f.release()
		}
		return result(uint64(nfd), e)
	case netbsd.F_GETFD:
		on, e := c.p.fds.cloexec(fd)
		var v uint64
		if on {
			v = netbsd.FD_CLOEXEC
		}
		return result(v, e)
	case netbsd.F_SETFD:
		return done(c.p.fds.setCloexec(fd, arg&netbsd.FD_CLOEXEC != 0))
	case netbsd.F_GETFL:
		return result(uint64(f.flags.Load()), 0)
	case netbsd.F_SETFL:
		return done(c.setfl(f, uint32(arg)&settable))
	}
	return fail(netbsd.EINVAL)
}

// setfl is sys_fcntl's F_SETFL: the file's own fcntl operation may refuse
// (rumpfs does, for remote processes), then a change of O_NONBLOCK or
// O_ASYNC is announced to it as FIONBIO or FIOASYNC, which may refuse
// too (the console does); only then do the flags change.
func (c *call) setfl(f *file, v uint32) netbsd.Errno {
	if f.isVnode() {
		c.fs.mu.Lock()
		refuse := !f.node.mnt.t.setfl && !f.node.isChr()
		c.fs.mu.Unlock()
		if refuse {
			return netbsd.EINVAL
		}
	}
	changed := (f.flags.Load() ^ v) & settable
	for _, x := range []struct {
		flag uint32
		cmd  uint64
	}{{netbsd.O_NONBLOCK, netbsd.FIONBIO}, {netbsd.O_ASYNC, netbsd.FIOASYNC}} {
		if changed&x.flag == 0 {
			continue
		}
		if _, e := c.fileIoctl(f, x.cmd, c.cint(int32(v&x.flag))); e != 0 {
			return e
		}
	}
	f.setStatus(v)
	return 0
}

// newPipeFDs makes a pipe and puts its read and write ends at the two
// lowest free descriptors.
func (c *call) newPipeFDs(flags uint32) (rfd, wfd int, e netbsd.Errno) {
	p := newPipe(c.fs.now())
	rf, wf := newPipeFile(c.fs, p, false, flags), newPipeFile(c.fs, p, true, flags)
	cloexec := flags&netbsd.O_CLOEXEC != 0
	limit := c.p.nofile()
	if rfd, e = c.p.fds.install(rf, 0, limit, cloexec); e != 0 {
		rf.release()
		wf.release()
		return -1, -1, e
	}
	if wfd, e = c.p.fds.install(wf, 0, limit, cloexec); e != 0 {
		wf.release()
		if f, _ := c.p.fds.remove(rfd); f != nil {
			f.release()
		}
		return -1, -1, e
	}
	return rfd, wfd, 0
}

// pipe(2): no arguments; the descriptors come back in retval[0] (read
// end) and retval[1] (write end).
func sysPipe(c *call) sp.Result {
	rfd, wfd, e := c.newPipeFDs(0)
	if e != 0 {
		return fail(e)
	}
	return sp.Result{Retval: [2]uint64{uint64(rfd), uint64(wfd)}}
}

// pipe2(2): fildes, flags. The descriptors are stored as two C ints at
// fildes; if that store fails they are closed again. As NetBSD's
// sys_pipe2, only retval[0] is cleared: the write end stays in
// retval[1].
func sysPipe2(c *call) sp.Result {
	flags := uint32(c.int(1))
	if flags&^(netbsd.O_CLOEXEC|netbsd.O_NONBLOCK|netbsd.O_NOSIGPIPE) != 0 {
		return fail(netbsd.EINVAL)
	}
	rfd, wfd, e := c.newPipeFDs(flags)
	if e != 0 {
		return fail(e)
	}
	out := append(c.cint(int32(rfd)), c.cint(int32(wfd))...)
	if e := c.copyOut(c.arg(0), out); e != 0 {
		for _, fd := range []int{rfd, wfd} {
			if f, _ := c.p.fds.remove(fd); f != nil {
				f.release()
			}
		}
		return sp.Result{Errno: e, Retval: [2]uint64{uint64(rfd), uint64(wfd)}}
	}
	return sp.Result{Retval: [2]uint64{0, uint64(wfd)}}
}
