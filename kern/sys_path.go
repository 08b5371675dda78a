package kern

import (
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// The syscalls that look a path up and act on what it names, plus the
// process's cwd and umask.

// lookup copies in the path at argument 0 and resolves it to something
// that exists (tree.existing); the caller gets the tree locked and must
// unlock it, whatever the result.
func (c *call) lookup(follow bool) (tree, found, netbsd.Errno) {
	path, e := c.path(0)
	t := c.lockTree()
	if e != 0 {
		return t, found{}, e
	}
	r, e := t.existing(path, follow)
	return t, r, e
}

// chdir(2): path.
func sysChdir(c *call) sp.Result {
	t, r, e := c.lookup(true)
	defer t.unlock()
	if e == 0 {
		e = c.changeDir(t, r.node)
	}
	return done(e)
}

// fchdir(2): fd. The descriptor must be a vnode (EINVAL) and a
// directory (ENOTDIR) the process may search.
func sysFchdir(c *call, f *file) sp.Result {
	n, e := f.vnode()
	if e != 0 {
		return fail(e)
	}
	t := c.lockTree()
	defer t.unlock()
	return done(c.changeDir(t, n))
}

// changeDir makes n the cwd, under the tree's lock, so that an unmount
// sees every cwd as it is.
func (c *call) changeDir(t tree, n *inode) netbsd.Errno {
	if !n.isDir() {
		return netbsd.ENOTDIR
	}
	if e := t.cr.may(n, permX); e != 0 {
		return e
	}
	c.p.setCwd(n)
	return 0
}

// access(2): path, mode (R_OK, W_OK, X_OK or F_OK), checked with the
// real ids, as NetBSD's access does.
func sysAccess(c *call) sp.Result {
	mode := c.int(1)
	if mode&^(netbsd.R_OK|netbsd.W_OK|netbsd.X_OK) != 0 {
		return fail(netbsd.EINVAL)
	}
	t, r, e := c.lookup(true)
	defer t.unlock()
	if e == 0 && mode != netbsd.F_OK {
		rc := t.cr
		rc.euid, rc.egid = t.cr.ruid, t.cr.rgid
		e = rc.may(r.node, uint32(mode))
	}
	return done(e)
}

// readlink(2): path, buf, count. The target is stored without a NUL and
// cut at count; the result is the bytes stored.
func sysReadlink(c *call) sp.Result {
	t, r, e := c.lookup(false)
	if e == 0 && !r.node.isLink() {
		e = netbsd.EINVAL
	}
	var target string
	if e == 0 {
		target = r.node.target
		r.node.touch(c.fs.now(), touchA)
	}
	t.unlock()
	if e != 0 {
		return fail(e)
	}
	target = target[:min(uint64(len(target)), c.arg(2))]
	return result(uint64(len(target)), c.copyOut(c.arg(1), []byte(target)))
}

// truncate(2): path, PAD, length. As NetBSD's sys_truncate, a negative
// length is EINVAL before the path is even copied in.
func sysTruncate(c *call) sp.Result {
	length := c.off(1)
	if length < 0 {
		return fail(netbsd.EINVAL)
	}
	t, r, e := c.lookup(true)
	if e == 0 && r.node.isDir() {
		e = netbsd.EISDIR
	}
	if e == 0 {
		e = t.cr.may(r.node, permW)
	}
	t.unlock()
	if e != 0 {
		return fail(e)
	}
	return done(c.fs.setSize(r.node, length))
}

// umask(2): newmask. Returns the old mask.
func sysUmask(c *call) sp.Result {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	old := c.p.umask
	c.p.umask = uint32(c.arg(0)) & netbsd.ALLPERMS
	return result(uint64(old), 0)
}

// __getcwd(2): bufp, length. Like NetBSD's, it takes the length as a C
// int (so a huge size_t can read as small or negative), answers ERANGE
// below 2 bytes, caps it at four times PATH_MAX, builds the path as
// getcwd_common does (see fileSystem.getcwd, which keeps NetBSD's short
// buffer bug) and returns the bytes stored, NUL included.
func sysGetcwd(c *call) sp.Result {
	length := int(int32(c.arg(1)))
	if length < 2 {
		return fail(netbsd.ERANGE)
	}
	length = min(length, 4*netbsd.PATH_MAX)
	t := c.lockTree()
	out, e := t.fs.getcwd(t.cr, t.cwd, length)
	t.unlock()
	if e != 0 {
		return fail(e)
	}
	return result(uint64(len(out)), c.copyOut(c.arg(0), out))
}
