// Package kern is sprig's simulated NetBSD kernel: the sp.Kernel a sprig
// server runs its clients' syscalls against. It keeps processes (pids,
// parents, credentials, descriptor tables, cwd and umask), pipes, and an
// in-memory file system of directories, regular files and symbolic links,
// and it answers a fixed set of syscalls with NetBSD's numbers, argument
// structs, return values and errno values, so a real C client linked with
// librumpclient sees NetBSD behaviour.
//
// Every argument is decoded with the slot rule in the ABI the server
// assumes for the client (sp.SyscallRequest.Args), every pointer goes
// through the client's memory (sp.ClientMemory), and every struct (stat,
// dirent, sysctl values, size_t lengths) is laid out for that ABI by
// package abi/netbsd. When the assumed ABI is wrong, the kernel does with
// the misread bytes what a C kernel would, and never crashes: every size
// a client supplies is bounded, and a syscall waits only for its client's
// replies or a pipe, both of which end when the client goes away.
//
// # What it is not
//
// kern is not a rump kernel and runs no NetBSD code. It has no devices,
// sockets, signal handlers, scheduling or virtual memory of its own: a
// signal is forwarded to the target's client (RAISE), and anonymous memory
// is the client's (ANONMMAP). Its file system lives in memory and
// disappears with the Kernel. Syscalls outside its list answer ENOSYS,
// as the real server does for calls its kernel lacks.
//
// # Choices where NetBSD leaves room or sprig must differ
//
//   - Credentials are fixed per kernel: every client process runs as
//     Config.UID and Config.GID (1000/1000 by default, an ordinary user, so
//     permission checks matter); pid 1, the server's own process, is root.
//     UID 0 makes clients root, which bypasses permission checks.
//   - The tree starts with "/" (root:wheel 0755) and "/tmp" (root:wheel
//     1777, sticky); clients start in "/". New files take the group of
//     their directory, as on BSD.
//   - Space is counted like tmpfs: a regular file costs the pages it has
//     written (holes are free), a symbolic link its target's length.
//     st_blksize is the page size; st_blocks is the size in 512-byte units,
//     rounded up; st_gen is 0; st_rdev is NODEV; st_dev is one fixed number.
//   - Directory offsets are cookies: 0 is ".", 1 is "..", then each entry
//     gets the next number when it is added, so repeated getdents calls
//     continue where they stopped even while entries come and go.
//   - read, write, pread and pwrite move at most Config.MaxIO bytes per
//     call (a short count, which callers must handle anyway); getdents
//     returns at most MAXBSIZE bytes, as NetBSD's does.
//   - __getcwd returns the length of the path with its NUL, as NetBSD's
//     does.
//   - mmap serves only MAP_ANON, by asking the client (ANONMMAP); a file
//     mapping answers ENODEV, since the server cannot place a file in the
//     client's address space, and MAP_FIXED answers EINVAL, since the
//     client chooses the address. munmap checks that the range does not
//     wrap and succeeds without doing anything: the memory is the
//     client's, and the protocol has no way to unmap it.
//   - A copy-out to a bad client address cannot fail the syscall: the
//     protocol's COPYOUT has no reply, so the kernel never learns of it.
//   - kill reaches processes whose clients are connected and sends them a
//     RAISE; a process forked but not yet claimed exists (signal 0
//     succeeds) but drops signals. Each guest is its own process group
//     leader, and forked children join their parent's group.
//   - Writing to a pipe without readers answers EPIPE and also raises
//     SIGPIPE in the writer's client, as NetBSD signals the writer, unless
//     the descriptor has O_NOSIGPIPE. A pipe's st_dev is 0, as NetBSD
//     leaves it, and its st_ino is unique.
//   - A syscall blocked in a pipe ends when its context does (the client
//     disconnected or the server is shutting down), with EINTR or the
//     count moved so far.
//   - __sysctl serves kern.ostype, kern.osrelease, kern.hostname (written
//     only by root, as NetBSD's default policy says), hw.machine,
//     hw.machine_arch and hw.pagesize; the CTL_QUERY family of
//     meta-operations is not served (EOPNOTSUPP).
package kern
