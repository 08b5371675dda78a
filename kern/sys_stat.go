package kern

import (
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// __stat50(2): path, ub. Follows a final symbolic link.
func sysStat(c *call) sp.Result { return c.statPath(true) }

// __lstat50(2): path, ub. Reports a final symbolic link itself.
func sysLstat(c *call) sp.Result { return c.statPath(false) }

func (c *call) statPath(follow bool) sp.Result {
	t, r, e := c.lookup(follow)
	var st netbsd.Stat
	if e == 0 {
		st = r.node.stat(c.fs.pageSize)
	}
	t.unlock()
	if e != 0 {
		return fail(e)
	}
	return done(c.putStat(c.arg(1), &st))
}

// __fstat50(2): fd, sb.
func sysFstat(c *call, f *file) sp.Result {
	var st netbsd.Stat
	switch {
	case f.pipe != nil:
		st = f.pipe.stat(c.p.creds())
	case f.cons != nil:
		st = f.cons.stat()
	default:
		c.fs.mu.Lock()
		st = f.node.stat(c.fs.pageSize)
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
// client's layout, each padded to DirentAlign bytes, listed as the
// directory's file system lists them (see readDir), and copied out one
// record at a time, as the real kernel's readdir moves each with its own
// uiomove. The file offset is where the next call goes on. count is
// bounded by MAXBSIZE. Anything but a vnode is EINVAL, and so is a
// vnode that is not a directory (vn_readdir).
func sysGetdents(c *call, f *file) sp.Result {
	if !f.isVnode() {
		return fail(netbsd.EINVAL)
	}
	if !f.readable() {
		return fail(netbsd.EBADF)
	}
	count := int(min(uint64(uint32(c.arg(2))), netbsd.MAXBSIZE))
	l := netbsd.LayoutsFor(c.abi()).Dirent
	nameOff, _ := l.FlexOffset()
	f.mu.Lock()
	c.fs.mu.Lock()
	var recs []record
	var e netbsd.Errno
	if f.node.isDir() {
		recs, f.off, e = c.fs.readDir(f.node, f.off, count, nameOff)
	} else {
		e = netbsd.EINVAL
	}
	c.fs.mu.Unlock()
	f.mu.Unlock()
	if e != 0 {
		return fail(e)
	}
	addr, total := c.arg(1), 0
	for _, r := range recs {
		rl := reclen(nameOff, len(r.name))
		rec := make([]byte, rl)
		d := netbsd.Dirent{Fileno: r.ino, Reclen: uint16(rl), Namlen: uint16(len(r.name)), Type: r.dtype, Name: r.name}
		if err := l.EncodeTo(rec, &d); err != nil {
			return fail(netbsd.EFAULT)
		}
		if e := c.copyOut(addr+uint64(total), rec); e != 0 {
			return fail(e)
		}
		total += rl
	}
	return result(uint64(total), 0)
}
