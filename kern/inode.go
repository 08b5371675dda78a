package kern

import (
	"time"

	"github.com/rumpsprig/sprig/abi/netbsd"
)

// inode is one file-system object: a directory, a regular file or a
// symbolic link. Every field is guarded by the file system's lock.
type inode struct {
	ino   uint64
	mode  uint32 // S_IF* type bits and permission bits
	uid   uint32
	gid   uint32
	nlink uint32

	atime, mtime, ctime, btime time.Time

	// opens counts open-file objects on the inode, so an unlinked file
	// keeps its data until the last descriptor closes.
	opens int

	// Regular files: size and the pages written so far (holes are absent
	// and read as zeros).
	size  int64
	pages map[int64][]byte

	// Directories.
	dir *dirData

	// Symbolic links.
	target string
}

func (n *inode) kind() uint32  { return n.mode & netbsd.S_IFMT }
func (n *inode) isDir() bool   { return n.kind() == netbsd.S_IFDIR }
func (n *inode) isReg() bool   { return n.kind() == netbsd.S_IFREG }
func (n *inode) isLink() bool  { return n.kind() == netbsd.S_IFLNK }
func (n *inode) perms() uint32 { return n.mode & netbsd.ALLPERMS }

// Which of an inode's times an operation moves.
const (
	touchA = 1 << iota // access: read, readlink, getdents
	touchM             // modification: write, truncate, directory entries
	touchC             // status change: any of the above but reads, and links, renames
)

func (n *inode) touch(now time.Time, which int) {
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
	}
	return netbsd.DT_UNKNOWN
}

// statSize is st_size: the data length of a file, the target length of a
// link, the bytes of a directory's getdents records.
func (n *inode) statSize() int64 {
	switch {
	case n.isDir():
		return n.dir.bytes
	case n.isLink():
		return int64(len(n.target))
	}
	return n.size
}

func timespec(t time.Time) netbsd.Timespec {
	return netbsd.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}

// fsDev is st_dev for every inode: the file system's one device number.
const fsDev = 0x0000a900

// stat fills a struct stat for n.
func (n *inode) stat(pageSize int) netbsd.Stat {
	size := n.statSize()
	return netbsd.Stat{
		Dev:      fsDev,
		Mode:     n.mode,
		Ino:      n.ino,
		Nlink:    n.nlink,
		UID:      n.uid,
		GID:      n.gid,
		Rdev:     netbsd.NODEV,
		Atim:     timespec(n.atime),
		Mtim:     timespec(n.mtime),
		Ctim:     timespec(n.ctime),
		Birthtim: timespec(n.btime),
		Size:     size,
		Blocks:   (size + 511) / 512,
		Blksize:  int32(pageSize),
	}
}
