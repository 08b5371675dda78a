package kern

import (
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// open(2): path, flags, mode. The descriptor is taken first, so a full
// table is EMFILE before anything is created, as in NetBSD.
func sysOpen(c *call) sp.Result {
	path, e := c.path(0)
	if e != 0 {
		return fail(e)
	}
	flags := uint32(c.int(1))
	if flags&netbsd.O_ACCMODE == netbsd.O_ACCMODE {
		return fail(netbsd.EINVAL)
	}
	fd, e := c.p.fds.reserve(c.p.nofile())
	if e != 0 {
		return fail(e)
	}
	t := c.lockTree()
	f, e := t.open(path, flags, uint32(c.arg(2))&^t.umask)
	t.unlock()
	if e != 0 {
		c.p.fds.fill(fd, nil, false)
		return fail(e)
	}
	c.p.fds.fill(fd, f, flags&netbsd.O_CLOEXEC != 0)
	return result(uint64(fd), 0)
}

// open resolves path and returns an open file on it, creating a regular
// file for O_CREAT. mode is the creation mode with the umask applied.
// The checks follow NetBSD's vn_open: O_EXCL and O_NOFOLLOW do not follow
// a final symbolic link, and with O_NOFOLLOW a link there is EFTYPE; a
// missing name with a trailing slash is ENOENT even with O_CREAT; an
// existing file is checked for O_DIRECTORY, then for read access, then
// (for writing or O_TRUNC) for being a directory and for write access; a
// file this call creates is opened whatever its mode.
func (t tree) open(path string, flags, mode uint32) (*file, netbsd.Errno) {
	fs := t.fs
	excl := flags&(netbsd.O_CREAT|netbsd.O_EXCL) == netbsd.O_CREAT|netbsd.O_EXCL
	nofollow := flags&netbsd.O_NOFOLLOW != 0
	r, e := t.namei(path, !excl && !nofollow)
	if e != 0 {
		return nil, e
	}
	acc := flags & netbsd.O_ACCMODE
	n := r.node
	switch {
	case n == nil && flags&netbsd.O_CREAT == 0:
		return nil, netbsd.ENOENT
	case n == nil:
		if r.slash {
			return nil, netbsd.ENOENT
		}
		if e := r.dir.mnt.mayCreateNode(); e != 0 {
			return nil, e
		}
		if e := t.mayCreateIn(r.dir); e != 0 {
			return nil, e
		}
		n = fs.newInode(r.dir.mnt, netbsd.S_IFREG|mode&netbsd.ALLPERMS&^netbsd.S_ISVTX, t.cr.euid, r.dir.gid)
		fs.linkNode(r.dir, r.name, n)
		if flags&netbsd.O_DIRECTORY != 0 {
			return nil, netbsd.ENOTDIR // created all the same, as BSD does
		}
	case excl:
		return nil, netbsd.EEXIST
	case n.isLink():
		return nil, netbsd.EFTYPE // O_NOFOLLOW met a link
	default:
		if n.isDir() && n.nlink == 0 && !n.mnt.t.removedDirLives {
			return nil, netbsd.ENOENT // tmpfs_open: the node is about to die
		}
		if flags&netbsd.O_DIRECTORY != 0 && !n.isDir() {
			return nil, netbsd.ENOTDIR
		}
		if acc != netbsd.O_WRONLY {
			if e := t.cr.may(n, permR); e != 0 {
				return nil, e
			}
		}
		if acc != netbsd.O_RDONLY || flags&netbsd.O_TRUNC != 0 {
			if n.isDir() {
				return nil, netbsd.EISDIR
			}
			if e := t.cr.may(n, permW); e != 0 {
				return nil, e
			}
		}
		if flags&netbsd.O_TRUNC != 0 && n.isReg() {
			fs.truncate(n, 0)
			n.touch(fs.now(), touchM|touchC)
		}
	}
	return fs.newVnodeFile(n, flags), 0
}
