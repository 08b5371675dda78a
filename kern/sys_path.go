package kern

import (
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// The syscalls that look a path up and act on what it names, plus the
// process's cwd and umask.

// lookup copies in the path at argument 0 and resolves it to something
// that exists (tree.existing); the caller gets fs.mu held and must
// unlock it, whatever the result.
func (c *call) lookup(follow bool) (found, netbsd.Errno) {
	path, e := c.path(0)
	t := c.lockTree()
	if e != 0 {
		return found{}, e
	}
	return t.existing(path, follow)
}

// chdir(2): path.
func sysChdir(c *call) sp.Result {
	r, e := c.lookup(true)
	if e == 0 && !r.node.isDir() {
		e = netbsd.ENOTDIR
	}
	if e == 0 {
		e = c.p.cred.may(r.node, permX)
	}
	c.fs.mu.Unlock()
	if e != 0 {
		return fail(e)
	}
	c.p.mu.Lock()
	c.p.cwd = r.node
	c.p.mu.Unlock()
	return done(0)
}

// access(2): path, mode (R_OK, W_OK, X_OK or F_OK). sprig's real and
// effective ids are the same, so the check is the ordinary one.
func sysAccess(c *call) sp.Result {
	mode := c.int(1)
	if mode&^(netbsd.R_OK|netbsd.W_OK|netbsd.X_OK) != 0 {
		return fail(netbsd.EINVAL)
	}
	r, e := c.lookup(true)
	defer c.fs.mu.Unlock()
	if e == 0 && mode != netbsd.F_OK {
		e = c.p.cred.may(r.node, uint32(mode))
	}
	return done(e)
}

// readlink(2): path, buf, count. The target is stored without a NUL and
// cut at count; the result is the bytes stored.
func sysReadlink(c *call) sp.Result {
	r, e := c.lookup(false)
	if e == 0 && !r.node.isLink() {
		e = netbsd.EINVAL
	}
	var target string
	if e == 0 {
		target = r.node.target
		r.node.touch(c.fs.now(), touchA)
	}
	c.fs.mu.Unlock()
	if e != 0 {
		return fail(e)
	}
	target = target[:min(uint64(len(target)), c.arg(2))]
	return result(uint64(len(target)), c.copyOut(c.arg(1), []byte(target)))
}

// truncate(2): path, PAD, length.
func sysTruncate(c *call) sp.Result {
	r, e := c.lookup(true)
	if e == 0 && r.node.isDir() {
		e = netbsd.EISDIR
	}
	if e == 0 {
		e = c.p.cred.may(r.node, permW)
	}
	c.fs.mu.Unlock()
	if e != 0 {
		return fail(e)
	}
	return done(c.fs.setSize(r.node, c.off(1)))
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
// int (so a huge size_t can read as small or negative), caps it at four
// times PATH_MAX, answers ERANGE below 2 bytes or when the path and its
// NUL do not fit, and returns the bytes stored, NUL included.
func sysGetcwd(c *call) sp.Result {
	length := int(int32(c.arg(1)))
	if length < 2 {
		return fail(netbsd.ERANGE)
	}
	length = min(length, 4*netbsd.PATH_MAX)
	t := c.lockTree()
	path, e := t.fs.pathOf(t.cr, t.cwd)
	t.unlock()
	if e != 0 {
		return fail(e)
	}
	if len(path)+1 > length {
		return fail(netbsd.ERANGE)
	}
	out := append([]byte(path), 0)
	return result(uint64(len(out)), c.copyOut(c.arg(0), out))
}
