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
