package kern

import (
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// The syscalls that add, remove and move directory entries. Each copies
// its paths in, then does all its work under one hold of the file-system
// lock (lockTree), so a concurrent lookup sees the tree before or after,
// never half-way.

// twoPaths copies in the paths at arguments 0 and 1.
func (c *call) twoPaths() (string, string, netbsd.Errno) {
	a, e := c.path(0)
	if e != 0 {
		return "", "", e
	}
	b, e := c.path(1)
	return a, b, e
}

// link(2): path, link. The source's final symbolic link is followed.
func sysLink(c *call) sp.Result {
	from, to, e := c.twoPaths()
	if e != 0 {
		return fail(e)
	}
	t := c.lockTree()
	defer t.unlock()
	src, e := t.existing(from, true)
	switch {
	case e != 0:
		return fail(e)
	case src.node.isDir():
		return fail(netbsd.EPERM)
	}
	dst, e := t.creating(to)
	if e != 0 {
		return fail(e)
	}
	n := src.node
	if n.nlink >= netbsd.LINK_MAX {
		return fail(netbsd.EMLINK)
	}
	t.fs.linkNode(dst.dir, dst.name, n)
	n.touch(t.fs.now(), touchC)
	return done(0)
}

// unlink(2): path. A directory is EPERM, as NetBSD answers.
func sysUnlink(c *call) sp.Result {
	path, e := c.path(0)
	if e != 0 {
		return fail(e)
	}
	t := c.lockTree()
	defer t.unlock()
	r, e := t.existing(path, false)
	switch {
	case e != 0:
		return fail(e)
	case r.node.isDir():
		return fail(netbsd.EPERM)
	}
	if e := t.cr.mayRemove(r.dir, r.node); e != 0 {
		return fail(e)
	}
	t.fs.unlinkNode(r.dir, r.name, r.node)
	return done(0)
}

// mkdir(2): path, mode.
func sysMkdir(c *call) sp.Result {
	path, e := c.path(0)
	if e != 0 {
		return fail(e)
	}
	t := c.lockTree()
	defer t.unlock()
	r, e := t.creating(path)
	if e != 0 {
		return fail(e)
	}
	if r.dir.nlink >= netbsd.LINK_MAX {
		return fail(netbsd.EMLINK)
	}
	mode := uint32(c.arg(1)) & netbsd.ACCESSPERMS &^ t.umask
	t.fs.linkDir(r.dir, r.name, t.fs.newInode(netbsd.S_IFDIR|mode, t.cr.uid, r.dir.gid))
	return done(0)
}

// rmdir(2): path.
func sysRmdir(c *call) sp.Result {
	path, e := c.path(0)
	if e != 0 {
		return fail(e)
	}
	t := c.lockTree()
	defer t.unlock()
	r, e := t.existing(path, false)
	switch {
	case e != 0:
		return fail(e)
	case !r.node.isDir():
		return fail(netbsd.ENOTDIR)
	case r.name == ".":
		return fail(netbsd.EINVAL)
	case r.name == "..":
		return fail(netbsd.ENOTEMPTY)
	case r.node == t.fs.root:
		return fail(netbsd.EBUSY)
	}
	if e := t.cr.mayRemove(r.dir, r.node); e != 0 {
		return fail(e)
	}
	if !r.node.dir.empty() {
		return fail(netbsd.ENOTEMPTY)
	}
	t.fs.unlinkNode(r.dir, r.name, r.node)
	return done(0)
}

// symlink(2): path (the link's target, stored as given), link.
func sysSymlink(c *call) sp.Result {
	target, at, e := c.twoPaths()
	if e != 0 {
		return fail(e)
	}
	t := c.lockTree()
	defer t.unlock()
	r, e := t.creating(at)
	if e != 0 {
		return fail(e)
	}
	if e := t.fs.charge(int64(len(target))); e != 0 {
		return fail(e)
	}
	n := t.fs.newInode(netbsd.S_IFLNK|netbsd.ACCESSPERMS&^t.umask, t.cr.uid, r.dir.gid)
	n.target = target
	t.fs.linkNode(r.dir, r.name, n)
	return done(0)
}

// rename(2): from, to. Neither final symbolic link is followed.
func sysRename(c *call) sp.Result {
	from, to, e := c.twoPaths()
	if e != 0 {
		return fail(e)
	}
	t := c.lockTree()
	defer t.unlock()
	src, e := t.existing(from, false)
	switch {
	case e != 0:
		return fail(e)
	case src.isDots():
		return fail(netbsd.EINVAL)
	}
	dst, e := t.namei(to, false)
	switch {
	case e != 0:
		return fail(e)
	case dst.isDots():
		return fail(netbsd.EINVAL)
	case dst.node == nil && dst.dir.nlink == 0:
		return fail(netbsd.ENOENT)
	case src.node == dst.node:
		return done(0) // two names of one file: nothing to do
	}
	return done(t.fs.rename(t.cr, src, dst))
}

// rename moves src's entry to dst, replacing what dst names; fs.mu is
// held and both lookups succeeded.
func (fs *fileSystem) rename(cr cred, src, dst found) netbsd.Errno {
	n := src.node
	if e := cr.mayRemove(src.dir, n); e != 0 {
		return e
	}
	if dst.node != nil {
		if e := cr.mayRemove(dst.dir, dst.node); e != 0 {
			return e
		}
	} else if e := cr.mayChange(dst.dir); e != 0 {
		return e
	}
	if n.isDir() {
		for d := dst.dir; d != nil && d != fs.root; d = d.dir.parent {
			if d == n {
				return netbsd.EINVAL // into its own subtree
			}
		}
		if dst.node != nil && !dst.node.isDir() {
			return netbsd.ENOTDIR
		}
		if dst.node != nil && !dst.node.dir.empty() {
			return netbsd.ENOTEMPTY
		}
		if dst.dir != src.dir {
			// Its ".." is rewritten, which takes write access to it.
			if e := cr.may(n, permW); e != 0 {
				return e
			}
		}
	} else {
		if dst.node != nil && dst.node.isDir() {
			return netbsd.EISDIR
		}
		if dst.slash {
			return netbsd.ENOTDIR
		}
	}
	now := fs.now()
	if dst.node != nil {
		fs.unlinkNode(dst.dir, dst.name, dst.node)
	}
	src.dir.dir.remove(src.name)
	src.dir.touch(now, touchM|touchC)
	dst.dir.dir.add(dst.name, n)
	dst.dir.touch(now, touchM|touchC)
	if n.isDir() && src.dir != dst.dir {
		src.dir.nlink--
		dst.dir.nlink++
		n.dir.parent = dst.dir
	}
	n.touch(now, touchC)
	return 0
}
