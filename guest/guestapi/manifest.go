package guestapi

import (
	"slices"

	"github.com/rumpsprig/sprig/abi/netbsd"
)

// The manifest says, for every scenario the scenario guest runs, what it
// makes cross the wire: the syscalls it sends, the sysproxy messages
// besides SYSCALL, and the typed data inside frames or copied memory. It
// is what the ABI layouts must agree on for the scenario to work between
// two machines unmodified, so a prediction can be computed from the
// descriptors alone (package rig/predict). A test runs the real guest and
// checks every scenario's reported Syscalls, and the messages the server
// sees, against this table, so the two cannot drift apart.

// Message is a sysproxy message other than a SYSCALL request and its
// reply, named as in NetBSD's sp_common.c.
type Message string

// The messages a scenario may cause.
const (
	// MsgGuest is the GUEST handshake: a program name out, a C int back.
	MsgGuest Message = "HANDSHAKE GUEST"
	// MsgExec is the EXEC handshake (protocol 0.4).
	MsgExec Message = "HANDSHAKE EXEC"
	// MsgFork is the FORK handshake: struct handshake_fork out.
	MsgFork Message = "HANDSHAKE FORK"
	// MsgPrefork asks for a fork; the reply is a 16-byte cookie.
	MsgPrefork Message = "PREFORK"
	// MsgCopyIn is the server asking for client memory: struct
	// rsp_copydata (size_t len, void *addr) out, the bytes back.
	MsgCopyIn Message = "COPYIN"
	// MsgCopyInStr is COPYIN for a NUL-terminated string (paths).
	MsgCopyInStr Message = "COPYINSTR"
	// MsgCopyOut is the server writing client memory: rsp_copydata and
	// the bytes, one way.
	MsgCopyOut Message = "COPYOUT"
	// MsgAnonMmap is the server asking the client to map memory: a C
	// size_t out, a void * back.
	MsgAnonMmap Message = "ANONMMAP"
	// MsgRaise is the server posting a signal to the client; the signal
	// number travels in the header.
	MsgRaise Message = "RAISE"
)

// Data is a kind of typed value that crosses the wire inside a frame body
// or in copied memory, beyond the syscall argument structs and
// rsp_sysresp every syscall uses.
type Data string

// The typed data a scenario may move.
const (
	// DataStat is struct stat, copied out by __stat50, __fstat50 and
	// __lstat50.
	DataStat Data = "struct stat"
	// DataDirent is struct dirent records, copied out by __getdents30.
	DataDirent Data = "struct dirent"
	// DataSizeT is a C size_t in client memory (__sysctl's *oldlenp).
	DataSizeT Data = "size_t"
	// DataInts is an array of C ints in client memory (__sysctl's MIB
	// and int values, pipe2's fildes).
	DataInts Data = "int[]"
	// DataOffT is lseek's 64-bit off_t result, split over rsys_retval[0]
	// and [1] on ABIs whose register_t is 32 bits wide.
	DataOffT Data = "off_t retval"
	// DataTwoRetvals is a result in both rsys_retval words (getpid's
	// pid and ppid, pipe's two descriptors).
	DataTwoRetvals Data = "two retvals"
	// DataPointer is a pointer result in rsys_retval[0] (mmap).
	DataPointer Data = "pointer retval"
	// DataTmpfsArgs is struct tmpfs_args, copied in by a tmpfs
	// __mount50.
	DataTmpfsArgs Data = "struct tmpfs_args"
)

// Scenario is one manifest entry.
type Scenario struct {
	// Name is the scenario's stable name, as results report it.
	Name string
	// Summary says in a line what the scenario checks.
	Summary string
	// Syscalls are the numbers of every syscall the scenario sends, each
	// once, in ascending order (numbers outside the syscall table
	// included: errors sends 9999).
	Syscalls []netbsd.Sysno
	// Messages are the other sysproxy messages it causes.
	Messages []Message
	// Data are the typed values its syscalls move, a syscall expected to
	// fail included (pipe's lseek counts for DataOffT).
	Data []Data
	// Child names a scenario this one starts in a second guest instance
	// and waits for: this one passes only if the child does.
	Child string
	// ChildOnly marks a scenario that cannot be selected: it runs only
	// when its parent starts it.
	ChildOnly bool
	// Destructive marks a scenario that can harm a real server: sprig
	// runs it against outside servers only when asked.
	Destructive bool
	// Needs names a kernel feature beyond what NetBSD's rump kernel
	// offers, without which the scenario is unsupported ("kill", "mmap":
	// sprig's kernel extension).
	Needs string
	// NetBSD says what NetBSD's own rump_server does where this
	// scenario looks, for a conformance report's reader.
	NetBSD string
}

// every lists syscall numbers in ascending order, each once.
func every(nums ...netbsd.Sysno) []netbsd.Sysno {
	out := slices.Clone(nums)
	slices.Sort(out)
	return slices.Compact(out)
}

// The messages of the scenarios that open paths and copy memory both ways
// (copies) or only out (copiesNoIn).
var (
	copies     = []Message{MsgGuest, MsgCopyInStr, MsgCopyIn, MsgCopyOut}
	copiesNoIn = []Message{MsgGuest, MsgCopyInStr, MsgCopyOut}
)

// sysUnknown is the syscall number the errors scenario sends to get
// ENOSYS.
const sysUnknown netbsd.Sysno = 9999

// manifest is the table, in the order the guest reports scenarios.
var manifest = []Scenario{
	{
		Name: "handshake", Summary: "the banner, the GUEST handshake and the EXEC handshake",
		Messages: []Message{MsgGuest, MsgExec},
		NetBSD:   "NetBSD's rump_server sends RUMPSP-0.4-NetBSD-<release>/<MACHINE> and answers GUEST and EXEC with a C int 0",
	},
	{
		Name: "getpid", Summary: "getpid's two return values and getppid",
		Syscalls: every(netbsd.SYS_getpid, netbsd.SYS_getppid),
		Messages: []Message{MsgGuest},
		Data:     []Data{DataTwoRetvals},
		NetBSD:   "a GUEST client is a child of the server's pid 1; getpid returns the pid and the ppid",
	},
	{
		Name: "file-io", Summary: "open by path, write, seek, read, close, EBADF after close and the lowest free descriptor",
		Syscalls: every(netbsd.SYS_getpid, netbsd.SYS_umask, netbsd.SYS_mkdir, netbsd.SYS_open, netbsd.SYS_write, netbsd.SYS_lseek,
			netbsd.SYS_read, netbsd.SYS_close, netbsd.SYS_unlink),
		Messages: copies,
		Data:     []Data{DataTwoRetvals, DataOffT},
		NetBSD:   "open takes the lowest free descriptor; fds 0-2 are the rump console on NetBSD's rump_server, so its first open is 3",
	},
	{
		Name: "lseek-4g", Summary: "offsets past 4 GiB in lseek, pread and pwrite arguments and results",
		Syscalls: every(netbsd.SYS_getpid, netbsd.SYS_umask, netbsd.SYS_mkdir, netbsd.SYS_open, netbsd.SYS_lseek, netbsd.SYS_pwrite,
			netbsd.SYS___fstat50, netbsd.SYS_pread, netbsd.SYS_close, netbsd.SYS_unlink),
		Messages: copies,
		Data:     []Data{DataTwoRetvals, DataOffT, DataStat},
		NetBSD:   "off_t is 64 bits on every NetBSD ABI; lseek's result spans both retval words where register_t is 32 bits",
	},
	{
		Name: "pread-pwrite", Summary: "positioned I/O leaves the file offset alone",
		Syscalls: every(netbsd.SYS_getpid, netbsd.SYS_umask, netbsd.SYS_mkdir, netbsd.SYS_open, netbsd.SYS_write, netbsd.SYS_pwrite,
			netbsd.SYS_lseek, netbsd.SYS_pread, netbsd.SYS_read, netbsd.SYS_close, netbsd.SYS_unlink),
		Messages: copies,
		Data:     []Data{DataTwoRetvals, DataOffT},
		NetBSD:   "NetBSD's rumpfs (the rump root) returns zero bytes past the end of a file where POSIX says 0",
	},
	{
		Name: "stat", Summary: "every member of struct stat from __stat50, __fstat50 and __lstat50",
		Syscalls: every(netbsd.SYS_getpid, netbsd.SYS_umask, netbsd.SYS_mkdir, netbsd.SYS_geteuid, netbsd.SYS___stat50, netbsd.SYS_umask,
			netbsd.SYS_open, netbsd.SYS_write, netbsd.SYS___fstat50, netbsd.SYS___lstat50,
			netbsd.SYS_close, netbsd.SYS_unlink),
		Messages: copies,
		Data:     []Data{DataTwoRetvals, DataStat},
		NetBSD:   "rumpfs owns every node as uid 0 and reports st_blocks 1 and st_blksize 512; tmpfs counts 8 blocks a page",
	},
	{
		Name: "getdents", Summary: "a directory listing through __getdents30, record by record",
		Syscalls: every(netbsd.SYS_getpid, netbsd.SYS_umask, netbsd.SYS_mkdir, netbsd.SYS_open, netbsd.SYS_close,
			netbsd.SYS___stat50, netbsd.SYS___fstat50, netbsd.SYS___getdents30, netbsd.SYS_unlink,
			netbsd.SYS_rmdir),
		Messages: copiesNoIn,
		Data:     []Data{DataTwoRetvals, DataStat, DataDirent},
		NetBSD:   "rumpfs lists no . or .. and the newest entry first; tmpfs lists . and .. first, then the oldest first",
	},
	{
		Name: "dirs", Summary: "mkdir, rename, link, unlink and rmdir with NetBSD's errors, on a tmpfs it mounts",
		Syscalls: every(netbsd.SYS_getpid, netbsd.SYS_umask, netbsd.SYS_mkdir, netbsd.SYS___mount50, netbsd.SYS___stat50, netbsd.SYS_open,
			netbsd.SYS_write, netbsd.SYS_close, netbsd.SYS_rename, netbsd.SYS_link, netbsd.SYS_unlink, netbsd.SYS_rmdir),
		Messages: copies,
		Data:     []Data{DataTwoRetvals, DataStat, DataTmpfsArgs},
		NetBSD:   "rumpfs answers EOPNOTSUPP to rename and link; a mounted tmpfs (__mount50 of tmpfs) has both, with POSIX errors",
	},
	{
		Name: "cwd", Summary: "chdir, __getcwd and relative paths",
		Syscalls: every(netbsd.SYS_getpid, netbsd.SYS_umask, netbsd.SYS_mkdir, netbsd.SYS_chdir, netbsd.SYS___getcwd,
			netbsd.SYS_open, netbsd.SYS_write, netbsd.SYS_close, netbsd.SYS___stat50,
			netbsd.SYS_unlink, netbsd.SYS_rmdir),
		Messages: copies,
		Data:     []Data{DataTwoRetvals, DataStat},
		NetBSD:   "__getcwd returns the path's length with its NUL; a buffer of fewer than 2 bytes is ERANGE",
	},
	{
		Name: "dup-fcntl", Summary: "dup, dup2, F_DUPFD, descriptor flags, and status flags shared through dups",
		Syscalls: every(netbsd.SYS_getpid, netbsd.SYS_umask, netbsd.SYS_mkdir, netbsd.SYS_open, netbsd.SYS_dup2, netbsd.SYS_write,
			netbsd.SYS_lseek, netbsd.SYS_pread, netbsd.SYS_fcntl, netbsd.SYS_dup, netbsd.SYS_close,
			netbsd.SYS_unlink, netbsd.SYS_pipe, netbsd.SYS_read),
		Messages: copies,
		Data:     []Data{DataTwoRetvals, DataOffT},
		NetBSD:   "rumpfs refuses F_SETFL on its files for remote clients (EINVAL); pipes take it",
	},
	{
		Name: "pipe", Summary: "pipe's two descriptors, pipe2's int array, non-blocking reads",
		Syscalls: every(netbsd.SYS_pipe, netbsd.SYS_write, netbsd.SYS_read, netbsd.SYS_fcntl,
			netbsd.SYS___fstat50, netbsd.SYS_lseek, netbsd.SYS_pread, netbsd.SYS_close, netbsd.SYS_pipe2),
		Messages: []Message{MsgGuest, MsgCopyIn, MsgCopyOut},
		Data:     []Data{DataTwoRetvals, DataOffT, DataStat, DataInts},
		NetBSD:   "pipe returns both descriptors in retval; a pipe's fstat is mode 010600 with st_blksize 16384",
	},
	{
		Name: "sysctl", Summary: "string and int MIBs, size queries, a short buffer, a write",
		Syscalls: every(netbsd.SYS___sysctl, netbsd.SYS_geteuid),
		Messages: []Message{MsgGuest, MsgCopyIn, MsgCopyOut},
		Data:     []Data{DataSizeT, DataInts},
		NetBSD:   "kern.ostype is NetBSD, kern.osrelease the banner's, hw.pagesize an int; a short buffer gets a partial copy and ENOMEM; only root writes kern.hostname",
	},
	{
		Name: "mmap-anon", Summary: "mmap MAP_ANON served by ANONMMAP, then used as a buffer",
		Syscalls: every(netbsd.SYS_mmap, netbsd.SYS_pipe, netbsd.SYS_write, netbsd.SYS_read, netbsd.SYS_close),
		Messages: []Message{MsgGuest, MsgAnonMmap, MsgCopyIn, MsgCopyOut},
		Data:     []Data{DataTwoRetvals, DataPointer},
		Needs:    "mmap",
		NetBSD:   "NetBSD's rump kernel answers ENOSYS to mmap; sprig serves anonymous mmap with ANONMMAP as an extension",
	},
	{
		Name: "kill-raise", Summary: "a signal to the caller's own process arrives as RAISE",
		Syscalls: every(netbsd.SYS_getpid, netbsd.SYS_kill),
		Messages: []Message{MsgGuest, MsgRaise},
		Data:     []Data{DataTwoRetvals},
		Needs:    "kill",
		NetBSD:   "NetBSD's rump kernel answers ENOSYS to kill (a SIGPIPE still comes as RAISE); sprig's kill is an extension",
	},
	{
		Name: "fork-child", Summary: "the fork child: FORK handshake, inherited pipe and file",
		Syscalls:  every(netbsd.SYS_getpid, netbsd.SYS_getppid, netbsd.SYS_read, netbsd.SYS_pwrite),
		Messages:  []Message{MsgFork, MsgCopyIn, MsgCopyOut},
		Data:      []Data{DataTwoRetvals},
		ChildOnly: true,
	},
	{
		Name: "fork", Summary: "PREFORK and a second guest claiming the fork with its cookie",
		Syscalls: every(netbsd.SYS_getpid, netbsd.SYS_umask, netbsd.SYS_mkdir, netbsd.SYS_pipe, netbsd.SYS_open, netbsd.SYS_write,
			netbsd.SYS_pread, netbsd.SYS_close, netbsd.SYS_unlink),
		Messages: []Message{MsgGuest, MsgPrefork, MsgCopyInStr, MsgCopyIn, MsgCopyOut},
		Data:     []Data{DataTwoRetvals},
		Child:    "fork-child",
		NetBSD:   "PREFORK answers a 16-byte cookie; the FORK handshake's process has a new pid and ppid 1",
	},
	{
		Name: "concurrent", Summary: "several syscalls in flight on one connection",
		Syscalls: every(netbsd.SYS_getpid, netbsd.SYS_pipe, netbsd.SYS_read, netbsd.SYS_write, netbsd.SYS_close),
		Messages: []Message{MsgGuest, MsgCopyIn, MsgCopyOut},
		Data:     []Data{DataTwoRetvals},
		NetBSD:   "the server runs each syscall on a lwp of its own, so replies come back in any order",
	},
	{
		Name: "errors", Summary: "the exact errno of common failures",
		Syscalls: every(netbsd.SYS_getpid, netbsd.SYS_umask, netbsd.SYS_mkdir, netbsd.SYS_close, netbsd.SYS_open,
			sysUnknown, netbsd.SYS___fstat50, netbsd.SYS_unlink),
		Messages: copiesNoIn,
		Data:     []Data{DataTwoRetvals, DataStat},
		NetBSD:   "errno values are NetBSD's own: ENOSYS is 78, EEXIST 17",
	},
	{
		Name: "efault", Summary: "bad pointers: EFAULT for a path and for data",
		Syscalls: every(netbsd.SYS_getpid, netbsd.SYS_umask, netbsd.SYS_mkdir, netbsd.SYS_open, netbsd.SYS_write,
			netbsd.SYS___fstat50, netbsd.SYS_close, netbsd.SYS_unlink),
		Messages:    copies,
		Data:        []Data{DataTwoRetvals, DataStat},
		Destructive: true,
		NetBSD:      "NetBSD's C server dies (SIGSEGV) reading an empty COPYIN reply, and answers an empty COPYINSTR reply with ENAMETOOLONG",
	},
}

// Manifest returns every scenario's entry in the order the guest reports
// them (a child just before its parent, which reports last). The entries
// are copies; changing them changes nothing.
func Manifest() []Scenario {
	out := make([]Scenario, len(manifest))
	for i, s := range manifest {
		out[i] = s.clone()
	}
	return out
}

// ScenarioNames returns the names of the scenarios that can be selected,
// in report order: every entry but the child-only ones.
func ScenarioNames() []string {
	var out []string
	for _, s := range manifest {
		if !s.ChildOnly {
			out = append(out, s.Name)
		}
	}
	return out
}

// LookupScenario returns the manifest entry called name.
func LookupScenario(name string) (Scenario, bool) {
	for _, s := range manifest {
		if s.Name == name {
			return s.clone(), true
		}
	}
	return Scenario{}, false
}

// SyscallNumbers returns s.Syscalls as the plain numbers a Result
// reports: nil for none, as in a Result whose scenario sent none.
func (s Scenario) SyscallNumbers() []uint32 {
	var out []uint32
	for _, n := range s.Syscalls {
		out = append(out, uint32(n))
	}
	return out
}

func (s Scenario) clone() Scenario {
	s.Syscalls = slices.Clone(s.Syscalls)
	s.Messages = slices.Clone(s.Messages)
	s.Data = slices.Clone(s.Data)
	return s
}
