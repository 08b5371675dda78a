// Package kern is sprig's simulated NetBSD kernel: the sp.Kernel a sprig
// server runs its clients' syscalls against. With DefaultConfig it is
// NetBSD 7.99.34's rump_server as a client finds it (measured facts:
// shared/spec/real-rump.md), so a C program linked with librumpclient,
// or a sprig client in faithful C mode, sees what it would see there. It
// keeps processes (pids, credentials, descriptor tables, cwd, umask,
// resource limits), pipes, the rump console, and in-memory file systems,
// and answers NetBSD's syscalls with NetBSD's numbers, argument structs,
// return values, errno values and order of checks.
//
// Every argument is decoded with the slot rule in the ABI the server
// assumes for the client (sp.SyscallRequest.Args), every pointer goes
// through the client's memory (sp.Memory), and every struct (stat,
// dirent, timeval, rlimit, tmpfs_args, termios, sysctl values, size_t
// lengths) is laid out for that ABI by package abi/netbsd. When the
// assumed ABI is wrong, the kernel does with the misread bytes what a C
// kernel would, and never crashes: every size a client supplies is
// bounded, and a syscall waits only for its client's replies or a pipe,
// both of which end when the client goes away.
//
// # What a client finds
//
//   - Credentials: root (real, effective and saved uid and gid 0, no
//     supplementary groups; Config.UID and GID choose others). getuid
//     and getgid return the real id in retval[0] and the effective one
//     in retval[1]. setuid, seteuid, setgid and setegid follow NetBSD's
//     rules (a user may only take ids it holds: setuid(0) is EPERM).
//   - The first GUEST client is pid 2, ppid 1; umask 022; RLIMIT_NOFILE
//     128 (soft, the descriptor limit: dup2 onto 127 works, onto 128 is
//     EBADF) and 1772 (hard, maxfiles).
//   - Descriptors 0, 1 and 2 are the rump console, a write-only
//     character device (fstat: mode 020600, everything else 0 but the
//     boot time): writes go to Config.Console (sprig serve: its standard
//     output), a page per COPYIN as rumpcons does; reads are EBADF, lseek
//     ESPIPE; TIOCGETA succeeds with a zeroed struct termios, every other
//     ioctl (FIONBIO included, after it set O_NONBLOCK) is ENOTTY. So a
//     client's first open is 3.
//   - "/" is a rumpfs holding /dev (the character devices null and
//     zero) and /tmp (mode 01777). __mount50 mounts a tmpfs on any
//     directory; unmount takes it away again.
//   - sysctl: kern.ostype, osrelease, osrevision (799003400), version
//     ("NetBSD 7.99.34 (RUMP-ROAST)\n"), hostname (root may set it),
//     hw.machine, machine_arch, ncpu, byteorder and pagesize. Other names
//     (kern.maxfiles, maxproc and argmax among them) are ENOENT;
//     CTL_QUERY and the other meta-operations are EOPNOTSUPP.
//   - Syscalls outside kern's table answer ENOSYS, as the real kernel
//     does for exit, fork, execve, syscall 0, sockets (a rump_server
//     without networking), and, unless extensions are on, kill, mmap and
//     munmap. RAISE still happens: a write to a pipe without readers
//     raises SIGPIPE in the writer's client, as NetBSD signals the
//     writer, unless the descriptor has O_NOSIGPIPE.
//
// # One file-system mechanism, two personalities
//
// rumpfs and tmpfs share every line of kern's file-system code (inodes,
// pages, directories, namei, mounts); what NetBSD's two file systems do
// differently is a table of data, fsType, with one value for each:
//
//	                              rumpfs             tmpfs
//	rename, link                  EOPNOTSUPP         work (NetBSD rename(2))
//	fcntl(F_SETFL)                EINVAL (remote)    works
//	other ioctls on files         EOPNOTSUPP         ENOTTY
//	sticky bit limits removal     no                 yes
//	owner of new nodes            root:wheel         creator, directory's group
//	removed directory (a cwd)     still takes files  ENOENT
//	read starting past the end    count zero bytes   0
//	getdents                      newest first,      ".", "..", oldest first,
//	                              no dots, index     sequence-number offsets
//	                              offsets
//	listing stamps atime          no                 yes
//	st_blksize                    512                page size
//	st_blocks                     1                  8 per page of st_size
//	directory st_size             512                48 per entry
//	directory st_nlink            2                  2 + subdirectories
//	unlinked open file st_nlink   1                  0
//	st_dev                        = st_ino           the mount's
//
// A mounted file system's root stands in for the directory it covers in
// every lookup; ".." from that root is looked up in the covered
// directory; mounting on a mount point stacks on its root. unmount is
// EBUSY while the file system is in use: a file open on it, a process's
// working directory in it, or another file system mounted inside it (as
// NetBSD's vflush refuses referenced vnodes).
//
// # Kernel-wide rules, on every file system
//
// Components longer than 255 bytes (KERNEL_NAME_MAX) and paths of 1024
// bytes or more are ENAMETOOLONG; a missing name with a trailing slash is
// ENOENT unless a directory is being made; open with O_NOFOLLOW of a
// symbolic link is EFTYPE; unlink and rename of "/" are EBUSY. Arguments
// are checked where NetBSD checks them, before the path is copied in or
// the descriptor looked up (truncate and ftruncate of a negative length
// are EINVAL with no COPYINSTR); link copies in its second path only once
// the first resolved; a pipe write copies its data in only as room
// appears, so a write to a full non-blocking pipe or one without readers
// fails without a COPYIN; a write of more than 16 KiB into an empty pipe
// grows it to 64 KiB. A failed dup2 carries its target in retval[0], and
// pipe2 leaves the write end in retval[1], as NetBSD's syscalls leave
// them. NULL with a length is EFAULT without asking the client, as the
// rump kernel's copyin and copyout answer; a COPYINSTR reply without a
// NUL (an empty one, a client's answer for a bad address, included) is
// ENAMETOOLONG, as its copyinstr decides.
//
// # Extensions
//
// Config.Extensions turns on calls the real kernel answers with ENOSYS,
// which sprig serves for testing (sprig serve --ext; the rig turns both
// on):
//
//   - ExtKill: kill(2) forwards a signal to the target's client as a
//     RAISE request. A caller reaches only processes of its own
//     connection tree (its GUEST and the forks attached to it; every
//     other process, pid 1 included, is EPERM and kill(-1) skips them)
//     unless Config.KillAnyClient is set. Each guest leads its own
//     process group; forks join their parent's.
//   - ExtMmap: mmap(2) of anonymous memory asks the client to map it
//     (ANONMMAP) and returns the client's address; a file mapping is
//     ENODEV (the server cannot place a file in the client's memory) and
//     MAP_FIXED EINVAL (the client picks the address). munmap(2) checks
//     that its range does not wrap and leaves the client's memory alone:
//     the protocol has no way to unmap it.
//
// # What it is not
//
// kern is not a rump kernel and runs no NetBSD code. It has no sockets,
// no devices but the console, null and zero, no signal handlers,
// scheduling or virtual memory of its own. Its file systems live in
// memory and disappear with the Kernel.
//
// # Where sprig knowingly differs from the real kernel
//
//   - kern.hostname is librumpuser's "rump-%05d.<host name>" with the pid
//     of the sprig process, which cannot be a C rump_server's.
//   - hw.ncpu is librumpuser's default, 2, unless Config.NCPU (sprig
//     serve: RUMP_NCPU, a number or "host") says otherwise. (The
//     measured server's host had 2 CPUs, so the facts could not tell.)
//   - Inode numbers: rumpfs's are small integers from 3 in the order
//     sprig boots (root, dev, tmp, null, zero) and creates; the real
//     counter runs in the real kernel's creation order. tmpfs numbers
//     each mount from 2, where NetBSD derives them from kernel addresses;
//     a tmpfs's st_dev is 0xa900 plus a mount count.
//   - tmpfs directories grow 48 bytes per entry on every server ABI,
//     sizeof(struct tmpfs_dirent) as measured on amd64; a 32-bit NetBSD's
//     is smaller.
//   - /dev/null and /dev/zero are made as rump's devnodes does, mknod
//     0666 under the kernel's umask 022 (so mode 0644) with the mem
//     driver's numbers 2,2 and 2,12, and answer ioctls as that driver;
//     this comes from NetBSD's source, not from a measurement.
//   - An empty COPYIN reply is EFAULT and the server goes on; the C
//     server reads memory it never received and dies.
//   - __getcwd keeps NetBSD's short-buffer bug rather than fixing it: it
//     walks at most length/2 directories, so a buffer too short for a
//     deep path of short names returns the path cut at the top as a
//     success. rumpfs's getdents likewise keeps its arithmetic: a buffer
//     too small for one record leaves the offset at 4294967295, and a
//     listing cut short repeats its last record in the next call.
//   - rumpfs file data is stored in pages, holes free, like tmpfs's; the
//     real rumpfs allocates a file's whole length on a write past its
//     end. File times follow tmpfs's rules on both (rumpfs's writes move
//     only st_mtim and its directories' times stay when entries change;
//     not measured).
//   - Pipes copy each stretch of room in with one COPYIN; NetBSD's ring
//     buffer takes two when a write wraps around its end. NetBSD's cap on
//     grown pipes (maxbigpipes) is not kept.
//   - __mount50 knows only tmpfs: "rumpfs", which a rump kernel would
//     mount again, and every other type are ENODEV. MNT_UPDATE,
//     MNT_GETARGS, MNT_RELOAD and MNT_RDONLY are EOPNOTSUPP; other flags
//     are accepted and ignored. unmount's MNT_FORCE is not modelled.
//   - Resource limits other than RLIMIT_NOFILE start at RLIM_INFINITY and
//     limit nothing (not measured).
//   - The login name is one per kernel, as every rump process shares
//     proc0's session; process groups are sprig's (every guest leads
//     one), which only the kill extension uses.
//   - read, write, pread and pwrite move at most Config.MaxIO bytes per
//     call (a short count, which callers must handle anyway); getdents
//     returns at most MAXBSIZE bytes; all file systems together hold at
//     most Config.MaxFSBytes.
//   - Config.SeedDir and SeedTar fill "/" at boot with files owned by
//     Config.UID and GID: that tree is sprig's, not a client's.
package kern
