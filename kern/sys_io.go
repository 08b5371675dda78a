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
	return c.readOut(data, e)
}

// write(2): fd, buf, nbyte.
func sysWrite(c *call, f *file) sp.Result {
	if !f.writable() {
		return fail(netbsd.EBADF)
	}
	n, e := c.count(2)
	if e != 0 {
		return fail(e)
	}
	data, e := c.copyIn(c.arg(1), n)
	if e != 0 {
		return fail(e)
	}
	if f.pipe != nil {
		return c.pipeWrite(f, data)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	end, e := c.fs.writeFile(f.node, f.off, f.has(netbsd.O_APPEND), data)
	if e != 0 {
		return fail(e)
	}
	f.off = end
	return result(uint64(len(data)), 0)
}

// pipeWrite writes to a pipe; a broken pipe also raises SIGPIPE in the
// writer, as NetBSD's write path does, unless the file has O_NOSIGPIPE.
func (c *call) pipeWrite(f *file, data []byte) sp.Result {
	n, e := f.pipe.write(c.ctx, data, f.has(netbsd.O_NONBLOCK), c.fs.now)
	if e == netbsd.EPIPE && !f.has(netbsd.O_NOSIGPIPE) {
		c.p.signal(int32(netbsd.SIGPIPE))
	}
	return result(uint64(n), e)
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
	return c.readOut(c.fs.readFile(f.node, off, n))
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
	data, e := c.copyIn(c.arg(1), n)
	if e != 0 {
		return fail(e)
	}
	_, e = c.fs.writeFile(f.node, off, f.has(netbsd.O_APPEND), data)
	return result(uint64(len(data)), e)
}

// positioned checks, after the access mode, what pread and pwrite add
// to read and write, in this order: the file must be able to seek
// (ESPIPE for a pipe), the count at argument 2 must pass c.count, and the
// offset at argument 3 must not be negative (EINVAL).
func (c *call) positioned(f *file) (n int, off int64, e netbsd.Errno) {
	if f.pipe != nil {
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

// readFile reads up to n bytes of a vnode at off. Reading a directory is
// EISDIR; a read asking for bytes stamps the access time.
func (fs *fileSystem) readFile(node *inode, off int64, n int) ([]byte, netbsd.Errno) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if node.isDir() {
		return nil, netbsd.EISDIR
	}
	data := fs.readAt(node, off, n)
	if n > 0 {
		node.touch(fs.now(), touchA)
	}
	return data, 0
}

// writeFile writes data at off, or at the end with appending, stamps the
// modification and change times, and returns the offset after the data.
func (fs *fileSystem) writeFile(node *inode, off int64, appending bool, data []byte) (int64, netbsd.Errno) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
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
// machines).
func sysLseek(c *call, f *file) sp.Result {
	if f.pipe != nil {
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
		base = f.node.statSize()
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
// checked (a pipe is EINVAL, as it has no vnode).
func sysFsync(c *call, f *file) sp.Result {
	if f.pipe != nil {
		return fail(netbsd.EINVAL)
	}
	return done(0)
}

// ftruncate(2): fd, PAD, length.
func sysFtruncate(c *call, f *file) sp.Result {
	if f.pipe != nil || !f.writable() {
		return fail(netbsd.EINVAL)
	}
	return done(c.fs.setSize(f.node, c.off(1)))
}

// setSize truncates or extends a regular file; a changed size stamps the
// modification and change times.
func (fs *fileSystem) setSize(node *inode, length int64) netbsd.Errno {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if node.isDir() {
		return netbsd.EISDIR
	}
	if length < 0 {
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
