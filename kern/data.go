package kern

import (
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/internal/bufpool"
)

// A regular file's data lives in pages of fs.pageSize bytes, allocated
// when first written. Holes (past writes, extending truncates, seeks past
// the end) cost nothing and read as zeros, so a client can seek a file
// past 4 GiB without the server holding 4 GiB. All of this runs under
// fs.mu.

// readAt returns up to max bytes of n's data at off (none at or past the
// end). Up to 1 MiB of them come in a pooled buffer (putIOBuf).
func (fs *fileSystem) readAt(n *inode, off int64, max int) []byte {
	if off < 0 || off >= n.size || max <= 0 {
		return nil
	}
	end := min(n.size, off+int64(max))
	out, pooled := getIOBuf(int(end - off))
	for pos := off; pos < end; {
		pg, po := pos/fs.pageSize, pos%fs.pageSize
		chunk := min(fs.pageSize-po, end-pos)
		if p := n.pages[pg]; p != nil {
			copy(out[pos-off:], p[po:po+chunk])
		} else if pooled {
			clear(out[pos-off : pos-off+chunk]) // a hole reads as zeros
		}
		pos += chunk
	}
	return out
}

// The buffers reads copy a file's data into, in two sizes. A read's
// bytes are needed only until its COPYOUT is done (sp.Memory.CopyOut
// keeps none), so each buffer serves read after read instead of being
// garbage for the collector after each: with a fresh 1 MiB one each
// read, zeroing and collecting them took a quarter of the server's CPU.
var (
	ioBufs    = bufpool.New(64<<10, 16)
	bigIOBufs = bufpool.New(1<<20, 4) // MaxIO's default
)

// getIOBuf returns n bytes to copy a read's data into, unzeroed when
// pooled is true.
func getIOBuf(n int) (b []byte, pooled bool) {
	switch {
	case n <= ioBufs.Size():
		return ioBufs.Get()[:n], true
	case n <= bigIOBufs.Size():
		return bigIOBufs.Get()[:n], true
	}
	return make([]byte, n), false
}

// putIOBuf gives back a buffer getIOBuf took from a pool; other slices
// are left alone.
func putIOBuf(b []byte) {
	ioBufs.Put(b)
	bigIOBufs.Put(b)
}

// mayWrite checks, before the data is copied in, that length bytes at
// off would fit: EFBIG past MaxFileSize, ENOSPC when the pages they need
// are not there to charge. NetBSD's file systems size the file before
// they move the bytes, so these come without a COPYIN.
func (fs *fileSystem) mayWrite(n *inode, off int64, length int) netbsd.Errno {
	if length == 0 {
		return 0
	}
	if off < 0 {
		return netbsd.EINVAL
	}
	if off > fs.maxFile-int64(length) {
		return netbsd.EFBIG
	}
	var need int64
	for pg := off / fs.pageSize; pg <= (off+int64(length)-1)/fs.pageSize; pg++ {
		if n.pages[pg] == nil {
			need++
		}
	}
	m := n.mnt
	if need*fs.pageSize > fs.maxBytes-fs.used || (m.sizeMax > 0 && need*fs.pageSize > m.sizeMax-m.used) {
		return netbsd.ENOSPC
	}
	return 0
}

// writeAt stores data at off, growing the file as needed. The whole write
// fails, changing nothing, when it would pass MaxFileSize (EFBIG) or need
// more pages than the file system has left (ENOSPC).
func (fs *fileSystem) writeAt(n *inode, off int64, data []byte) netbsd.Errno {
	if len(data) == 0 {
		return 0
	}
	if off < 0 {
		return netbsd.EINVAL
	}
	if off > fs.maxFile-int64(len(data)) {
		return netbsd.EFBIG
	}
	end := off + int64(len(data))
	first, lastPg := off/fs.pageSize, (end-1)/fs.pageSize
	var need int64
	for pg := first; pg <= lastPg; pg++ {
		if n.pages[pg] == nil {
			need++
		}
	}
	if e := fs.charge(n.mnt, need*fs.pageSize); e != 0 {
		return e
	}
	if n.pages == nil {
		n.pages = map[int64][]byte{}
	}
	for pos := off; pos < end; {
		pg, po := pos/fs.pageSize, pos%fs.pageSize
		p := n.pages[pg]
		if p == nil {
			p = make([]byte, fs.pageSize)
			n.pages[pg] = p
		}
		chunk := min(fs.pageSize-po, end-pos)
		copy(p[po:po+chunk], data[pos-off:])
		pos += chunk
	}
	n.size = max(n.size, end)
	return 0
}

// truncate sets n's size. Shrinking frees whole pages past the end and
// clears the rest of the last one, so growing again reads zeros.
func (fs *fileSystem) truncate(n *inode, length int64) netbsd.Errno {
	if length < 0 {
		return netbsd.EINVAL
	}
	if length > fs.maxFile {
		return netbsd.EFBIG
	}
	if length < n.size {
		keep := (length + fs.pageSize - 1) / fs.pageSize // pages [0, keep) survive
		for pg := range n.pages {
			if pg >= keep {
				delete(n.pages, pg)
				fs.uncharge(n.mnt, fs.pageSize)
			}
		}
		if po := length % fs.pageSize; po != 0 {
			if p := n.pages[length/fs.pageSize]; p != nil {
				clear(p[po:])
			}
		}
	}
	n.size = length
	return 0
}
