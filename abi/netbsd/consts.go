package netbsd

import (
	"fmt"
	"strings"
)

// open(2) flags (sys/fcntl.h).
const (
	O_RDONLY    = 0x00000000
	O_WRONLY    = 0x00000001
	O_RDWR      = 0x00000002
	O_ACCMODE   = 0x00000003
	O_NONBLOCK  = 0x00000004
	O_APPEND    = 0x00000008
	O_CREAT     = 0x00000200
	O_TRUNC     = 0x00000400
	O_EXCL      = 0x00000800
	O_DIRECTORY = 0x00200000
	O_CLOEXEC   = 0x00400000
)

// fcntl(2) commands and descriptor flags.
const (
	F_DUPFD    = 0
	F_GETFD    = 1
	F_SETFD    = 2
	F_GETFL    = 3
	F_SETFL    = 4
	FD_CLOEXEC = 1
)

// lseek(2) whence values.
const (
	SEEK_SET = 0
	SEEK_CUR = 1
	SEEK_END = 2
)

// access(2) modes.
const (
	F_OK = 0
	X_OK = 1
	W_OK = 2
	R_OK = 4
)

// File types in st_mode (sys/stat.h), octal as in C.
const (
	S_IFMT   = 0170000
	S_IFIFO  = 0010000
	S_IFCHR  = 0020000
	S_IFDIR  = 0040000
	S_IFBLK  = 0060000
	S_IFREG  = 0100000
	S_IFLNK  = 0120000
	S_IFSOCK = 0140000
)

// d_type values in struct dirent.
const (
	DT_UNKNOWN = 0
	DT_FIFO    = 1
	DT_CHR     = 2
	DT_DIR     = 4
	DT_BLK     = 6
	DT_REG     = 8
	DT_LNK     = 10
	DT_SOCK    = 12
)

// mmap(2) protections and flags (sys/mman.h).
const (
	PROT_NONE   = 0
	PROT_READ   = 1
	PROT_WRITE  = 2
	PROT_EXEC   = 4
	MAP_SHARED  = 0x0001
	MAP_PRIVATE = 0x0002
	MAP_FIXED   = 0x0010
	MAP_ANON    = 0x1000
)

// Socket domains and types.
const (
	AF_LOCAL    = 1
	AF_INET     = 2
	AF_INET6    = 24
	SOCK_STREAM = 1
	SOCK_DGRAM  = 2
)

// sysctl(3) top-level names and the second-level names sprig serves.
const (
	CTL_KERN        = 1
	CTL_HW          = 6
	KERN_OSTYPE     = 1
	KERN_OSRELEASE  = 2
	KERN_HOSTNAME   = 10
	HW_MACHINE      = 1
	HW_PAGESIZE     = 7
	HW_MACHINE_ARCH = 10
)

// Limits (sys/syslimits.h).
const (
	PATH_MAX = 1024
	NAME_MAX = 511
)

// NODEV is the st_rdev of a file that is not a device.
const NODEV = ^uint64(0)

// Signal is a NetBSD signal number (sys/signal.h).
type Signal int32

// NetBSD signals.
const (
	SIGHUP  Signal = 1
	SIGINT  Signal = 2
	SIGQUIT Signal = 3
	SIGABRT Signal = 6
	SIGKILL Signal = 9
	SIGSEGV Signal = 11
	SIGPIPE Signal = 13
	SIGALRM Signal = 14
	SIGTERM Signal = 15
	SIGCHLD Signal = 20
	SIGUSR1 Signal = 30
	SIGUSR2 Signal = 31
)

var signalNames = map[Signal]string{
	SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGABRT: "SIGABRT",
	SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM",
	SIGTERM: "SIGTERM", SIGCHLD: "SIGCHLD", SIGUSR1: "SIGUSR1", SIGUSR2: "SIGUSR2",
}

// String returns the C name ("SIGUSR1"), or Signal(N) for others.
func (s Signal) String() string {
	if n, ok := signalNames[s]; ok {
		return n
	}
	return fmt.Sprintf("Signal(%d)", int32(s))
}

var openFlagNames = []struct {
	bit  uint32
	name string
}{
	{O_NONBLOCK, "O_NONBLOCK"}, {O_APPEND, "O_APPEND"}, {O_CREAT, "O_CREAT"},
	{O_TRUNC, "O_TRUNC"}, {O_EXCL, "O_EXCL"}, {O_DIRECTORY, "O_DIRECTORY"},
	{O_CLOEXEC, "O_CLOEXEC"},
}

// OpenFlagsString spells open(2) flags as C would: "O_CREAT|O_RDWR".
func OpenFlagsString(flags uint32) string {
	var parts []string
	for _, f := range openFlagNames {
		if flags&f.bit != 0 {
			parts = append(parts, f.name)
			flags &^= f.bit
		}
	}
	switch flags & O_ACCMODE {
	case O_RDONLY:
		parts = append(parts, "O_RDONLY")
	case O_WRONLY:
		parts = append(parts, "O_WRONLY")
	case O_RDWR:
		parts = append(parts, "O_RDWR")
	default:
		parts = append(parts, "O_ACCMODE")
	}
	if rest := flags &^ O_ACCMODE; rest != 0 {
		parts = append(parts, fmt.Sprintf("%#x", rest))
	}
	return strings.Join(parts, "|")
}

// FileTypeString names the file type bits of a st_mode ("S_IFREG").
func FileTypeString(mode uint32) string {
	switch mode & S_IFMT {
	case S_IFIFO:
		return "S_IFIFO"
	case S_IFCHR:
		return "S_IFCHR"
	case S_IFDIR:
		return "S_IFDIR"
	case S_IFBLK:
		return "S_IFBLK"
	case S_IFREG:
		return "S_IFREG"
	case S_IFLNK:
		return "S_IFLNK"
	case S_IFSOCK:
		return "S_IFSOCK"
	}
	return fmt.Sprintf("%#o", mode&S_IFMT)
}
