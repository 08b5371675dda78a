package kern

import (
	"sync"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

// fileSystem is the kernel's one mounted file system, held in memory. A
// single lock guards the tree, every inode and the space count: syscalls
// hold it only for the in-memory work, never across a round trip to a
// client.
type fileSystem struct {
	mu sync.Mutex

	clock    func() time.Time
	pageSize int64
	maxFile  int64
	maxBytes int64
	// nameOff is where d_name starts in a dirent record; it is the same
	// on every ABI, which lets directory sizes be computed once.
	nameOff int

	root    *inode
	nextIno uint64
	used    int64 // bytes charged: file pages and link targets
}

// rootIno is the root directory's inode number, as on UFS and tmpfs.
const rootIno = 2

func newFileSystem(cfg *Config, clock func() time.Time) *fileSystem {
	nameOff, _ := abi.LayoutOf(cfg.ABI, netbsd.DirentType).FlexOffset()
	fs := &fileSystem{
		clock:    clock,
		pageSize: int64(cfg.PageSize),
		maxFile:  cfg.MaxFileSize,
		maxBytes: cfg.MaxFSBytes,
		nameOff:  nameOff,
		nextIno:  rootIno,
	}
	root := fs.newInode(netbsd.S_IFDIR|0o755, 0, 0)
	root.dir = newDirData(root, fs.reclen)
	root.nlink = 2
	fs.root = root
	tmp := fs.newInode(netbsd.S_IFDIR|netbsd.S_ISVTX|0o777, 0, 0)
	fs.linkDir(root, "tmp", tmp)
	return fs
}

// now is the time stamped on inodes; the clock may be pinned by tests.
func (fs *fileSystem) now() time.Time { return fs.clock() }

// newInode returns a fresh inode with every time set to now and no links.
func (fs *fileSystem) newInode(mode, uid, gid uint32) *inode {
	now := fs.now()
	n := &inode{ino: fs.nextIno, mode: mode, uid: uid, gid: gid,
		atime: now, mtime: now, ctime: now, btime: now}
	fs.nextIno++
	return n
}

// allocIno hands out an inode number for objects outside the tree
// (pipes), so (st_dev, st_ino) never collide with a file.
func (fs *fileSystem) allocIno() uint64 {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	ino := fs.nextIno
	fs.nextIno++
	return ino
}

// reclen is the length of the getdents record for a name of n bytes: the
// fixed part, the name, its NUL, padded to DirentAlign.
func (fs *fileSystem) reclen(n int) int64 {
	return int64(alignUp(fs.nameOff+n+1, netbsd.DirentAlign))
}

func alignUp(n, a int) int { return (n + a - 1) / a * a }

// charge reserves n bytes of file-system space, or fails with ENOSPC.
func (fs *fileSystem) charge(n int64) netbsd.Errno {
	if n > fs.maxBytes-fs.used {
		return netbsd.ENOSPC
	}
	fs.used += n
	return 0
}

// maybeFree drops the data of an inode no name and no descriptor refers
// to any more, returning its space.
func (fs *fileSystem) maybeFree(n *inode) {
	if n.nlink > 0 || n.opens > 0 {
		return
	}
	switch {
	case n.isReg():
		fs.used -= int64(len(n.pages)) * fs.pageSize
		n.pages = nil
	case n.isLink():
		fs.used -= int64(len(n.target))
		n.target = ""
	}
}
