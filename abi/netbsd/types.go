package netbsd

import "github.com/rumpsprig/sprig/abi"

// NetBSD's typedefs (sys/types.h). Their widths are the same on every
// NetBSD machine; only alignment inside structs varies.
var (
	DevT     = abi.Typedef("dev_t", abi.Uint64)
	ModeT    = abi.Typedef("mode_t", abi.Uint32)
	InoT     = abi.Typedef("ino_t", abi.Uint64)
	NlinkT   = abi.Typedef("nlink_t", abi.Uint32)
	UidT     = abi.Typedef("uid_t", abi.Uint32)
	GidT     = abi.Typedef("gid_t", abi.Uint32)
	PidT     = abi.Typedef("pid_t", abi.Int32)
	TimeT    = abi.Typedef("time_t", abi.Int64)
	OffT     = abi.Typedef("off_t", abi.Int64)
	BlkcntT  = abi.Typedef("blkcnt_t", abi.Int64)
	BlksizeT = abi.Typedef("blksize_t", abi.Int32)
	ULong    = abi.Typedef("u_long", abi.ULong)
	UInt     = abi.Typedef("u_int", abi.UInt)
)

// TimespecType is struct timespec (sys/timespec.h).
var TimespecType = abi.Struct("timespec",
	abi.F("tv_sec", TimeT),
	abi.F("tv_nsec", abi.Long),
)

// StatType is struct stat as NetBSD 5.0 and later define it (__stat50,
// sys/stat.h).
var StatType = abi.Struct("stat",
	abi.F("st_dev", DevT),
	abi.F("st_mode", ModeT),
	abi.F("st_ino", InoT),
	abi.F("st_nlink", NlinkT),
	abi.F("st_uid", UidT),
	abi.F("st_gid", GidT),
	abi.F("st_rdev", DevT),
	abi.F("st_atim", TimespecType),
	abi.F("st_mtim", TimespecType),
	abi.F("st_ctim", TimespecType),
	abi.F("st_birthtim", TimespecType),
	abi.F("st_size", OffT),
	abi.F("st_blocks", BlkcntT),
	abi.F("st_blksize", BlksizeT),
	abi.F("st_flags", abi.Uint32),
	abi.F("st_gen", abi.Uint32),
	abi.F("st_spare", abi.Array(abi.Uint32, 2)),
)

// DirentType is struct dirent as __getdents30 returns it (sys/dirent.h),
// with the name as a flexible tail; records are padded to DirentAlign.
var DirentType = abi.Struct("dirent",
	abi.F("d_fileno", InoT),
	abi.F("d_reclen", abi.Uint16),
	abi.F("d_namlen", abi.Uint16),
	abi.F("d_type", abi.Uint8),
	abi.F("d_name", abi.FlexArray(abi.Char)),
)

// DirentAlign is the multiple every getdents record length is rounded to.
const DirentAlign = 8

// SysrespType is the body of a SYSCALL response (rsp_sysresp).
var SysrespType = abi.Struct("rsp_sysresp",
	abi.F("rsys_error", abi.Int),
	abi.F("rsys_retval", abi.Array(abi.RegisterT, 2)),
)

// CopydataType is the body of COPYIN, COPYINSTR and COPYOUT requests
// (rsp_copydata); COPYOUT's data follows as the flexible tail.
var CopydataType = abi.Struct("rsp_copydata",
	abi.F("rcp_len", abi.SizeT),
	abi.F("rcp_addr", abi.Pointer),
	abi.F("rcp_data", abi.FlexArray(abi.UChar)),
)

// HandshakeForkType is the body of a FORK handshake (handshake_fork).
var HandshakeForkType = abi.Struct("handshake_fork",
	abi.F("rf_auth", abi.Array(abi.Uint32, 4)),
	abi.F("rf_cancel", abi.Int),
)

// Timespec carries a struct timespec. Each field carries the C member its abi tag names.
type Timespec struct {
	Sec  int64 `abi:"tv_sec"`
	Nsec int64 `abi:"tv_nsec"`
}

// Stat carries a struct stat (st_spare is not carried). Each field carries the C member its abi tag names.
type Stat struct {
	Dev      uint64   `abi:"st_dev"`
	Mode     uint32   `abi:"st_mode"`
	Ino      uint64   `abi:"st_ino"`
	Nlink    uint32   `abi:"st_nlink"`
	UID      uint32   `abi:"st_uid"`
	GID      uint32   `abi:"st_gid"`
	Rdev     uint64   `abi:"st_rdev"`
	Atim     Timespec `abi:"st_atim"`
	Mtim     Timespec `abi:"st_mtim"`
	Ctim     Timespec `abi:"st_ctim"`
	Birthtim Timespec `abi:"st_birthtim"`
	Size     int64    `abi:"st_size"`
	Blocks   int64    `abi:"st_blocks"`
	Blksize  int32    `abi:"st_blksize"`
	Flags    uint32   `abi:"st_flags"`
	Gen      uint32   `abi:"st_gen"`
}

// Dirent carries one struct dirent record. Each field carries the C member its abi tag names.
type Dirent struct {
	Fileno uint64 `abi:"d_fileno"`
	Reclen uint16 `abi:"d_reclen"`
	Namlen uint16 `abi:"d_namlen"`
	Type   uint8  `abi:"d_type"`
	Name   string `abi:"d_name"`
}

// Sysresp carries an rsp_sysresp. Each field carries the C member its abi tag names.
type Sysresp struct {
	Error  int32     `abi:"rsys_error"`
	Retval [2]uint64 `abi:"rsys_retval"`
}

// Copydata carries the fixed part of an rsp_copydata. Each field carries the C member its abi tag names.
type Copydata struct {
	Len  uint64 `abi:"rcp_len"`
	Addr uint64 `abi:"rcp_addr"`
}

// HandshakeFork carries a handshake_fork. Each field carries the C member its abi tag names.
type HandshakeFork struct {
	Auth   [4]uint32 `abi:"rf_auth"`
	Cancel int32     `abi:"rf_cancel"`
}

// More of NetBSD's typedefs, for the structs below.
var (
	SusecondsT = abi.Typedef("suseconds_t", abi.Int)
	RlimT      = abi.Typedef("rlim_t", abi.Uint64)
	TcflagT    = abi.Typedef("tcflag_t", abi.UInt)
	CcT        = abi.Typedef("cc_t", abi.UChar)
)

// TimevalType is struct timeval (sys/time.h) as __utimes50 and its
// relatives take it: a 64-bit time_t and an int of microseconds.
var TimevalType = abi.Struct("timeval",
	abi.F("tv_sec", TimeT),
	abi.F("tv_usec", SusecondsT),
)

// RlimitType is struct rlimit (sys/resource.h).
var RlimitType = abi.Struct("rlimit",
	abi.F("rlim_cur", RlimT),
	abi.F("rlim_max", RlimT),
)

// TmpfsArgsType is struct tmpfs_args (fs/tmpfs/tmpfs_args.h), the data
// of a tmpfs __mount50: 40 bytes on LP64, 32 on i386.
var TmpfsArgsType = abi.Struct("tmpfs_args",
	abi.F("ta_version", abi.Int),
	abi.F("ta_nodes_max", InoT),
	abi.F("ta_size_max", OffT),
	abi.F("ta_root_uid", UidT),
	abi.F("ta_root_gid", GidT),
	abi.F("ta_root_mode", ModeT),
)

// NCCS is the number of control characters in struct termios.
const NCCS = 20

// TermiosType is struct termios (sys/termios.h): 44 bytes on every
// NetBSD machine, the size TIOCGETA encodes.
var TermiosType = abi.Struct("termios",
	abi.F("c_iflag", TcflagT),
	abi.F("c_oflag", TcflagT),
	abi.F("c_cflag", TcflagT),
	abi.F("c_lflag", TcflagT),
	abi.F("c_cc", abi.Array(CcT, NCCS)),
	abi.F("c_ispeed", abi.Int),
	abi.F("c_ospeed", abi.Int),
)

// Timeval carries a struct timeval.
type Timeval struct {
	Sec  int64 `abi:"tv_sec"`
	Usec int64 `abi:"tv_usec"`
}

// Rlimit carries a struct rlimit.
type Rlimit struct {
	Cur uint64 `abi:"rlim_cur"`
	Max uint64 `abi:"rlim_max"`
}

// Termios carries a struct termios.
type Termios struct {
	Iflag  uint32      `abi:"c_iflag"`
	Oflag  uint32      `abi:"c_oflag"`
	Cflag  uint32      `abi:"c_cflag"`
	Lflag  uint32      `abi:"c_lflag"`
	CC     [NCCS]uint8 `abi:"c_cc"`
	Ispeed int32       `abi:"c_ispeed"`
	Ospeed int32       `abi:"c_ospeed"`
}

// TmpfsArgs carries a struct tmpfs_args.
type TmpfsArgs struct {
	Version  int32  `abi:"ta_version"`
	NodesMax uint64 `abi:"ta_nodes_max"`
	SizeMax  int64  `abi:"ta_size_max"`
	RootUID  uint32 `abi:"ta_root_uid"`
	RootGID  uint32 `abi:"ta_root_gid"`
	RootMode uint32 `abi:"ta_root_mode"`
}
