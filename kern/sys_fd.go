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
	fd, e := c.p.fds.install(f, 0, c.k.cfg.MaxOpenFiles, false)
	if e != 0 {
		f.release()
	}
	return result(uint64(fd), e)
}

// dup2(2): from, to. A target past the descriptor limit is EBADF.
func sysDup2(c *call) sp.Result {
	to := c.int(1)
	old, e := c.p.fds.dup2(c.int(0), to, c.k.cfg.MaxOpenFiles)
	if e != 0 {
		return fail(e)
	}
	if old != nil {
		old.release()
	}
	return result(uint64(to), 0)
}

// fcntl(2): fd, cmd, arg. The argument slot is a pointer's; the commands
// served take an int, its low 32 bits.
func sysFcntl(c *call, f *file) sp.Result {
	fd := c.int(0)
	arg := c.int(2)
	switch c.int(1) {
	case netbsd.F_DUPFD:
		if arg < 0 || arg >= c.k.cfg.MaxOpenFiles {
			return fail(netbsd.EINVAL)
		}
		nfd, e := c.p.fds.install(f.hold(), arg, c.k.cfg.MaxOpenFiles, false)
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
		f.setStatus(uint32(arg))
		return done(0)
	}
	return fail(netbsd.EINVAL)
}

// newPipeFDs makes a pipe and puts its read and write ends at the two
// lowest free descriptors.
func (c *call) newPipeFDs(flags uint32) (rfd, wfd int, e netbsd.Errno) {
	p := newPipe(c.fs.allocIno(), c.fs.now())
	rf, wf := newPipeFile(c.fs, p, false, flags), newPipeFile(c.fs, p, true, flags)
	cloexec := flags&netbsd.O_CLOEXEC != 0
	limit := c.k.cfg.MaxOpenFiles
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
// fildes; if that store fails they are closed again.
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
		return fail(e)
	}
	return done(0)
}
