// Package netbsd describes, once and for every ABI, the NetBSD data that
// crosses a sysproxy connection: syscall numbers and argument structs,
// errno values, open/fcntl/seek/mmap/file-type/mount/rlimit constants,
// ioctl command encodings, struct stat (__stat50), struct timespec,
// struct timeval, struct dirent, struct rlimit, struct tmpfs_args, struct
// termios, the sysproxy protocol bodies (rsp_sysresp, rsp_copydata,
// handshake_fork), and what each syscall's pointer arguments point at
// (Syscall.Pointees), which is how a translator knows the type of the
// bytes a copy request moves.
//
// Every struct is an abi.Type; its bytes for a given machine come from
// LayoutsFor(descriptor), never from Go's own struct layout. The Go structs
// here (Stat, Timespec, Dirent, ...) are value carriers for abi's Encode and
// Decode. Constants keep their C names so they can be searched for.
//
// The numbers are NetBSD's, which never renumbers a syscall; the spelling
// and arrangement are sprig's.
package netbsd
