package netbsd

import (
	"fmt"

	"github.com/rumpsprig/sprig/abi"
)

// Sysno is a NetBSD syscall number (sys/syscall.h).
type Sysno uint32

// Syscall numbers sprig knows. NetBSD never renumbers a syscall.
const (
	SYS_exit         Sysno = 1
	SYS_read         Sysno = 3
	SYS_write        Sysno = 4
	SYS_open         Sysno = 5
	SYS_close        Sysno = 6
	SYS_link         Sysno = 9
	SYS_unlink       Sysno = 10
	SYS_chdir        Sysno = 12
	SYS_fchdir       Sysno = 13
	SYS_chmod        Sysno = 15
	SYS_chown        Sysno = 16
	SYS_getpid       Sysno = 20
	SYS_unmount      Sysno = 22
	SYS_setuid       Sysno = 23
	SYS_getuid       Sysno = 24
	SYS_geteuid      Sysno = 25
	SYS_access       Sysno = 33
	SYS_sync         Sysno = 36
	SYS_kill         Sysno = 37
	SYS_getppid      Sysno = 39
	SYS_dup          Sysno = 41
	SYS_pipe         Sysno = 42
	SYS_getegid      Sysno = 43
	SYS_getgid       Sysno = 47
	SYS___getlogin   Sysno = 49
	SYS___setlogin   Sysno = 50
	SYS_ioctl        Sysno = 54
	SYS_symlink      Sysno = 57
	SYS_readlink     Sysno = 58
	SYS_umask        Sysno = 60
	SYS_munmap       Sysno = 73
	SYS_getgroups    Sysno = 79
	SYS_dup2         Sysno = 90
	SYS_fcntl        Sysno = 92
	SYS_fsync        Sysno = 95
	SYS_fchown       Sysno = 123
	SYS_fchmod       Sysno = 124
	SYS_rename       Sysno = 128
	SYS_mkdir        Sysno = 136
	SYS_rmdir        Sysno = 137
	SYS_pread        Sysno = 173
	SYS_pwrite       Sysno = 174
	SYS_setgid       Sysno = 181
	SYS_setegid      Sysno = 182
	SYS_seteuid      Sysno = 183
	SYS_getrlimit    Sysno = 194
	SYS_setrlimit    Sysno = 195
	SYS_mmap         Sysno = 197
	SYS_lseek        Sysno = 199
	SYS_truncate     Sysno = 200
	SYS_ftruncate    Sysno = 201
	SYS___sysctl     Sysno = 202
	SYS_lchmod       Sysno = 274
	SYS_lchown       Sysno = 275
	SYS___getcwd     Sysno = 296
	SYS___getdents30 Sysno = 390
	SYS___socket30   Sysno = 394
	SYS___mount50    Sysno = 410
	SYS___utimes50   Sysno = 420
	SYS___futimes50  Sysno = 423
	SYS___lutimes50  Sysno = 424
	SYS___stat50     Sysno = 439
	SYS___fstat50    Sysno = 440
	SYS___lstat50    Sysno = 441
	SYS_pipe2        Sysno = 453
)

// Ret is the shape of a syscall's result in rsp_sysresp.retval.
type Ret uint8

// Result shapes.
const (
	// RetInt: one int in retval[0].
	RetInt Ret = iota
	// RetTwo: two values, retval[0] and retval[1] (getpid: pid and
	// ppid; pipe: two fds).
	RetTwo
	// RetOff: a 64-bit off_t; on a 32-bit ABI it spans retval[0..1] in
	// the client's memory order.
	RetOff
	// RetPointer: an address in retval[0] (mmap).
	RetPointer
	// RetNone: the call does not return (exit).
	RetNone
)

// String names the result shape.
func (r Ret) String() string {
	switch r {
	case RetInt:
		return "int"
	case RetTwo:
		return "two values"
	case RetOff:
		return "off_t"
	case RetPointer:
		return "pointer"
	case RetNone:
		return "none"
	}
	return fmt.Sprintf("Ret(%d)", uint8(r))
}

// Syscall describes one syscall: its number, name, arguments with their C
// types (in NetBSD's struct sys_<name>_args order, PAD included) and the
// shape of its result.
type Syscall struct {
	Num  Sysno       // SYS_ number
	Name string      // name without SYS_ ("lseek", "__stat50")
	Args []abi.Field // struct sys_<name>_args members, PAD included
	Ret  Ret         // the shape of the result
}

var (
	cstr  = abi.PointerTo("const char")
	vptr  = abi.PointerTo("void")
	cvptr = abi.PointerTo("const void")
	fd    = abi.F("fd", abi.Int)
	path  = abi.F("path", cstr)
	pad   = abi.F("PAD", abi.Pad)
	nbyte = abi.F("nbyte", abi.SizeT)
)

var (
	argUID   = abi.F("uid", UidT)
	argGID   = abi.F("gid", GidT)
	argMode  = abi.F("mode", ModeT)
	argTimes = abi.F("tptr", abi.PointerTo("const struct timeval"))
	rlp      = abi.F("rlp", abi.PointerTo("struct rlimit"))
)

// syscalls lists every described syscall in number order, with the
// arguments of NetBSD's syscalls.master.
var syscalls = []*Syscall{
	{SYS_exit, "exit", []abi.Field{abi.F("rval", abi.Int)}, RetNone},
	{SYS_read, "read", []abi.Field{fd, abi.F("buf", vptr), nbyte}, RetInt},
	{SYS_write, "write", []abi.Field{fd, abi.F("buf", cvptr), nbyte}, RetInt},
	{SYS_open, "open", []abi.Field{path, abi.F("flags", abi.Int), argMode}, RetInt},
	{SYS_close, "close", []abi.Field{fd}, RetInt},
	{SYS_link, "link", []abi.Field{path, abi.F("link", cstr)}, RetInt},
	{SYS_unlink, "unlink", []abi.Field{path}, RetInt},
	{SYS_chdir, "chdir", []abi.Field{path}, RetInt},
	{SYS_fchdir, "fchdir", []abi.Field{fd}, RetInt},
	{SYS_chmod, "chmod", []abi.Field{path, argMode}, RetInt},
	{SYS_chown, "chown", []abi.Field{path, argUID, argGID}, RetInt},
	{SYS_getpid, "getpid", nil, RetTwo},
	{SYS_unmount, "unmount", []abi.Field{path, abi.F("flags", abi.Int)}, RetInt},
	{SYS_setuid, "setuid", []abi.Field{argUID}, RetInt},
	{SYS_getuid, "getuid", nil, RetInt}, // the kernel fills retval[1] (euid) too; C reads retval[0]
	{SYS_geteuid, "geteuid", nil, RetInt},
	{SYS_access, "access", []abi.Field{path, abi.F("flags", abi.Int)}, RetInt},
	{SYS_sync, "sync", nil, RetInt},
	{SYS_kill, "kill", []abi.Field{abi.F("pid", PidT), abi.F("signum", abi.Int)}, RetInt},
	{SYS_getppid, "getppid", nil, RetInt},
	{SYS_dup, "dup", []abi.Field{fd}, RetInt},
	{SYS_pipe, "pipe", nil, RetTwo},
	{SYS_getegid, "getegid", nil, RetInt},
	{SYS_getgid, "getgid", nil, RetInt}, // likewise the egid
	{SYS___getlogin, "__getlogin", []abi.Field{abi.F("namebuf", abi.PointerTo("char")), abi.F("namelen", abi.SizeT)}, RetInt},
	{SYS___setlogin, "__setlogin", []abi.Field{abi.F("namebuf", cstr)}, RetInt},
	{SYS_ioctl, "ioctl", []abi.Field{fd, abi.F("com", ULong), abi.F("data", vptr)}, RetInt},
	{SYS_symlink, "symlink", []abi.Field{path, abi.F("link", cstr)}, RetInt},
	{SYS_readlink, "readlink", []abi.Field{path, abi.F("buf", abi.PointerTo("char")), abi.F("count", abi.SizeT)}, RetInt},
	{SYS_umask, "umask", []abi.Field{abi.F("newmask", ModeT)}, RetInt},
	{SYS_munmap, "munmap", []abi.Field{abi.F("addr", vptr), abi.F("len", abi.SizeT)}, RetInt},
	{SYS_getgroups, "getgroups", []abi.Field{abi.F("gidsetsize", abi.Int), abi.F("gidset", abi.PointerTo("gid_t"))}, RetInt},
	{SYS_dup2, "dup2", []abi.Field{abi.F("from", abi.Int), abi.F("to", abi.Int)}, RetInt},
	{SYS_fcntl, "fcntl", []abi.Field{fd, abi.F("cmd", abi.Int), abi.F("arg", vptr)}, RetInt},
	{SYS_fsync, "fsync", []abi.Field{fd}, RetInt},
	{SYS_fchown, "fchown", []abi.Field{fd, argUID, argGID}, RetInt},
	{SYS_fchmod, "fchmod", []abi.Field{fd, argMode}, RetInt},
	{SYS_rename, "rename", []abi.Field{abi.F("from", cstr), abi.F("to", cstr)}, RetInt},
	{SYS_mkdir, "mkdir", []abi.Field{path, argMode}, RetInt},
	{SYS_rmdir, "rmdir", []abi.Field{path}, RetInt},
	{SYS_pread, "pread", []abi.Field{fd, abi.F("buf", vptr), nbyte, pad, abi.F("offset", OffT)}, RetInt},
	{SYS_pwrite, "pwrite", []abi.Field{fd, abi.F("buf", cvptr), nbyte, pad, abi.F("offset", OffT)}, RetInt},
	{SYS_setgid, "setgid", []abi.Field{argGID}, RetInt},
	{SYS_setegid, "setegid", []abi.Field{abi.F("egid", GidT)}, RetInt},
	{SYS_seteuid, "seteuid", []abi.Field{abi.F("euid", UidT)}, RetInt},
	{SYS_getrlimit, "getrlimit", []abi.Field{abi.F("which", abi.Int), rlp}, RetInt},
	{SYS_setrlimit, "setrlimit", []abi.Field{abi.F("which", abi.Int), abi.F("rlp", abi.PointerTo("const struct rlimit"))}, RetInt},
	{SYS_mmap, "mmap", []abi.Field{abi.F("addr", vptr), abi.F("len", abi.SizeT), abi.F("prot", abi.Int),
		abi.F("flags", abi.Int), fd, abi.F("PAD", abi.Pad), abi.F("pos", OffT)}, RetPointer},
	{SYS_lseek, "lseek", []abi.Field{fd, pad, abi.F("offset", OffT), abi.F("whence", abi.Int)}, RetOff},
	{SYS_truncate, "truncate", []abi.Field{path, pad, abi.F("length", OffT)}, RetInt},
	{SYS_ftruncate, "ftruncate", []abi.Field{fd, pad, abi.F("length", OffT)}, RetInt},
	{SYS___sysctl, "__sysctl", []abi.Field{abi.F("name", abi.PointerTo("const int")), abi.F("namelen", UInt),
		abi.F("oldv", vptr), abi.F("oldlenp", abi.PointerTo("size_t")), abi.F("newv", cvptr), abi.F("newlen", abi.SizeT)}, RetInt},
	{SYS_lchmod, "lchmod", []abi.Field{path, argMode}, RetInt},
	{SYS_lchown, "lchown", []abi.Field{path, argUID, argGID}, RetInt},
	{SYS___getcwd, "__getcwd", []abi.Field{abi.F("bufp", abi.PointerTo("char")), abi.F("length", abi.SizeT)}, RetInt},
	{SYS___getdents30, "__getdents30", []abi.Field{fd, abi.F("buf", abi.PointerTo("char")), abi.F("count", abi.SizeT)}, RetInt},
	{SYS___socket30, "__socket30", []abi.Field{abi.F("domain", abi.Int), abi.F("type", abi.Int), abi.F("protocol", abi.Int)}, RetInt},
	{SYS___mount50, "__mount50", []abi.Field{abi.F("type", cstr), path, abi.F("flags", abi.Int),
		abi.F("data", vptr), abi.F("data_len", abi.SizeT)}, RetInt},
	{SYS___utimes50, "__utimes50", []abi.Field{path, argTimes}, RetInt},
	{SYS___futimes50, "__futimes50", []abi.Field{fd, argTimes}, RetInt},
	{SYS___lutimes50, "__lutimes50", []abi.Field{path, argTimes}, RetInt},
	{SYS___stat50, "__stat50", []abi.Field{path, abi.F("ub", abi.PointerTo("struct stat"))}, RetInt},
	{SYS___fstat50, "__fstat50", []abi.Field{fd, abi.F("sb", abi.PointerTo("struct stat"))}, RetInt},
	{SYS___lstat50, "__lstat50", []abi.Field{path, abi.F("ub", abi.PointerTo("struct stat"))}, RetInt},
	{SYS_pipe2, "pipe2", []abi.Field{abi.F("fildes", abi.PointerTo("int")), abi.F("flags", abi.Int)}, RetInt},
}

var byNum = func() map[Sysno]*Syscall {
	m := make(map[Sysno]*Syscall, len(syscalls))
	for _, s := range syscalls {
		m[s.Num] = s
	}
	return m
}()

// Lookup returns the description of syscall n, or nil.
func Lookup(n Sysno) *Syscall { return byNum[n] }

// LookupName returns the syscall called name ("open", "__stat50"), or nil.
func LookupName(name string) *Syscall {
	for _, s := range syscalls {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Syscalls returns every described syscall in number order.
func Syscalls() []*Syscall { return append([]*Syscall(nil), syscalls...) }

// String returns the syscall's name, or "syscall#N" for unknown numbers.
func (n Sysno) String() string {
	if s := byNum[n]; s != nil {
		return s.Name
	}
	return fmt.Sprintf("syscall#%d", uint32(n))
}
