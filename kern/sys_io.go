package kern

import (
	"math"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// read(2): fd, buf, nbyte.
func sysRead(c *call, f *file) sp.Result {
	if !f.readable() {
		return fail(netbsd.EBADF)
	}
	n, e := c.count(2)
	if e != 0 {
		return fail(e)
	}
	if f.pipe != nil {
		return c.readOut(f.pipe.read(c.ctx, n, f.has(netbsd.O_NONBLOCK), c.fs.now))
	}
	// The offset moves before the copy-out, which is not held under
	// f.mu: a client slow to take its bytes must not stall others
	// sharing the file.
	f.mu.Lock()
	data, e := c.fs.readFile(f.node, f.off, n)
	f.off += int64(len(data))
	f.mu.Unlock()
	return c.readOutFile(data, e)
}

// write(2): fd, buf, nbyte. Each kind of file takes the bytes its own
// way: a pipe as room appears, the console a page at a time, a vnode in
// one piece once the file system knows they fit.
func sysWrite(c *call, f *file) sp.Result {
	if !f.writable() {
		return fail(netbsd.EBADF)
	}
	n, e := c.count(2)
	if e != 0 {
		return fail(e)
	}
	switch {
	case f.pipe != nil:
		return c.pipeWrite(f, n)
	case f.cons != nil:
		return c.consoleWrite(f.cons, n)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if e := c.fs.mayWriteFile(f.node, f.off, f.has(netbsd.O_APPEND), n); e != 0 {
		return fail(e)
	}
	data, e := c.copyIn(c.arg(1), n)
	if e != 0 {
		return fail(e)
	}
	end, e := c.fs.writeFile(f.node, f.off, f.has(netbsd.O_APPEND), data)
	if e != 0 {
		return fail(e)
	}
	f.off = end
	return result(uint64(len(data)), 0)
}

// pipeWrite writes n bytes from the buffer at argument 1 to a pipe. A
// broken pipe also raises SIGPIPE in the writer, as NetBSD's dofilewrite
// does, unless the file has O_NOSIGPIPE; the count moved so far stays in
// retval, as there too.
func (c *call) pipeWrite(f *file, n int) sp.Result {
	buf := c.arg(1)
	moved := 0
	got, e := f.pipe.write(c.ctx, n, f.has(netbsd.O_NONBLOCK), c.fs.now, func(k int) ([]byte, netbsd.Errno) {
		b, e := c.copyIn(buf+uint64(moved), k)
		moved += k
		return b, e
	})
	if e == netbsd.EPIPE && !f.has(netbsd.O_NOSIGPIPE) {
		c.p.signal(int32(netbsd.SIGPIPE))
	}
	return sp.Result{Errno: e, Retval: [2]uint64{uint64(got)}}
}

// consoleWrite is rumpcons_write: the bytes come in a page at a time,
// each page on to the host.
func (c *call) consoleWrite(cons *console, n int) sp.Result {
	buf := c.arg(1)
	page := c.k.cfg.PageSize
	for off := 0; off < n; off += page {
		b, e := c.copyIn(buf+uint64(off), min(page, n-off))
		if e != 0 {
			return fail(e)
		}
		if err := cons.write(b); err != nil {
			c.k.log.Debug("console write failed; bytes dropped", "err", err)
		}
	}
	return result(uint64(n), 0)
}

// pread(2): fd, buf, nbyte, PAD, offset. The file offset does not move.
func sysPread(c *call, f *file) sp.Result {
	if !f.readable() {
		return fail(netbsd.EBADF)
	}
	n, off, e := c.positioned(f)
	if e != 0 {
		return fail(e)
	}
	return c.readOutFile(c.fs.readFile(f.node, off, n))
}

// pwrite(2): fd, buf, nbyte, PAD, offset. As on NetBSD, a file opened
// with O_APPEND is appended to whatever the offset says.
func sysPwrite(c *call, f *file) sp.Result {
	if !f.writable() {
		return fail(netbsd.EBADF)
	}
	n, off, e := c.positioned(f)
	if e != 0 {
		return fail(e)
	}
	if e := c.fs.mayWriteFile(f.node, off, f.has(netbsd.O_APPEND), n); e != 0 {
		return fail(e)
	}
	data, e := c.copyIn(c.arg(1), n)
	if e != 0 {
		return fail(e)
	}
	_, e = c.fs.writeFile(f.node, off, f.has(netbsd.O_APPEND), data)
	return result(uint64(len(data)), e)
}

// positioned checks, after the access mode, what pread and pwrite add
// to read and write, in this order: the file must be able to seek
// (ESPIPE for a pipe or the console), the count at argument 2 must pass
// c.count, and the offset at argument 3 must not be negative (EINVAL).
func (c *call) positioned(f *file) (n int, off int64, e netbsd.Errno) {
	if !f.isVnode() {
		return 0, 0, netbsd.ESPIPE
	}
	if n, e = c.count(2); e != 0 {
		return 0, 0, e
	}
	if off = c.off(3); off < 0 {
		return 0, 0, netbsd.EINVAL
	}
	return n, off, 0
}

// readOut ends a read of any kind: the bytes it got go to the buffer at
// argument 1 and their count is the result, unless the read failed with e.
func (c *call) readOut(data []byte, e netbsd.Errno) sp.Result {
	if e != 0 {
		return fail(e)
	}
	return result(uint64(len(data)), c.copyOut(c.arg(1), data))
}

// readOutFile is readOut for the bytes readFile returned: their buffer
// goes back to its pool once they have been copied out.
func (c *call) readOutFile(data []byte, e netbsd.Errno) sp.Result {
	r := c.readOut(data, e)
	putIOBuf(data)
	return r
}

// readFile reads up to n bytes of a vnode at off. Reading a directory is
// EISDIR; /dev/null reads nothing and /dev/zero zeros; a read asking for
// bytes stamps the access time. On rumpfs a read starting past the end
// returns n zero bytes (its read loop's quirk).
func (fs *fileSystem) readFile(node *inode, off int64, n int) ([]byte, netbsd.Errno) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	switch {
	case node.isDir():
		return nil, netbsd.EISDIR
	case node == fs.devNull:
		return nil, 0
	case node == fs.devZero:
		return make([]byte, n), 0
	}
	var data []byte
	if node.mnt.t.zerosPastEOF && off > node.size {
		data = make([]byte, n)
	} else {
		data = fs.readAt(node, off, n)
	}
	if n > 0 {
		node.touch(fs.now(), touchA)
	}
	return data, 0
}

// mayWriteFile checks a write of n bytes before its data is copied in:
// devices take anything, a regular file must have room (mayWrite).
func (fs *fileSystem) mayWriteFile(node *inode, off int64, appending bool, n int) netbsd.Errno {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if node.isChr() {
		return 0
	}
	if appending {
		off = node.size
	}
	return fs.mayWrite(node, off, n)
}

// writeFile writes data at off, or at the end with appending, stamps the
// modification and change times, and returns the offset after the data.
// The devices swallow what they are given.
func (fs *fileSystem) writeFile(node *inode, off int64, appending bool, data []byte) (int64, netbsd.Errno) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if node.isChr() {
		return off + int64(len(data)), 0
	}
	if appending {
		off = node.size
	}
	if len(data) == 0 {
		return off, 0
	}
	if e := fs.writeAt(node, off, data); e != 0 {
		return off, e
	}
	node.touch(fs.now(), touchM|touchC)
	return off + int64(len(data)), 0
}

// lseek(2): fd, PAD, offset, whence. The 64-bit result goes back the way
// the client's ABI returns an off_t (split over two registers on 32-bit
// machines). Only vnodes seek: a pipe or the console is ESPIPE.
func sysLseek(c *call, f *file) sp.Result {
	if !f.isVnode() {
		return fail(netbsd.ESPIPE)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var base int64
	switch c.int(2) {
	case netbsd.SEEK_SET:
	case netbsd.SEEK_CUR:
		base = f.off
	case netbsd.SEEK_END:
		c.fs.mu.Lock()
		base = f.node.stat(c.fs.pageSize).Size
		c.fs.mu.Unlock()
	default:
		return fail(netbsd.EINVAL)
	}
	delta := c.off(1)
	if (delta > 0 && base > math.MaxInt64-delta) || base+delta < 0 {
		return fail(netbsd.EINVAL)
	}
	f.off = base + delta
	return sp.OffResult(c.abi(), f.off)
}

// fsync(2): fd. Memory is as durable as it gets; only the descriptor is
// checked (anything but a vnode is EINVAL).
func sysFsync(c *call, f *file) sp.Result {
	_, e := f.vnode()
	return done(e)
}

// ftruncate(2): fd, PAD, length. As NetBSD's sys_ftruncate, a negative
// length is EINVAL before the descriptor is looked at.
func sysFtruncate(c *call) sp.Result {
	length := c.off(1)
	if length < 0 {
		return fail(netbsd.EINVAL)
	}
	f, e := c.file(0)
	if e != 0 {
		return fail(e)
	}
	defer f.release()
	node, e := f.vnode()
	if e != 0 || !f.writable() {
		return fail(netbsd.EINVAL)
	}
	return done(c.fs.setSize(node, length))
}

// setSize truncates or extends a regular file; a changed size stamps the
// modification and change times. A device ignores it.
func (fs *fileSystem) setSize(node *inode, length int64) netbsd.Errno {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	switch {
	case node.isDir():
		return netbsd.EISDIR
	case node.isChr():
		return 0
	case length < 0:
		return netbsd.EINVAL
	}
	old := node.size
	if e := fs.truncate(node, length); e != 0 {
		return e
	}
	if length != old {
		node.touch(fs.now(), touchM|touchC)
	}
	return 0
}
