package kern

import (
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// ioctl(2): fd, com, data, as NetBSD's sys_ioctl: a bad descriptor is
// EBADF; FIOCLEX and FIONCLEX set the close-on-exec flag; otherwise the
// command's encoded size and direction decide the copying -- IOC_IN
// copies the argument in first, IOC_OUT hands the file a zeroed buffer
// and copies it out after a success -- and a size past IOCPARM_MAX is
// ENOTTY. FIONBIO and FIOASYNC set or clear O_NONBLOCK or O_ASYNC before
// the file hears of them, so the flag changes even when the file then
// refuses (the console does). Commands no file knows are ENOTTY or
// EOPNOTSUPP, as each kind of file answers.
func sysIoctl(c *call) sp.Result {
	fd := c.int(0)
	f, e := c.file(0)
	if e != 0 {
		return fail(e)
	}
	defer f.release()
	com, data := c.arg(1), c.arg(2)
	switch com {
	case netbsd.FIOCLEX, netbsd.FIONCLEX:
		return done(c.p.fds.setCloexec(fd, com == netbsd.FIOCLEX))
	}
	cmd := uint32(com) // the direction and size bits are in the low word
	size := netbsd.IOCPARM_LEN(cmd)
	if size > netbsd.IOCPARM_MAX {
		return fail(netbsd.ENOTTY)
	}
	var buf []byte
	if cmd>>netbsd.IOCPARM_SHIFT != 0 && size > 0 {
		switch {
		case cmd&netbsd.IOC_IN != 0:
			if buf, e = c.copyIn(data, size); e != 0 {
				return fail(e)
			}
		case cmd&netbsd.IOC_OUT != 0:
			buf = make([]byte, size)
		}
	}
	switch com {
	case netbsd.FIONBIO, netbsd.FIOASYNC:
		flag := uint32(netbsd.O_NONBLOCK)
		if com == netbsd.FIOASYNC {
			flag = netbsd.O_ASYNC
		}
		f.setFlag(flag, len(buf) >= 4 && c.decodeCInt(buf) != 0)
		_, e := c.fileIoctl(f, com, buf)
		return done(e)
	}
	out, e := c.fileIoctl(f, com, buf)
	if e != 0 {
		return fail(e)
	}
	if cmd&netbsd.IOC_OUT != 0 && size > 0 {
		if out != nil {
			copy(buf, out)
		}
		return done(c.copyOut(data, buf))
	}
	return done(0)
}

// fileIoctl is the file's own ioctl operation (fo_ioctl): it returns the
// bytes an IOC_OUT command hands back (nil: the zeroed buffer as it is).
// arg holds what an IOC_IN command copied in.
func (c *call) fileIoctl(f *file, com uint64, arg []byte) ([]byte, netbsd.Errno) {
	switch {
	case f.cons != nil:
		return nil, f.cons.ioctl(com)
	case f.pipe != nil:
		v, e := f.pipe.ioctl(com, f.writeEnd)
		if e != 0 {
			return nil, e
		}
		return c.cint(v), 0
	}
	return c.vnodeIoctl(f, com, arg)
}

// vnodeIoctl is vn_ioctl: for files and directories FIONREAD is the bytes
// from the offset to the end, FIONWRITE and FIONSPACE are 0, FIONBIO and
// FIOASYNC succeed, and anything else goes to the file system, which
// answers its personality's error; a device answers as NetBSD's mem
// driver does.
func (c *call) vnodeIoctl(f *file, com uint64, arg []byte) ([]byte, netbsd.Errno) {
	n := f.node
	c.fs.mu.Lock()
	isChr, size, ioctlErr := n.isChr(), n.stat(c.fs.pageSize).Size, n.mnt.t.ioctlErr
	c.fs.mu.Unlock()
	if isChr {
		switch com {
		case netbsd.FIONBIO:
			return nil, 0 // we never block anyway
		case netbsd.FIOASYNC:
			if len(arg) >= 4 && c.decodeCInt(arg) == 0 {
				return nil, 0
			}
			return nil, netbsd.EOPNOTSUPP
		case netbsd.TIOCGETA:
			return nil, netbsd.ENOTTY
		}
		return nil, netbsd.EOPNOTSUPP
	}
	switch com {
	case netbsd.FIONREAD:
		f.mu.Lock()
		left := size - f.off
		f.mu.Unlock()
		return c.cint(int32(left)), 0
	case netbsd.FIONWRITE, netbsd.FIONSPACE:
		return c.cint(0), 0
	case netbsd.FIONBIO, netbsd.FIOASYNC:
		return nil, 0
	}
	return nil, ioctlErr
}
