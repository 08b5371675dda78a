/*
 * netbsd.h: what a NetBSD C program and a rump sysproxy peer agree on,
 * declared as native C so that this machine's compiler lays it out.
 *
 * Written from sprig's protocol facts (shared/spec/sysproxy.md, abi.md),
 * not from NetBSD's sources. Every NetBSD type lives under an nb_ name:
 * the host libc's own struct stat, struct dirent and register_t describe
 * Linux, not NetBSD, and must never be used for anything on the wire.
 * No offset in this file is computed by hand.
 */
#ifndef SPRIG_NETBSD_H
#define SPRIG_NETBSD_H

#include <stddef.h>
#include <stdint.h>

/*
 * register_t is NetBSD's per-machine typedef: one syscall argument slot
 * and one return word. Chosen on the compiler's own predefined macros, so
 * a cross compiler picks its machine's.
 */
#if defined(SPRIG_PERTURB_REGISTER_T)
/* A deliberately wrong width, for the tests that prove the checks fail. */
typedef SPRIG_PERTURB_REGISTER_T nb_register_t;
#elif defined(__x86_64__)
typedef long nb_register_t;
#elif defined(__i386__)
typedef int nb_register_t;
#elif defined(__aarch64__)
typedef unsigned long long nb_register_t;
#elif defined(__arm__)
typedef int nb_register_t;
#elif defined(__mips__) && defined(_ABIO32) && _MIPS_SIM == _ABIO32
typedef int32_t nb_register_t;
#elif defined(__powerpc__) && !defined(__powerpc64__)
typedef unsigned long nb_register_t;
#elif defined(__sparc__) && defined(__arch64__)
typedef unsigned long nb_register_t;
#elif defined(__riscv) && __riscv_xlen == 64
typedef int64_t nb_register_t;
#else
#error "sprig cclient: no NetBSD register_t known for this machine"
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define NB_BIG_ENDIAN 1
#else
#define NB_BIG_ENDIAN 0
#endif

/*
 * syscallarg(T): one argument slot, as NetBSD's syscallargs.h packs it.
 * The slot is a union with a register_t, so it is at least register_t
 * wide and aligned; a narrower datum sits at the slot's start on
 * little-endian and at its end on big-endian (the zero-length pad array,
 * a GNU C extension NetBSD's header relies on too, is empty when the
 * datum fills the slot). NB_SCARG names the datum either way.
 */
#if NB_BIG_ENDIAN
#define NB_SYSCALLARG(T)                                                   \
	union {                                                            \
		nb_register_t pad;                                         \
		struct {                                                   \
			char pad[sizeof(nb_register_t) > sizeof(T)         \
			    ? sizeof(nb_register_t) - sizeof(T) : 0];      \
			T datum;                                           \
		} s;                                                       \
	}
#else
#define NB_SYSCALLARG(T)                                                   \
	union {                                                            \
		nb_register_t pad;                                         \
		struct {                                                   \
			T datum;                                           \
		} s;                                                       \
	}
#endif
#define NB_SCARG(p, k) ((p)->k.s.datum)

/*
 * PAD slots: NetBSD's syscall table puts an int before a 64-bit off_t
 * argument where that keeps it 8-aligned on 32-bit machines. The
 * SPRIG_PERTURB_NO_PAD build leaves them out, for the tests that prove a
 * wrong argument layout is caught.
 */
#ifdef SPRIG_PERTURB_NO_PAD
#define NB_PAD(name)
#else
#define NB_PAD(name) NB_SYSCALLARG(int) name;
#endif

/* NetBSD's scalar typedefs (sys/types.h), the same on every machine. */
typedef uint64_t nb_dev_t;
typedef uint32_t nb_mode_t;
typedef uint64_t nb_ino_t;
typedef uint32_t nb_nlink_t;
typedef uint32_t nb_uid_t;
typedef uint32_t nb_gid_t;
typedef int64_t nb_off_t;
typedef int64_t nb_time_t;
typedef int64_t nb_blkcnt_t;
typedef int32_t nb_blksize_t;
typedef int32_t nb_pid_t;

/* struct timespec: time_t is 64 bits on every NetBSD machine, tv_nsec a long. */
struct nb_timespec {
	nb_time_t tv_sec;
	long tv_nsec;
};

/* struct stat as __stat50, __fstat50 and __lstat50 fill it. */
struct nb_stat {
	nb_dev_t st_dev;
	nb_mode_t st_mode;
	nb_ino_t st_ino;
	nb_nlink_t st_nlink;
	nb_uid_t st_uid;
	nb_gid_t st_gid;
	nb_dev_t st_rdev;
	struct nb_timespec st_atim;
	struct nb_timespec st_mtim;
	struct nb_timespec st_ctim;
	struct nb_timespec st_birthtim;
	nb_off_t st_size;
	nb_blkcnt_t st_blocks;
	nb_blksize_t st_blksize;
	uint32_t st_flags;
	uint32_t st_gen;
	uint32_t st_spare[2];
};

/* NB_MAXNAMLEN is the longest name a dirent holds (NetBSD's MAXNAMLEN). */
#define NB_MAXNAMLEN 511

/* struct dirent as __getdents30 writes its records. */
struct nb_dirent {
	nb_ino_t d_fileno;
	uint16_t d_reclen;
	uint16_t d_namlen;
	uint8_t d_type;
	char d_name[NB_MAXNAMLEN + 1];
};

/* Every getdents record's length is a multiple of this. */
#define NB_DIRENT_ALIGN 8

/* struct tmpfs_args, __mount50's data for "tmpfs". */
struct nb_tmpfs_args {
	int ta_version;
	nb_ino_t ta_nodes_max;
	nb_off_t ta_size_max;
	nb_uid_t ta_root_uid;
	nb_gid_t ta_root_gid;
	nb_mode_t ta_root_mode;
};
#define NB_TMPFS_ARGS_VERSION 1

/* ---- the sysproxy wire (sp_common.c's structs, as facts give them) ---- */

/* Every frame starts with this header, 24 bytes on every machine. */
struct rsp_hdr {
	uint64_t rsp_len;   /* the whole frame, header included */
	uint64_t rsp_reqno;
	uint16_t rsp_class;
	uint16_t rsp_type;
	/* sysnum (SYSCALL), error (ERROR), handshake kind, signo (RAISE) */
	uint32_t rsp_u;
};

/* A SYSCALL response's body. */
struct rsp_sysresp {
	int rsys_error;
	nb_register_t rsys_retval[2];
};

/* COPYIN/COPYINSTR/COPYOUT request bodies; COPYOUT's bytes follow. */
struct rsp_copydata {
	size_t rcp_len;
	void *rcp_addr;
	uint8_t rcp_data[];
};

/* The FORK handshake body: the PREFORK cookie and a cancel flag. */
struct handshake_fork {
	uint32_t rf_auth[4];
	int rf_cancel;
};

enum { RUMPSP_REQ = 0, RUMPSP_RESP = 1, RUMPSP_ERROR = 2 };
enum {
	RUMPSP_HANDSHAKE = 0, RUMPSP_SYSCALL = 1, RUMPSP_COPYIN = 2,
	RUMPSP_COPYINSTR = 3, RUMPSP_COPYOUT = 4, RUMPSP_COPYOUTSTR = 5,
	RUMPSP_ANONMMAP = 6, RUMPSP_PREFORK = 7, RUMPSP_RAISE = 8,
	RUMPSP_NTYPES = 9
};
enum { HANDSHAKE_GUEST = 0, HANDSHAKE_AUTH = 1, HANDSHAKE_FORK = 2, HANDSHAKE_EXEC = 3 };
/* ERROR codes of protocol 0.4 (0.1 sends raw errno values instead). */
enum {
	RUMPSP_ERR_NONE = 0, RUMPSP_ERR_TRYAGAIN = 1, RUMPSP_ERR_AUTH = 2,
	RUMPSP_ERR_INVALID_PREFORK = 3, RUMPSP_ERR_RFORK_FAILED = 4,
	RUMPSP_ERR_INEXEC = 5, RUMPSP_ERR_NOMEM = 6, RUMPSP_ERR_MALFORMED_REQUEST = 7
};
#define RUMPSP_COOKIE_SIZE 16

/* ---- syscall numbers (sys/syscall.h; never renumbered) ---- */
enum {
	NB_SYS_read = 3, NB_SYS_write = 4, NB_SYS_open = 5, NB_SYS_close = 6,
	NB_SYS_link = 9, NB_SYS_unlink = 10, NB_SYS_chdir = 12, NB_SYS_getpid = 20,
	NB_SYS_unmount = 22, NB_SYS_getuid = 24, NB_SYS_kill = 37, NB_SYS_getppid = 39,
	NB_SYS_dup = 41, NB_SYS_pipe = 42, NB_SYS_getgid = 47, NB_SYS_umask = 60,
	NB_SYS_dup2 = 90, NB_SYS_fcntl = 92, NB_SYS_rename = 128, NB_SYS_mkdir = 136,
	NB_SYS_rmdir = 137, NB_SYS_pread = 173, NB_SYS_pwrite = 174, NB_SYS_mmap = 197,
	NB_SYS_lseek = 199, NB_SYS_truncate = 200, NB_SYS_ftruncate = 201,
	NB_SYS___sysctl = 202, NB_SYS___getcwd = 296, NB_SYS___getdents30 = 390,
	NB_SYS___mount50 = 410, NB_SYS___stat50 = 439, NB_SYS___fstat50 = 440,
	NB_SYS___lstat50 = 441, NB_SYS_pipe2 = 453
};
/* Not a syscall: the errors scenario expects ENOSYS for it. */
#define NB_SYS_UNKNOWN 9999

/* ---- argument structs (sys/syscallargs.h's shape) ---- */
struct nb_sys_read_args {
	NB_SYSCALLARG(int) fd;
	NB_SYSCALLARG(void *) buf;
	NB_SYSCALLARG(size_t) nbyte;
};
struct nb_sys_write_args {
	NB_SYSCALLARG(int) fd;
	NB_SYSCALLARG(const void *) buf;
	NB_SYSCALLARG(size_t) nbyte;
};
struct nb_sys_open_args {
	NB_SYSCALLARG(const char *) path;
	NB_SYSCALLARG(int) flags;
	NB_SYSCALLARG(nb_mode_t) mode;
};
struct nb_sys_close_args { NB_SYSCALLARG(int) fd; };
struct nb_sys_link_args {
	NB_SYSCALLARG(const char *) path;
	NB_SYSCALLARG(const char *) link;
};
struct nb_sys_path_args { NB_SYSCALLARG(const char *) path; }; /* unlink, chdir, rmdir */
struct nb_sys_unmount_args {
	NB_SYSCALLARG(const char *) path;
	NB_SYSCALLARG(int) flags;
};
struct nb_sys_kill_args {
	NB_SYSCALLARG(nb_pid_t) pid;
	NB_SYSCALLARG(int) signum;
};
struct nb_sys_dup_args { NB_SYSCALLARG(int) fd; };
struct nb_sys_umask_args { NB_SYSCALLARG(nb_mode_t) newmask; };
struct nb_sys_dup2_args {
	NB_SYSCALLARG(int) from;
	NB_SYSCALLARG(int) to;
};
struct nb_sys_fcntl_args {
	NB_SYSCALLARG(int) fd;
	NB_SYSCALLARG(int) cmd;
	NB_SYSCALLARG(void *) arg;
};
struct nb_sys_rename_args {
	NB_SYSCALLARG(const char *) from;
	NB_SYSCALLARG(const char *) to;
};
struct nb_sys_mkdir_args {
	NB_SYSCALLARG(const char *) path;
	NB_SYSCALLARG(nb_mode_t) mode;
};
struct nb_sys_pread_args {
	NB_SYSCALLARG(int) fd;
	NB_SYSCALLARG(void *) buf;
	NB_SYSCALLARG(size_t) nbyte;
	NB_PAD(PAD)
	NB_SYSCALLARG(nb_off_t) offset;
};
struct nb_sys_pwrite_args {
	NB_SYSCALLARG(int) fd;
	NB_SYSCALLARG(const void *) buf;
	NB_SYSCALLARG(size_t) nbyte;
	NB_PAD(PAD)
	NB_SYSCALLARG(nb_off_t) offset;
};
struct nb_sys_mmap_args {
	NB_SYSCALLARG(void *) addr;
	NB_SYSCALLARG(size_t) len;
	NB_SYSCALLARG(int) prot;
	NB_SYSCALLARG(int) flags;
	NB_SYSCALLARG(int) fd;
	NB_SYSCALLARG(long) PAD; /* mmap's PAD is a long in NetBSD's table */
	NB_SYSCALLARG(nb_off_t) pos;
};
struct nb_sys_lseek_args {
	NB_SYSCALLARG(int) fd;
	NB_PAD(PAD)
	NB_SYSCALLARG(nb_off_t) offset;
	NB_SYSCALLARG(int) whence;
};
struct nb_sys_truncate_args {
	NB_SYSCALLARG(const char *) path;
	NB_PAD(PAD)
	NB_SYSCALLARG(nb_off_t) length;
};
struct nb_sys_ftruncate_args {
	NB_SYSCALLARG(int) fd;
	NB_PAD(PAD)
	NB_SYSCALLARG(nb_off_t) length;
};
struct nb_sys___sysctl_args {
	NB_SYSCALLARG(const int *) name;
	NB_SYSCALLARG(unsigned int) namelen;
	NB_SYSCALLARG(void *) oldv;
	NB_SYSCALLARG(size_t *) oldlenp;
	NB_SYSCALLARG(const void *) newv;
	NB_SYSCALLARG(size_t) newlen;
};
struct nb_sys___getcwd_args {
	NB_SYSCALLARG(char *) bufp;
	NB_SYSCALLARG(size_t) length;
};
struct nb_sys___getdents30_args {
	NB_SYSCALLARG(int) fd;
	NB_SYSCALLARG(char *) buf;
	NB_SYSCALLARG(size_t) count;
};
struct nb_sys___mount50_args {
	NB_SYSCALLARG(const char *) type;
	NB_SYSCALLARG(const char *) path;
	NB_SYSCALLARG(int) flags;
	NB_SYSCALLARG(void *) data;
	NB_SYSCALLARG(size_t) data_len;
};
struct nb_sys___stat50_args { /* also __lstat50 */
	NB_SYSCALLARG(const char *) path;
	NB_SYSCALLARG(struct nb_stat *) ub;
};
struct nb_sys___fstat50_args {
	NB_SYSCALLARG(int) fd;
	NB_SYSCALLARG(struct nb_stat *) sb;
};
struct nb_sys_pipe2_args {
	NB_SYSCALLARG(int *) fildes;
	NB_SYSCALLARG(int) flags;
};

/* ---- constants (sys/fcntl.h, sys/stat.h, sys/mman.h, sys/sysctl.h) ---- */
#define NB_O_RDONLY 0x00000000
#define NB_O_WRONLY 0x00000001
#define NB_O_RDWR 0x00000002
#define NB_O_NONBLOCK 0x00000004
#define NB_O_APPEND 0x00000008
#define NB_O_CREAT 0x00000200
#define NB_O_TRUNC 0x00000400
#define NB_O_EXCL 0x00000800
#define NB_O_DIRECTORY 0x00200000
#define NB_O_CLOEXEC 0x00400000

#define NB_F_DUPFD 0
#define NB_F_GETFD 1
#define NB_F_SETFD 2
#define NB_F_GETFL 3
#define NB_F_SETFL 4
#define NB_FD_CLOEXEC 1

#define NB_SEEK_SET 0
#define NB_SEEK_CUR 1
#define NB_SEEK_END 2

#define NB_S_IFMT 0170000u
#define NB_S_IFIFO 0010000u
#define NB_S_IFCHR 0020000u
#define NB_S_IFDIR 0040000u
#define NB_S_IFBLK 0060000u
#define NB_S_IFREG 0100000u
#define NB_S_IFLNK 0120000u
#define NB_S_IFSOCK 0140000u

#define NB_DT_DIR 4
#define NB_DT_REG 8

#define NB_PROT_READ 1
#define NB_PROT_WRITE 2
#define NB_MAP_PRIVATE 0x0002
#define NB_MAP_ANON 0x1000

#define NB_MNT_FORCE 0x00080000

#define NB_CTL_KERN 1
#define NB_CTL_HW 6
#define NB_KERN_OSTYPE 1
#define NB_KERN_OSRELEASE 2
#define NB_KERN_HOSTNAME 10
#define NB_HW_MACHINE 1
#define NB_HW_PAGESIZE 7

#define NB_PATH_MAX 1024
#define NB_LINK_MAX 32767
#define NB_PID_MAX 30000
#define NB_NODEV ((nb_dev_t)-1)

#define NB_SIGUSR1 30

/* errno values (sys/errno.h) the scenarios name. */
enum {
	NB_EPERM = 1, NB_ENOENT = 2, NB_ESRCH = 3, NB_EINTR = 4, NB_EIO = 5,
	NB_EBADF = 9, NB_ENOMEM = 12, NB_EACCES = 13, NB_EFAULT = 14, NB_EBUSY = 16,
	NB_EEXIST = 17, NB_ENODEV = 19, NB_ENOTDIR = 20, NB_EISDIR = 21,
	NB_EINVAL = 22, NB_EMFILE = 24, NB_ENOSPC = 28, NB_ESPIPE = 29,
	NB_EPIPE = 32, NB_ERANGE = 34, NB_EAGAIN = 35, NB_EOPNOTSUPP = 45,
	NB_ENOTCONN = 57, NB_ENAMETOOLONG = 63, NB_ENOTEMPTY = 66, NB_ENOSYS = 78,
	NB_EAUTH = 80
};

/* Names for reports: "ENOENT", "open". Unknown numbers get "errno 99". */
const char *nb_errno_name(int e);
const char *nb_sysname(uint32_t num);

#endif
