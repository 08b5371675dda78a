package kern

import (
	"sync"
	"time"

	"github.com/rumpsprig/sprig/abi/netbsd"
)

// fileSystem is the kernel's namespace: the root file system (a rumpfs)
// and what is mounted on it, all held in memory. A single lock guards
// every tree, inode, mount and the space count: syscalls hold it only for
// the in-memory work, never across a round trip to a client.
//
// Lock order: fs.mu, then Kernel.mu, then Process.mu.
type fileSystem struct {
	mu sync.Mutex

	clock    func() time.Time
	pageSize int64
	maxFile  int64
	maxBytes int64
	used     int64 // bytes charged on every mount: file pages and link targets

	root    *mount // the root file system
	mounts  int    // mounts ever made, for tmpfs device numbers
	devNull *inode // the boot tree's /dev/null and /dev/zero
	devZero *inode
}

// mount is one mounted file system: a personality, a tree, and where it
// is mounted.
type mount struct {
	t    *fsType
	root *inode
	// covered is the directory this file system is mounted on; nil for
	// the root file system.
	covered *inode
	// dev is st_dev for every node of a file system whose personality
	// does not use the inode number.
	dev     uint64
	nextIno uint64
	// opens counts open files on the mount's nodes; with the working
	// directories inside it and mounts on it, they make it busy.
	opens int

	// Limits a tmpfs was mounted with: bytes (0: only the kernel's
	// MaxFSBytes) and nodes.
	sizeMax, used   int64
	nodesMax, nodes int64
}

// Device numbers: tmpfs mounts get consecutive ones in NetBSD's
// "dynamic" major, as vfs_getnewfsid hands out.
const tmpfsDevBase = 0x0000a900

func newFileSystem(cfg *Config, clock func() time.Time) *fileSystem {
	fs := &fileSystem{
		clock:    clock,
		pageSize: int64(cfg.PageSize),
		maxFile:  cfg.MaxFileSize,
		maxBytes: cfg.MaxFSBytes,
	}
	fs.root = fs.newMount(rumpfs, nil, netbsd.S_IFDIR|0o755, 0, 0)
	return fs
}

// newMount makes a file system of type t with an empty root directory of
// the given mode and owner, to be mounted on covered (nil for "/").
func (fs *fileSystem) newMount(t *fsType, covered *inode, mode, uid, gid uint32) *mount {
	m := &mount{t: t, covered: covered, nextIno: t.firstIno}
	fs.mounts++
	m.dev = tmpfsDevBase + uint64(fs.mounts)
	root := fs.newInode(m, mode, uid, gid)
	root.dir = newDirData(root)
	root.nlink = 2
	m.root = root
	return m
}

// now is the time stamped on inodes; the clock may be pinned by tests.
func (fs *fileSystem) now() netbsd.Timespec { return timespec(fs.clock()) }

// newInode returns a fresh inode of m with every time set to now and no
// links. A file system that does not let creators own their nodes gives
// them to root:wheel, whatever uid and gid say.
func (fs *fileSystem) newInode(m *mount, mode, uid, gid uint32) *inode {
	now := fs.now()
	if !m.t.creatorOwns {
		uid, gid = 0, 0
	}
	n := &inode{mnt: m, ino: m.nextIno, mode: mode, uid: uid, gid: gid, rdev: netbsd.NODEV,
		atime: now, mtime: now, ctime: now, btime: now}
	m.nextIno++
	m.nodes++
	return n
}

// mayCreateNode checks m's node limit (ENOSPC), as tmpfs_node_get does.
func (m *mount) mayCreateNode() netbsd.Errno {
	if m.nodesMax > 0 && m.nodes >= m.nodesMax {
		return netbsd.ENOSPC
	}
	return 0
}

func alignUp(n, a int) int { return (n + a - 1) / a * a }

// charge reserves n bytes of space on m, or fails with ENOSPC when m's
// own limit or the kernel's would be passed.
func (fs *fileSystem) charge(m *mount, n int64) netbsd.Errno {
	if n > fs.maxBytes-fs.used || (m.sizeMax > 0 && n > m.sizeMax-m.used) {
		return netbsd.ENOSPC
	}
	fs.used += n
	m.used += n
	return 0
}

// uncharge gives back n bytes charged on m.
func (fs *fileSystem) uncharge(m *mount, n int64) {
	fs.used -= n
	m.used -= n
}

// maybeFree drops the data of an inode no name and no descriptor refers
// to any more, returning its space.
func (fs *fileSystem) maybeFree(n *inode) {
	if n.nlink > 0 || n.opens > 0 || n.freed {
		return
	}
	n.freed = true
	n.mnt.nodes--
	switch {
	case n.isReg():
		fs.uncharge(n.mnt, int64(len(n.pages))*fs.pageSize)
		n.pages = nil
	case n.isLink():
		fs.uncharge(n.mnt, int64(len(n.target)))
		n.target = ""
	}
}
