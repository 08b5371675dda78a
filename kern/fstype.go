package kern

import "github.com/rumpsprig/sprig/abi/netbsd"

// fsType is a file-system personality. kern has one file-system mechanism
// (inodes, directories, pages, namei, mounts); what NetBSD's rumpfs and
// tmpfs do differently is this table of data, consulted where they
// differ, so the two can never drift apart elsewhere.
type fsType struct {
	name string
	// firstIno is the inode number of a new file system's root; later
	// nodes count up from it. rumpfs numbers from a kernel-wide counter
	// starting at 3; sprig's tmpfs numbers from 2 (NetBSD's derives
	// numbers from node addresses).
	firstIno uint64

	// renames says whether rename(2) and link(2) work. rumpfs refuses
	// both with EOPNOTSUPP: its lookup refuses a rename target before
	// looking at it, and its link operation is genfs_eopnotsupp.
	renames bool
	// setfl says whether fcntl(F_SETFL) may change a vnode's status
	// flags. rumpfs's fcntl operation refuses every command of a remote
	// (sysproxy) process with EINVAL.
	setfl bool
	// ioctlErr answers an ioctl on a file or directory that the generic
	// layer does not handle: rumpfs has no ioctl operation (EOPNOTSUPP),
	// tmpfs's is genfs_enoioctl (ENOTTY).
	ioctlErr netbsd.Errno
	// sticky says whether a directory's sticky bit limits who may remove
	// its entries (tmpfs checks it in its lookup; rumpfs does not).
	sticky bool
	// creatorOwns says whether a new node belongs to the creator's
	// effective uid and its directory's group (tmpfs) or to root:wheel
	// whoever made it (rumpfs).
	creatorOwns bool
	// removedDirLives says whether a directory that has been removed
	// (someone's working directory) still takes new entries and opens
	// (rumpfs) or answers ENOENT (tmpfs).
	removedDirLives bool
	// zerosPastEOF: a read starting past the end of a file returns the
	// whole count as zero bytes. rumpfs's read loop computes
	// MIN(resid, size - offset), which is negative there and reads on.
	zerosPastEOF bool

	// Directory listings (__getdents30).
	// dots: "." and ".." come first (tmpfs); rumpfs lists neither.
	dots bool
	// newestFirst: entries are listed newest first and the directory
	// offset is an index into that list (rumpfs); otherwise oldest first
	// and the offset is the next entry's sequence number (tmpfs).
	newestFirst bool
	// listingReads: a listing stamps the directory's access time.
	listingReads bool

	// stat numbers.
	// fixedBlksize is every node's st_blksize (rumpfs: 512); 0 means
	// the page size (tmpfs).
	fixedBlksize int32
	// fixedBlocks is every node's st_blocks (rumpfs: 1, its va_bytes is
	// 512 whatever the size); 0 means 8 per page started of st_size
	// (tmpfs: round_page(size) / 512).
	fixedBlocks int64
	// dirSize is a directory's st_size: fixed (rumpfs: DEV_BSIZE, 512)
	// or dirEntrySize per entry, "." and ".." not counted (tmpfs: the
	// size of its struct tmpfs_dirent, 48 on amd64).
	dirSize, dirEntrySize int64
	// dirNlink is every directory's st_nlink (rumpfs: 2, never counted);
	// 0 means 2 plus one per subdirectory (tmpfs).
	dirNlink uint32
	// keepsNlink: a file's st_nlink stays 1 after its last name is
	// removed (rumpfs); otherwise it counts names (tmpfs: 0 when
	// unlinked but open).
	keepsNlink bool
	// devIsIno: st_dev is the node's own inode number (rumpfs sets
	// va_fsid and va_fileid from one counter); otherwise every node
	// shows its mount's device number (tmpfs).
	devIsIno bool
}

// rumpfs is the personality of NetBSD's rumpfs, a rump kernel's root file
// system (sys/rump/librump/rumpvfs/rumpfs.c).
var rumpfs = &fsType{
	name:            "rumpfs",
	firstIno:        3,
	renames:         false,
	setfl:           false,
	ioctlErr:        netbsd.EOPNOTSUPP,
	sticky:          false,
	creatorOwns:     false,
	removedDirLives: true,
	zerosPastEOF:    true,
	dots:            false,
	newestFirst:     true,
	listingReads:    false,
	fixedBlksize:    512,
	fixedBlocks:     1,
	dirSize:         512,
	dirNlink:        2,
	keepsNlink:      true,
	devIsIno:        true,
}

// tmpfs is the personality of NetBSD's tmpfs (sys/fs/tmpfs), which
// __mount50 mounts.
var tmpfs = &fsType{
	name:            netbsd.MOUNT_TMPFS,
	firstIno:        2,
	renames:         true,
	setfl:           true,
	ioctlErr:        netbsd.ENOTTY,
	sticky:          true,
	creatorOwns:     true,
	removedDirLives: false,
	zerosPastEOF:    false,
	dots:            true,
	newestFirst:     false,
	listingReads:    true,
	fixedBlksize:    0,
	fixedBlocks:     0,
	dirEntrySize:    48,
	dirNlink:        0,
	keepsNlink:      false,
	devIsIno:        false,
}
