package kern

import (
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// The syscalls that add, remove and move directory entries. Each copies
// its paths in, then does its work under one hold of the file-system
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

// link(2): path, link, in do_sys_linkat's order: the source is copied in
// and looked up (following a final link) before the new name is even
// copied in; then the new name must be free (EEXIST), the source no
// directory (EPERM) and on the same file system (EXDEV); last the file
// system links, which rumpfs refuses (EOPNOTSUPP).
func sysLink(c *call) sp.Result {
	from, e := c.path(0)
	if e != 0 {
		return fail(e)
	}
	t := c.lockTree()
	src, e := t.existing(from, true)
	t.unlock()
	if e != 0 {
		return fail(e)
	}
	to, e := c.path(1)
	if e != 0 {
		return fail(e)
	}
	t = c.lockTree()
	defer t.unlock()
	if src, e = t.existing(from, true); e != 0 { // it may have gone meanwhile
		return fail(e)
	}
	dst, e := t.namei(to, false)
	switch {
	case e != 0:
		return fail(e)
	case dst.node != nil:
		return fail(netbsd.EEXIST)
	case dst.slash:
		return fail(netbsd.ENOENT)
	}
	if e := t.mayCreateIn(dst.dir); e != 0 { // the CREATE lookup checks the directory
		return fail(e)
	}
	switch {
	case src.node.isDir():
		return fail(netbsd.EPERM)
	case dst.dir.mnt != src.node.mnt:
		return fail(netbsd.EXDEV)
	case !dst.dir.mnt.t.renames:
		return fail(netbsd.EOPNOTSUPP)
	}
	n := src.node
	if n.nlink >= netbsd.LINK_MAX {
		return fail(netbsd.EMLINK)
	}
	t.fs.linkNode(dst.dir, dst.name, n)
	n.touch(t.fs.now(), touchC)
	return done(0)
}

// unlink(2): path. "/" is EBUSY; a directory is EPERM, as NetBSD answers.
func sysUnlink(c *call) sp.Result {
	path, e := c.path(0)
	if e != 0 {
		return fail(e)
	}
	t := c.lockTree()
	defer t.unlock()
	r, e := t.deleting(path)
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
	r, e := t.creating(path, true)
	if e != 0 {
		return fail(e)
	}
	if r.dir.nlink >= netbsd.LINK_MAX {
		return fail(netbsd.EMLINK)
	}
	mode := uint32(c.arg(1)) & netbsd.ACCESSPERMS &^ t.umask
	t.fs.linkDir(r.dir, r.name, t.fs.newInode(r.dir.mnt, netbsd.S_IFDIR|mode, t.cr.euid, r.dir.gid))
	return done(0)
}

// rmdir(2): path. The root of a file system (the root, or one mounted on
// the directory named) is EBUSY.
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
	case r.node == t.fs.root.root || r.node.isMountRoot():
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
	r, e := t.creating(at, false)
	if e != 0 {
		return fail(e)
	}
	if e := t.fs.charge(r.dir.mnt, int64(len(target))); e != 0 {
		return fail(e)
	}
	n := t.fs.newInode(r.dir.mnt, netbsd.S_IFLNK|netbsd.ACCESSPERMS&^t.umask, t.cr.euid, r.dir.gid)
	n.target = target
	t.fs.linkNode(r.dir, r.name, n)
	return done(0)
}

// rename(2): from, to, in do_sys_renameat's order: both paths copied in;
// the source looked up as for a delete ("/" is EBUSY), "." or ".." as
// its last component refused (EINVAL) and its removal checked; the
// target looked up, where "/" is EBUSY and rumpfs refuses any last
// component but "." (EOPNOTSUPP, before anything else is known of it);
// "." as the target is EISDIR and ".." EINVAL; the target's directory
// checked; the two must share a file system (EXDEV). Neither final
// symbolic link is followed.
func sysRename(c *call) sp.Result {
	from, to, e := c.twoPaths()
	if e != 0 {
		return fail(e)
	}
	t := c.lockTree()
	defer t.unlock()
	src, e := t.deleting(from)
	switch {
	case e != 0:
		return fail(e)
	case src.name == "." || src.name == "..":
		return fail(netbsd.EINVAL)
	}
	if e := t.cr.mayRemove(src.dir, src.node); e != 0 {
		return fail(e)
	}
	dst, e := t.namei(to, false)
	switch {
	case e != 0:
		return fail(e)
	case dst.isRoot():
		return fail(netbsd.EBUSY)
	case !dst.dir.mnt.t.renames && dst.name != ".":
		return fail(netbsd.EOPNOTSUPP)
	case dst.name == ".":
		return fail(netbsd.EISDIR)
	case dst.name == "..":
		return fail(netbsd.EINVAL)
	}
	if dst.node != nil {
		e = t.cr.mayRemove(dst.dir, dst.node)
	} else {
		e = t.cr.mayChange(dst.dir)
	}
	switch {
	case e != 0:
		return fail(e)
	case dst.node == nil && dst.slash && !src.node.isDir():
		return fail(netbsd.ENOENT)
	case src.dir.mnt != dst.dir.mnt:
		return fail(netbsd.EXDEV)
	case !src.dir.mnt.t.renames:
		return fail(netbsd.EOPNOTSUPP)
	case src.node.isMountRoot() || (dst.node != nil && dst.node.isMountRoot()):
		return fail(netbsd.EBUSY)
	case dst.node == nil && dst.dir.nlink == 0:
		return fail(netbsd.ENOENT)
	}
	return done(t.fs.rename(t.cr, src, dst))
}

// rename moves src's entry to dst, replacing what dst names, with
// genfs_rename's checks; fs.mu is held, both lookups succeeded and the
// permissions to remove and to enter were checked.
// Renaming a name onto itself does nothing; renaming one hard link onto
// another name of the same file removes the source name, as NetBSD's
// rename(2) does (POSIX, and NetBSD's __posix_rename, leave both).
func (fs *fileSystem) rename(cr cred, src, dst found) netbsd.Errno {
	n := src.node
	if src.dir == dst.dir && src.name == dst.name {
		return 0
	}
	if dst.node == n {
		if n.isDir() {
			return netbsd.EINVAL
		}
		fs.unlinkNode(src.dir, src.name, n)
		return 0
	}
	if n.isDir() {
		for d := dst.dir; d != nil && d != n.mnt.root; d = d.dir.parent {
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
