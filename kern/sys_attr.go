package kern

import (
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// The syscalls that change a node's attributes: its mode, its owner and
// its times, by path (following a final link or not) or by descriptor.

// attrByPath runs fn on the node the path at argument 0 names, with the
// tree locked; attrByFile on a descriptor's vnode (EINVAL for others).
func (c *call) attrByPath(follow bool, fn func(t tree, n *inode) netbsd.Errno) sp.Result {
	t, r, e := c.lookup(follow)
	defer t.unlock()
	if e != 0 {
		return fail(e)
	}
	return done(fn(t, r.node))
}

func (c *call) attrByFile(f *file, fn func(t tree, n *inode) netbsd.Errno) sp.Result {
	n, e := f.vnode()
	if e != 0 {
		return fail(e)
	}
	t := c.lockTree()
	defer t.unlock()
	return done(fn(t, n))
}

// chmod sets n's permission bits (the type bits of mode are ignored), as
// change_mode and genfs_can_chmod do.
func (c *call) chmod(mode uint32) func(t tree, n *inode) netbsd.Errno {
	mode &= netbsd.ALLPERMS
	return func(t tree, n *inode) netbsd.Errno {
		if e := t.cr.mayChmod(n, mode); e != 0 {
			return e
		}
		n.mode = n.kind() | mode
		n.touch(t.fs.now(), touchC)
		return 0
	}
}

// chmod(2): path, mode.
func sysChmod(c *call) sp.Result { return c.attrByPath(true, c.chmod(uint32(c.arg(1)))) }

// lchmod(2): path, mode; a final symbolic link is changed itself.
func sysLchmod(c *call) sp.Result { return c.attrByPath(false, c.chmod(uint32(c.arg(1)))) }

// fchmod(2): fd, mode.
func sysFchmod(c *call, f *file) sp.Result { return c.attrByFile(f, c.chmod(uint32(c.arg(1)))) }

// chown gives n a new owner and group, with NetBSD's (not POSIX's)
// semantics, as change_owner does: -1 leaves an id as it is, and a
// change of owner clears the setuid bit, a change of group the setgid
// bit, even for root.
func (c *call) chown(uid, gid uint32) func(t tree, n *inode) netbsd.Errno {
	return func(t tree, n *inode) netbsd.Errno {
		nu, ng := n.uid, n.gid
		if uid != noID {
			nu = uid
		}
		if gid != noID {
			ng = gid
		}
		if e := t.cr.mayChown(n, nu, ng); e != 0 {
			return e
		}
		if uid != noID {
			n.mode &^= netbsd.S_ISUID
		}
		if gid != noID {
			n.mode &^= netbsd.S_ISGID
		}
		n.uid, n.gid = nu, ng
		n.touch(t.fs.now(), touchC)
		return 0
	}
}

func (c *call) ids(i int) (uint32, uint32) { return uint32(c.arg(i)), uint32(c.arg(i + 1)) }

// chown(2): path, uid, gid.
func sysChown(c *call) sp.Result { return c.attrByPath(true, c.chown(c.ids(1))) }

// lchown(2): path, uid, gid; a final symbolic link is changed itself.
func sysLchown(c *call) sp.Result { return c.attrByPath(false, c.chown(c.ids(1))) }

// fchown(2): fd, uid, gid.
func sysFchown(c *call, f *file) sp.Result { return c.attrByFile(f, c.chown(c.ids(1))) }

// times copies in the two struct timevals at argument i, as do_sys_utimes
// does before it looks at the path: NULL means now for both (toNow).
// tv_usec is taken as it comes (NetBSD does not check it: 1000000 makes
// a tv_nsec of 1000000000); UTIME_NOW and UTIME_OMIT there mean now and
// leave it.
func (c *call) times(i int) (ts [2]netbsd.Timespec, omit [2]bool, toNow bool, e netbsd.Errno) {
	addr := c.arg(i)
	now := c.fs.now()
	if addr == 0 {
		return [2]netbsd.Timespec{now, now}, omit, true, 0
	}
	l := netbsd.LayoutsFor(c.abi()).Timeval
	b, e := c.copyIn(addr, 2*l.Size)
	if e != 0 {
		return ts, omit, false, e
	}
	for j := range ts {
		var tv netbsd.Timeval
		if err := l.Decode(b[j*l.Size:], &tv); err != nil {
			return ts, omit, false, netbsd.EFAULT
		}
		switch tv.Usec {
		case netbsd.UTIME_NOW:
			ts[j] = now
		case netbsd.UTIME_OMIT:
			omit[j] = true
		default:
			ts[j] = netbsd.Timespec{Sec: tv.Sec, Nsec: tv.Usec * 1000}
		}
	}
	return ts, omit, false, 0
}

// utimes sets n's access and modification times (genfs_can_chtimes
// decides who may); the change time moves to now.
func (c *call) utimes(ts [2]netbsd.Timespec, omit [2]bool, toNow bool) func(t tree, n *inode) netbsd.Errno {
	return func(t tree, n *inode) netbsd.Errno {
		if e := t.cr.mayChtimes(n, toNow); e != 0 {
			return e
		}
		if !omit[0] {
			n.atime = ts[0]
		}
		if !omit[1] {
			n.mtime = ts[1]
		}
		n.touch(t.fs.now(), touchC)
		return 0
	}
}

func (c *call) timesBy(by func(func(t tree, n *inode) netbsd.Errno) sp.Result) sp.Result {
	ts, omit, toNow, e := c.times(1)
	if e != 0 {
		return fail(e)
	}
	return by(c.utimes(ts, omit, toNow))
}

// __utimes50(2): path, tptr.
func sysUtimes(c *call) sp.Result {
	return c.timesBy(func(fn func(t tree, n *inode) netbsd.Errno) sp.Result { return c.attrByPath(true, fn) })
}

// __lutimes50(2): path, tptr; a final symbolic link is changed itself.
func sysLutimes(c *call) sp.Result {
	return c.timesBy(func(fn func(t tree, n *inode) netbsd.Errno) sp.Result { return c.attrByPath(false, fn) })
}

// __futimes50(2): fd, tptr.
func sysFutimes(c *call, f *file) sp.Result {
	if _, e := f.vnode(); e != 0 {
		return fail(e) // fd_getvnode comes before the copy-in
	}
	return c.timesBy(func(fn func(t tree, n *inode) netbsd.Errno) sp.Result { return c.attrByFile(f, fn) })
}
