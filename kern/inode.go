package kern

import (
	"time"

	"github.com/rumpsprig/sprig/abi/netbsd"
)

// inode is one file-system object: a directory, a regular file, a
// symbolic link or a character device. Every field is guarded by the
// file system's lock.
type inode struct {
	mnt   *mount
	ino   uint64
	mode  uint32 // S_IF* type bits and permission bits
	uid   uint32
	gid   uint32
	nlink uint32 // names, plus "." and the subdirectories' ".." of a directory
	rdev  uint64 // a device's number; NODEV for the rest

	// Times are kept as the timespecs they show: utimes may store any
	// tv_nsec the caller sends (NetBSD accepts a tv_usec of 1000000).
	atime, mtime, ctime, btime netbsd.Timespec

	// opens counts open-file objects on the inode, so an unlinked file
	// keeps its data until the last descriptor closes.
	opens int
	freed bool

	// Regular files: size and the pages written so far (holes are absent
	// and read as zeros).
	size  int64
	pages map[int64][]byte

	// Directories, and the file system mounted on this one, if any.
	dir         *dirData
	mountedHere *mount

	// Symbolic links.
	target string
}

func (n *inode) kind() uint32  { return n.mode & netbsd.S_IFMT }
func (n *inode) isDir() bool   { return n.kind() == netbsd.S_IFDIR }
func (n *inode) isReg() bool   { return n.kind() == netbsd.S_IFREG }
func (n *inode) isLink() bool  { return n.kind() == netbsd.S_IFLNK }
func (n *inode) isChr() bool   { return n.kind() == netbsd.S_IFCHR }
func (n *inode) perms() uint32 { return n.mode & netbsd.ALLPERMS }

// isMountRoot reports the root of a mounted (not the root) file system.
func (n *inode) isMountRoot() bool { return n.mnt.root == n && n.mnt.covered != nil }

// Which of an inode's times an operation moves.
const (
	touchA = 1 << iota // access: read, readlink, getdents
	touchM             // modification: write, truncate, directory entries
	touchC             // status change: any of the above but reads, and links, renames, attributes
)

func (n *inode) touch(now netbsd.Timespec, which int) {
	if which&touchA != 0 {
		n.atime = now
	}
	if which&touchM != 0 {
		n.mtime = now
	}
	if which&touchC != 0 {
		n.ctime = now
	}
}

// dtype is the d_type getdents reports for n.
func (n *inode) dtype() uint8 {
	switch n.kind() {
	case netbsd.S_IFDIR:
		return netbsd.DT_DIR
	case netbsd.S_IFREG:
		return netbsd.DT_REG
	case netbsd.S_IFLNK:
		return netbsd.DT_LNK
	case netbsd.S_IFCHR:
		return netbsd.DT_CHR
	}
	return netbsd.DT_UNKNOWN
}

func timespec(t time.Time) netbsd.Timespec {
	return netbsd.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}

// devBSize is DEV_BSIZE, the size rumpfs gives directories and device
// nodes.
const devBSize = 512

// stat fills a struct stat for n the way its file system's personality
// reports it.
func (n *inode) stat(pageSize int64) netbsd.Stat {
	t := n.mnt.t
	st := netbsd.Stat{
		Dev:      n.mnt.dev,
		Mode:     n.mode,
		Ino:      n.ino,
		Nlink:    n.nlink,
		UID:      n.uid,
		GID:      n.gid,
		Rdev:     n.rdev,
		Atim:     n.atime,
		Mtim:     n.mtime,
		Ctim:     n.ctime,
		Birthtim: n.btime,
		Blksize:  t.fixedBlksize,
		Blocks:   t.fixedBlocks,
	}
	if t.devIsIno {
		st.Dev = n.ino
	}
	switch {
	case n.isDir():
		st.Size = t.dirSize + t.dirEntrySize*int64(len(n.dir.ents))
		if t.dirNlink != 0 {
			st.Nlink = t.dirNlink
		}
	case n.isLink():
		st.Size = int64(len(n.target))
	case n.isChr():
		st.Size = devBSize
	default:
		st.Size = n.size
		if t.keepsNlink {
			st.Nlink = 1
		}
	}
	if st.Blksize == 0 {
		st.Blksize = int32(pageSize)
	}
	if t.fixedBlocks == 0 {
		st.Blocks = (st.Size + pageSize - 1) / pageSize * pageSize / 512
	}
	return st
}
