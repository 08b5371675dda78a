package kern

import (
	"sync"
	"sync/atomic"

	"github.com/rumpsprig/sprig/abi/netbsd"
)

// file is an open-file object (NetBSD's struct file): what descriptors
// point at. dup and fork share one file between descriptors, and with it
// the offset and the status flags, as on every Unix. It is one of three
// kinds: a vnode (node), a pipe end (pipe) or the rump console (cons).
type file struct {
	fs *fileSystem

	refs  atomic.Int64
	flags atomic.Uint32 // O_ACCMODE and the status flags fcntl may change

	// mu serialises the users of off, so concurrent reads and writes on
	// one file each see and advance a consistent offset.
	mu  sync.Mutex
	off int64

	node *inode // the inode of a vnode file
	pipe *pipe  // the pipe of a pipe end
	// writeEnd tells which end of pipe this is.
	writeEnd bool
	cons     *console // the console device
}

// statusFlags are the open flags a file remembers and F_GETFL reports;
// settable are the ones F_SETFL may change (NetBSD's FCNTLFLAGS, as far
// as sprig models them).
const (
	statusFlags = netbsd.O_ACCMODE | netbsd.O_NONBLOCK | netbsd.O_APPEND | netbsd.O_NOSIGPIPE | netbsd.O_ASYNC
	settable    = netbsd.O_NONBLOCK | netbsd.O_APPEND | netbsd.O_NOSIGPIPE | netbsd.O_ASYNC
)

// newVnodeFile opens n with flags; the caller holds fs.mu.
func (fs *fileSystem) newVnodeFile(n *inode, flags uint32) *file {
	f := &file{fs: fs, node: n}
	f.refs.Store(1)
	f.flags.Store(flags & statusFlags)
	n.opens++
	n.mnt.opens++
	return f
}

func newPipeFile(fs *fileSystem, p *pipe, write bool, flags uint32) *file {
	f := &file{fs: fs, pipe: p, writeEnd: write}
	f.refs.Store(1)
	acc := uint32(netbsd.O_RDONLY)
	if write {
		acc = netbsd.O_WRONLY
	}
	f.flags.Store(acc | flags&(statusFlags&^netbsd.O_ACCMODE))
	return f
}

// newConsoleFile opens the console write-only, as rump_consdev_init
// does.
func newConsoleFile(fs *fileSystem, c *console) *file {
	f := &file{fs: fs, cons: c}
	f.refs.Store(1)
	f.flags.Store(netbsd.O_WRONLY)
	return f
}

func (f *file) isVnode() bool { return f.node != nil }

// vnode returns the inode of a vnode file; any other kind is EINVAL, as
// NetBSD's fd_getvnode answers for pipes and devices without vnodes.
func (f *file) vnode() (*inode, netbsd.Errno) {
	if f.node == nil {
		return nil, netbsd.EINVAL
	}
	return f.node, 0
}

// hold takes another reference for a new descriptor or a syscall in
// progress.
func (f *file) hold() *file {
	f.refs.Add(1)
	return f
}

// release drops a reference; the last one closes the file: a pipe end
// closes (waking the other side), an inode loses an opener.
func (f *file) release() {
	if f.refs.Add(-1) != 0 {
		return
	}
	switch {
	case f.pipe != nil:
		f.pipe.closeEnd(f.writeEnd)
	case f.node != nil:
		f.fs.mu.Lock()
		f.node.opens--
		f.node.mnt.opens--
		f.fs.maybeFree(f.node)
		f.fs.mu.Unlock()
	}
}

func (f *file) readable() bool {
	acc := f.flags.Load() & netbsd.O_ACCMODE
	return acc == netbsd.O_RDONLY || acc == netbsd.O_RDWR
}

func (f *file) writable() bool {
	acc := f.flags.Load() & netbsd.O_ACCMODE
	return acc == netbsd.O_WRONLY || acc == netbsd.O_RDWR
}

func (f *file) has(flag uint32) bool { return f.flags.Load()&flag != 0 }

// setStatus replaces the settable status flags (F_SETFL).
func (f *file) setStatus(v uint32) {
	for {
		old := f.flags.Load()
		nv := old&^settable | v&settable
		if f.flags.CompareAndSwap(old, nv) {
			return
		}
	}
}

// setFlag turns one status flag on or off (FIONBIO, FIOASYNC).
func (f *file) setFlag(flag uint32, on bool) {
	for {
		old := f.flags.Load()
		nv := old &^ flag
		if on {
			nv |= flag
		}
		if f.flags.CompareAndSwap(old, nv) {
			return
		}
	}
}
