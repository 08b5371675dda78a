package netbsd

// Constants the simulated kernel (package kern) needs beyond the ones the
// wire protocol uses. Values are NetBSD's; names keep their C spelling.

// Permission bits in st_mode beyond the rwx triplets (sys/stat.h).
const (
	S_ISUID     = 0004000
	S_ISGID     = 0002000
	S_ISVTX     = 0001000 // sticky: only owners may remove entries
	ACCESSPERMS = 0000777
	ALLPERMS    = 0007777
)

// O_NOSIGPIPE suppresses SIGPIPE for writes on a broken pipe (sys/fcntl.h).
const O_NOSIGPIPE = 0x01000000

// Limits (sys/param.h, sys/sysctl.h, sys/syslimits.h).
const (
	// MAXSYMLINKS is how many symbolic links one lookup may follow.
	MAXSYMLINKS = 32
	// CTL_MAXNAME is the longest sysctl MIB, in ints.
	CTL_MAXNAME = 12
	// MAXHOSTNAMELEN bounds kern.hostname, NUL included.
	MAXHOSTNAMELEN = 256
	// LINK_MAX is the most hard links a file may have.
	LINK_MAX = 32767
	// PIPE_BUF is the largest pipe write that is never interleaved.
	PIPE_BUF = 512
	// PIPE_SIZE is a pipe's buffer size.
	PIPE_SIZE = 16384
	// MAXBSIZE bounds the bytes one getdents call returns.
	MAXBSIZE = 65536
	// NSIG is one more than the highest signal number.
	NSIG = 64
)

// sysctl meta-operations: negative MIB components handled by a node
// rather than naming one of its children (sys/sysctl.h).
const (
	CTL_QUERY    = -2
	CTL_CREATE   = -3
	CTL_DESTROY  = -4
	CTL_MMAP     = -5
	CTL_DESCRIBE = -6
)

// More open(2) flags (sys/fcntl.h).
const (
	O_ASYNC    = 0x00000040
	O_NOFOLLOW = 0x00000100
)

// F_DUPFD_CLOEXEC duplicates like F_DUPFD and sets FD_CLOEXEC on the copy.
const F_DUPFD_CLOEXEC = 12

// KERNEL_NAME_MAX is the longest path component namei accepts
// (sys/param.h); NAME_MAX, the userland limit, is larger.
const KERNEL_NAME_MAX = 255

// BIG_PIPE_SIZE is what a pipe's buffer grows to for a write larger than
// PIPE_SIZE into an empty pipe (sys/pipe.h).
const BIG_PIPE_SIZE = 65536

// MAXLOGNAME is the size of a session's login name, __getlogin's most
// (sys/param.h: LOGIN_NAME_MAX - 1).
const MAXLOGNAME = 16

// More sysctl(3) names.
const (
	KERN_OSREV    = 3
	KERN_VERSION  = 4
	KERN_MAXPROC  = 6
	KERN_MAXFILES = 7
	KERN_ARGMAX   = 8
	HW_NCPU       = 3
	HW_BYTEORDER  = 4
)

// getrlimit(2) resources (sys/resource.h).
const (
	RLIMIT_CPU     = 0
	RLIMIT_FSIZE   = 1
	RLIMIT_DATA    = 2
	RLIMIT_STACK   = 3
	RLIMIT_CORE    = 4
	RLIMIT_RSS     = 5
	RLIMIT_MEMLOCK = 6
	RLIMIT_NPROC   = 7
	RLIMIT_NOFILE  = 8
	RLIMIT_SBSIZE  = 9
	RLIMIT_AS      = 10
	RLIMIT_NTHR    = 11
	RLIM_NLIMITS   = 12
	// RLIM_INFINITY is "no limit": every bit but the top one.
	RLIM_INFINITY = ^uint64(0) >> 1
)

// mount(2) flags (sys/fstypes.h) and the tmpfs argument version.
const (
	MNT_RDONLY      = 0x00000001
	MNT_SYNCHRONOUS = 0x00000002
	MNT_NOEXEC      = 0x00000004
	MNT_NOSUID      = 0x00000008
	MNT_NODEV       = 0x00000010
	MNT_ASYNC       = 0x00000040
	MNT_NOCOREDUMP  = 0x00008000
	MNT_UPDATE      = 0x00010000
	MNT_RELOAD      = 0x00040000
	MNT_FORCE       = 0x00080000
	MNT_GETARGS     = 0x00400000
	MNT_NOATIME     = 0x04000000

	// MOUNT_TMPFS names the tmpfs file-system type.
	MOUNT_TMPFS = "tmpfs"
	// TMPFS_ARGS_VERSION is the ta_version tmpfs accepts.
	TMPFS_ARGS_VERSION = 1
	// MFSNAMELEN bounds a file-system type name, NUL included.
	MFSNAMELEN = 32
	// VFS_MAX_MOUNT_DATA bounds a mount's data_len.
	VFS_MAX_MOUNT_DATA = 8192
)

// utimensat(2) special tv_nsec values, which NetBSD also honours in a
// timeval's tv_usec.
const (
	UTIME_NOW  = 1<<30 - 1
	UTIME_OMIT = 1<<30 - 2
)

// Byte orders as hw.byteorder reports them.
const (
	LITTLE_ENDIAN = 1234
	BIG_ENDIAN    = 4321
)
