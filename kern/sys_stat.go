package kern

import (
	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// __stat50(2): path, ub. Follows a final symbolic link.
func sysStat(c *call) sp.Result { return c.statPath(true) }

// __lstat50(2): path, ub. Reports a final symbolic link itself.
func sysLstat(c *call) sp.Result { return c.statPath(false) }

func (c *call) statPath(follow bool) sp.Result {
	r, e := c.lookup(follow)
	var st netbsd.Stat
	if e == 0 {
		st = r.node.stat(c.k.cfg.PageSize)
	}
	c.fs.mu.Unlock()
	if e != 0 {
		return fail(e)
	}
	return done(c.putStat(c.arg(1), &st))
}

// __fstat50(2): fd, sb.
func sysFstat(c *call, f *file) sp.Result {
	var st netbsd.Stat
	if f.pipe != nil {
		st = f.pipe.stat(c.p.cred)
	} else {
		c.fs.mu.Lock()
		st = f.node.stat(c.k.cfg.PageSize)
		c.fs.mu.Unlock()
	}
	return done(c.putStat(c.arg(1), &st))
}

// putStat stores st at addr in the client's struct stat layout.
func (c *call) putStat(addr uint64, st *netbsd.Stat) netbsd.Errno {
	b, err := netbsd.LayoutsFor(c.abi()).Stat.Encode(st)
	if err != nil {
		return netbsd.EOVERFLOW
	}
	return c.copyOut(addr, b)
}

// __getdents30(2): fd, buf, count. Records are struct dirent in the
// client's layout, each padded to DirentAlign bytes, "." and ".." first.
// The file offset is the cookie of the next entry, so the next call goes
// on from there; 0 bytes means the end. count is a u_int in NetBSD and is
// bounded by MAXBSIZE; a buffer too small for the next record is EINVAL.
func sysGetdents(c *call, f *file) sp.Result {
	if f.pipe != nil {
		return fail(netbsd.EINVAL)
	}
	if !f.readable() {
		return fail(netbsd.EBADF)
	}
	count := int(min(uint64(uint32(c.arg(2))), netbsd.MAXBSIZE))
	f.mu.Lock()
	out, next, e := c.fs.readDir(netbsd.LayoutsFor(c.abi()).Dirent, f.node, f.off, count)
	f.off = next
	f.mu.Unlock()
	if e != 0 {
		return fail(e)
	}
	return result(uint64(len(out)), c.copyOut(c.arg(1), out))
}

// readDir encodes the entries of dir from cookie off on into at most
// count bytes, as struct dirent laid out by l, and returns them with the
// cookie to continue from.
func (fs *fileSystem) readDir(l *abi.Layout, dir *inode, off int64, count int) ([]byte, int64, netbsd.Errno) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if !dir.isDir() {
		return nil, off, netbsd.EINVAL
	}
	if dir.nlink == 0 {
		return nil, off, 0 // removed: nothing left to list
	}
	nameOff, _ := l.FlexOffset()
	var out []byte
	next := off
	add := func(cookie int64, name string, n *inode) bool {
		reclen := alignUp(nameOff+len(name)+1, netbsd.DirentAlign)
		if len(out)+reclen > count {
			return false
		}
		rec := make([]byte, reclen)
		d := netbsd.Dirent{Fileno: n.ino, Reclen: uint16(reclen), Namlen: uint16(len(name)),
			Type: n.dtype(), Name: name}
		if err := l.EncodeTo(rec, &d); err != nil {
			return false
		}
		out = append(out, rec...)
		next = cookie + 1
		return true
	}
	full := false
	if off <= cookieDot {
		full = !add(cookieDot, ".", dir)
	}
	if !full && off <= cookieDotDot {
		full = !add(cookieDotDot, "..", dir.dir.parent)
	}
	if !full {
		for _, ent := range dir.dir.ents[dir.dir.from(max(off, cookieFirst)):] {
			if !add(ent.cookie, ent.name, ent.node) {
				full = true
				break
			}
		}
	}
	if full && len(out) == 0 {
		return nil, off, netbsd.EINVAL
	}
	dir.touch(fs.now(), touchA)
	return out, next, 0
}
