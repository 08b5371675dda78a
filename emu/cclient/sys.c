/*
 * sys.c: syscall wrappers and checks (see sys.h).
 */
#include "sys.h"

#include <stdio.h>
#include <string.h>

/* ARGS fills an argument struct's padding with the configured byte
 * before its data go in: zero as NetBSD 0.4 stubs send, or a poison
 * (--pad-fill) that shows a server reading whole slots. */
#define ARGS(t, a) memset(&(a), (t)->cfg->pad_fill, sizeof(a))

struct rsp_sysresp sc_call(struct T *t, uint32_t num, const void *args, size_t len)
{
	struct rsp_sysresp r;
	int st = sp_syscall(&t->c, num, args, len, &r);
	if (st)
		t_fail_sp(t, nb_sysname(num), st);
	return r;
}

struct rsp_sysresp sc_read(struct T *t, int fd, void *buf, size_t n)
{
	struct nb_sys_read_args a;
	ARGS(t, a);
	NB_SCARG(&a, fd) = fd;
	NB_SCARG(&a, buf) = buf;
	NB_SCARG(&a, nbyte) = n;
	return sc_call(t, NB_SYS_read, &a, sizeof a);
}

struct rsp_sysresp sc_write(struct T *t, int fd, const void *buf, size_t n)
{
	struct nb_sys_write_args a;
	ARGS(t, a);
	NB_SCARG(&a, fd) = fd;
	NB_SCARG(&a, buf) = buf;
	NB_SCARG(&a, nbyte) = n;
	return sc_call(t, NB_SYS_write, &a, sizeof a);
}

struct rsp_sysresp sc_open(struct T *t, const char *path, int flags, nb_mode_t mode)
{
	struct nb_sys_open_args a;
	ARGS(t, a);
	NB_SCARG(&a, path) = path;
	NB_SCARG(&a, flags) = flags;
	NB_SCARG(&a, mode) = mode;
	return sc_call(t, NB_SYS_open, &a, sizeof a);
}

struct rsp_sysresp sc_close(struct T *t, int fd)
{
	struct nb_sys_close_args a;
	ARGS(t, a);
	NB_SCARG(&a, fd) = fd;
	return sc_call(t, NB_SYS_close, &a, sizeof a);
}

struct rsp_sysresp sc_path(struct T *t, uint32_t num, const char *path)
{
	struct nb_sys_path_args a;
	ARGS(t, a);
	NB_SCARG(&a, path) = path;
	return sc_call(t, num, &a, sizeof a);
}

struct rsp_sysresp sc_mkdir(struct T *t, const char *path, nb_mode_t mode)
{
	struct nb_sys_mkdir_args a;
	ARGS(t, a);
	NB_SCARG(&a, path) = path;
	NB_SCARG(&a, mode) = mode;
	return sc_call(t, NB_SYS_mkdir, &a, sizeof a);
}

struct rsp_sysresp sc_rename(struct T *t, const char *from, const char *to)
{
	struct nb_sys_rename_args a;
	ARGS(t, a);
	NB_SCARG(&a, from) = from;
	NB_SCARG(&a, to) = to;
	return sc_call(t, NB_SYS_rename, &a, sizeof a);
}

struct rsp_sysresp sc_umask(struct T *t, nb_mode_t mask)
{
	struct nb_sys_umask_args a;
	ARGS(t, a);
	NB_SCARG(&a, newmask) = mask;
	return sc_call(t, NB_SYS_umask, &a, sizeof a);
}

struct rsp_sysresp sc_kill(struct T *t, nb_pid_t pid, int sig)
{
	struct nb_sys_kill_args a;
	ARGS(t, a);
	NB_SCARG(&a, pid) = pid;
	NB_SCARG(&a, signum) = sig;
	return sc_call(t, NB_SYS_kill, &a, sizeof a);
}

struct rsp_sysresp sc_dup(struct T *t, int fd)
{
	struct nb_sys_dup_args a;
	ARGS(t, a);
	NB_SCARG(&a, fd) = fd;
	return sc_call(t, NB_SYS_dup, &a, sizeof a);
}

struct rsp_sysresp sc_dup2(struct T *t, int from, int to)
{
	struct nb_sys_dup2_args a;
	ARGS(t, a);
	NB_SCARG(&a, from) = from;
	NB_SCARG(&a, to) = to;
	return sc_call(t, NB_SYS_dup2, &a, sizeof a);
}

struct rsp_sysresp sc_fcntl(struct T *t, int fd, int cmd, long arg)
{
	struct nb_sys_fcntl_args a;
	ARGS(t, a);
	NB_SCARG(&a, fd) = fd;
	NB_SCARG(&a, cmd) = cmd;
	/* An integer argument travels in the void * slot, as libc's
	 * variadic fcntl passes it. */
	NB_SCARG(&a, arg) = (void *)arg;
	return sc_call(t, NB_SYS_fcntl, &a, sizeof a);
}

struct rsp_sysresp sc_pipe2(struct T *t, int *fildes, int flags)
{
	struct nb_sys_pipe2_args a;
	ARGS(t, a);
	NB_SCARG(&a, fildes) = fildes;
	NB_SCARG(&a, flags) = flags;
	return sc_call(t, NB_SYS_pipe2, &a, sizeof a);
}

struct rsp_sysresp sc_pread(struct T *t, int fd, void *buf, size_t n, nb_off_t off)
{
	struct nb_sys_pread_args a;
	ARGS(t, a);
	NB_SCARG(&a, fd) = fd;
	NB_SCARG(&a, buf) = buf;
	NB_SCARG(&a, nbyte) = n;
	NB_SCARG(&a, offset) = off;
	return sc_call(t, NB_SYS_pread, &a, sizeof a);
}

struct rsp_sysresp sc_pwrite(struct T *t, int fd, const void *buf, size_t n, nb_off_t off)
{
	struct nb_sys_pwrite_args a;
	ARGS(t, a);
	NB_SCARG(&a, fd) = fd;
	NB_SCARG(&a, buf) = buf;
	NB_SCARG(&a, nbyte) = n;
	NB_SCARG(&a, offset) = off;
	return sc_call(t, NB_SYS_pwrite, &a, sizeof a);
}

struct rsp_sysresp sc_lseek(struct T *t, int fd, nb_off_t off, int whence)
{
	struct nb_sys_lseek_args a;
	ARGS(t, a);
	NB_SCARG(&a, fd) = fd;
	NB_SCARG(&a, offset) = off;
	NB_SCARG(&a, whence) = whence;
	return sc_call(t, NB_SYS_lseek, &a, sizeof a);
}

struct rsp_sysresp sc_mmap(struct T *t, void *addr, size_t len, int prot, int flags, int fd, nb_off_t pos)
{
	struct nb_sys_mmap_args a;
	ARGS(t, a);
	NB_SCARG(&a, addr) = addr;
	NB_SCARG(&a, len) = len;
	NB_SCARG(&a, prot) = prot;
	NB_SCARG(&a, flags) = flags;
	NB_SCARG(&a, fd) = fd;
	NB_SCARG(&a, PAD) = 0;
	NB_SCARG(&a, pos) = pos;
	return sc_call(t, NB_SYS_mmap, &a, sizeof a);
}

struct rsp_sysresp sc_sysctl(struct T *t, const int *name, unsigned namelen, void *oldv, size_t *oldlenp,
    const void *newv, size_t newlen)
{
	struct nb_sys___sysctl_args a;
	ARGS(t, a);
	NB_SCARG(&a, name) = name;
	NB_SCARG(&a, namelen) = namelen;
	NB_SCARG(&a, oldv) = oldv;
	NB_SCARG(&a, oldlenp) = oldlenp;
	NB_SCARG(&a, newv) = newv;
	NB_SCARG(&a, newlen) = newlen;
	return sc_call(t, NB_SYS___sysctl, &a, sizeof a);
}

struct rsp_sysresp sc_getcwd(struct T *t, char *buf, size_t len)
{
	struct nb_sys___getcwd_args a;
	ARGS(t, a);
	NB_SCARG(&a, bufp) = buf;
	NB_SCARG(&a, length) = len;
	return sc_call(t, NB_SYS___getcwd, &a, sizeof a);
}

struct rsp_sysresp sc_getdents(struct T *t, int fd, char *buf, size_t n)
{
	struct nb_sys___getdents30_args a;
	ARGS(t, a);
	NB_SCARG(&a, fd) = fd;
	NB_SCARG(&a, buf) = buf;
	NB_SCARG(&a, count) = n;
	return sc_call(t, NB_SYS___getdents30, &a, sizeof a);
}

struct rsp_sysresp sc_mount(struct T *t, const char *type, const char *path, int flags, void *data, size_t len)
{
	struct nb_sys___mount50_args a;
	ARGS(t, a);
	NB_SCARG(&a, type) = type;
	NB_SCARG(&a, path) = path;
	NB_SCARG(&a, flags) = flags;
	NB_SCARG(&a, data) = data;
	NB_SCARG(&a, data_len) = len;
	return sc_call(t, NB_SYS___mount50, &a, sizeof a);
}

struct rsp_sysresp sc_unmount(struct T *t, const char *path, int flags)
{
	struct nb_sys_unmount_args a;
	ARGS(t, a);
	NB_SCARG(&a, path) = path;
	NB_SCARG(&a, flags) = flags;
	return sc_call(t, NB_SYS_unmount, &a, sizeof a);
}

struct rsp_sysresp sc_stat(struct T *t, uint32_t num, const char *path, struct nb_stat *st)
{
	struct nb_sys___stat50_args a;
	ARGS(t, a);
	NB_SCARG(&a, path) = path;
	NB_SCARG(&a, ub) = st;
	return sc_call(t, num, &a, sizeof a);
}

struct rsp_sysresp sc_fstat(struct T *t, int fd, struct nb_stat *st)
{
	struct nb_sys___fstat50_args a;
	ARGS(t, a);
	NB_SCARG(&a, fd) = fd;
	NB_SCARG(&a, sb) = st;
	return sc_call(t, NB_SYS___fstat50, &a, sizeof a);
}

/* ---- checks ---- */

static uint32_t last_num(struct T *t)
{
	/* The last call sent is the one whose reply is being checked. */
	return t->c.last_answered;
}

struct rsp_sysresp t_ok_r(struct T *t, struct rsp_sysresp r)
{
	if (r.rsys_error != 0)
		t_fail_value(t, fmt("%s errno", nb_sysname(last_num(t))), "0", nb_errno_name(r.rsys_error));
	CHECK(t);
	return r;
}

void t_fails_r(struct T *t, const char *what, int want, struct rsp_sysresp r)
{
	if (r.rsys_error != want)
		t_fail_value(t, fmt("%s errno", what), nb_errno_name(want),
		    fmt("%s (retval %lld)", nb_errno_name(r.rsys_error), (long long)r.rsys_retval[0]));
	CHECK(t);
}

void t_fails_either(struct T *t, const char *what, int want1, int want2, struct rsp_sysresp r)
{
	if (r.rsys_error != want1 && r.rsys_error != want2)
		t_fail_value(t, fmt("%s errno", what), fmt("%s or %s", nb_errno_name(want1), nb_errno_name(want2)),
		    fmt("%s (retval %lld)", nb_errno_name(r.rsys_error), (long long)r.rsys_retval[0]));
	CHECK(t);
}

nb_off_t retval_off(const struct rsp_sysresp *r)
{
	/* One 64-bit value over retval[0..1] in this machine's memory order
	 * (on LP64 it is simply retval[0]). */
	nb_off_t off;
	memcpy(&off, r->rsys_retval, sizeof off);
	return off;
}

void expect_u64(struct T *t, const char *what, uint64_t want, uint64_t got)
{
	if (want != got)
		t_fail_value(t, what, fmt("%llu", (unsigned long long)want), fmt("%llu", (unsigned long long)got));
	CHECK(t);
}

void expect_i64(struct T *t, const char *what, int64_t want, int64_t got)
{
	if (want != got)
		t_fail_value(t, what, fmt("%lld", (long long)want), fmt("%lld", (long long)got));
	CHECK(t);
}

void expect_str(struct T *t, const char *what, const char *want, const char *got)
{
	if (strcmp(want, got) != 0)
		t_fail_value(t, what, want, got);
	CHECK(t);
}

void expect_bytes(struct T *t, const char *what, const void *want, size_t wn, const void *got, size_t gn)
{
	const unsigned char *w = want, *g = got;
	size_t i = 0;
	if (wn != gn || memcmp(w, g, wn) != 0) {
		while (i < wn && i < gn && w[i] == g[i])
			i++;
		if (i < wn && i < gn)
			t_fail_value(t, fmt("%s[%zu] (of %zu bytes)", what, i, wn), fmt("0x%02x", w[i]), fmt("0x%02x", g[i]));
		t_fail_value(t, fmt("%s length", what), fmt("%zu", wn), fmt("%zu", gn));
	}
	CHECK(t);
}

void expect_errno(struct T *t, const char *what, int want, int got)
{
	if (want != got)
		t_fail_value(t, fmt("%s errno", what), nb_errno_name(want), nb_errno_name(got));
	CHECK(t);
}

void untouched(struct T *t, const char *what, const unsigned char *b, size_t n, unsigned char fill)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (b[i] != fill)
			t_fail_value(t, fmt("%s: byte %zu of the %zu-byte guard", what, i, n),
			    fmt("0x%02x (unwritten)", fill), fmt("0x%02x", b[i]));
	CHECK(t);
}

void requested(struct T *t, int type, const char *why)
{
	static const char *names[RUMPSP_NTYPES] = {
		"HANDSHAKE", "SYSCALL", "COPYIN", "COPYINSTR", "COPYOUT",
		"COPYOUTSTR", "ANONMMAP", "PREFORK", "RAISE",
	};
	if (t->c.srvreqs[type] == 0)
		t_fail(t, "data", "%s: the server sent no %s request", why, names[type]);
	CHECK(t);
}

/* ---- building blocks ---- */

void pattern(unsigned char *p, size_t n, unsigned char seed)
{
	size_t i;
	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 7 + seed);
}

void t_guest(struct T *t)
{
	int st = sp_handshake_guest(&t->c, "sprig-cclient");
	if (st)
		t_fail_sp(t, "GUEST handshake", st);
	CHECK(t);
}

nb_pid_t t_getpid(struct T *t)
{
	return (nb_pid_t)OK(t, sc_call(t, NB_SYS_getpid, NULL, 0)).rsys_retval[0];
}

int t_open(struct T *t, const char *path, int flags, nb_mode_t mode)
{
	int fd = (int)OK(t, sc_open(t, path, flags, mode)).rsys_retval[0];
	if (flags & NB_O_CREAT)
		t_clean_push(t, CLEAN_UNLINK, path);
	return fd;
}

void t_write(struct T *t, int fd, const void *p, size_t n)
{
	struct rsp_sysresp r = OK(t, sc_write(t, fd, p, n));
	expect_u64(t, "write retval", n, (uint64_t)r.rsys_retval[0]);
}

nb_off_t t_seek(struct T *t, int fd, nb_off_t off, int whence)
{
	struct rsp_sysresp r = OK(t, sc_lseek(t, fd, off, whence));
	return retval_off(&r);
}

long t_fcntl(struct T *t, int fd, int cmd, long arg)
{
	return (long)OK(t, sc_fcntl(t, fd, cmd, arg)).rsys_retval[0];
}

const char *t_freshdir(struct T *t, nb_pid_t pid, char *out, size_t cap)
{
	snprintf(out, cap, "/tmp/sprig-%s-%d-%d", t->name, (int)pid, ++t->dirs);
	OK(t, sc_mkdir(t, out, 0755));
	t_clean_push(t, CLEAN_RMDIR, out);
	return out;
}

void t_unlink(struct T *t, const char *path)
{
	OK(t, sc_path(t, NB_SYS_unlink, path));
	t_clean_done(t, CLEAN_UNLINK, path);
}

void t_rmdir(struct T *t, const char *path)
{
	OK(t, sc_path(t, NB_SYS_rmdir, path));
	t_clean_done(t, CLEAN_RMDIR, path);
}

/* ---- struct stat ---- */

#define STAT_FAIL(t, call, member, want, got) FAIL_FIELD(t, call, "stat", struct nb_stat, member, want, got)

/* stat_sane checks, member by member in memory order, what any struct
 * stat from NetBSD satisfies whatever the file, so the first member a
 * mismatched layout garbles is the one reported. */
static void stat_sane(struct T *t, const char *call, const struct nb_stat *st)
{
	unsigned type = st->st_mode & NB_S_IFMT;
	int pipe = type == NB_S_IFIFO;
	switch (type) {
	case NB_S_IFREG: case NB_S_IFDIR: case NB_S_IFLNK: case NB_S_IFIFO:
	case NB_S_IFCHR: case NB_S_IFBLK: case NB_S_IFSOCK:
		break;
	default:
		STAT_FAIL(t, call, st_mode, "a file type in S_IFMT", fmt("%#o", (unsigned)st->st_mode));
	}
	if (st->st_mode & ~(NB_S_IFMT | 07777u))
		STAT_FAIL(t, call, st_mode, "no bits outside S_IFMT|07777", fmt("%#o", (unsigned)st->st_mode));
	CHECK(t);
	/* NetBSD leaves a pipe's st_ino and st_nlink 0. */
	if ((st->st_ino == 0 && !pipe) || st->st_ino >= (1ull << 32))
		STAT_FAIL(t, call, st_ino, "a small nonzero inode number", fmt("%llu", (unsigned long long)st->st_ino));
	if ((st->st_nlink == 0 && !pipe) || st->st_nlink > NB_LINK_MAX)
		STAT_FAIL(t, call, st_nlink, fmt("1..%d", NB_LINK_MAX), fmt("%u", (unsigned)st->st_nlink));
	if (st->st_uid >= (1u << 24))
		STAT_FAIL(t, call, st_uid, "a uid below 2^24", fmt("%u", (unsigned)st->st_uid));
	if (st->st_gid >= (1u << 24))
		STAT_FAIL(t, call, st_gid, "a gid below 2^24", fmt("%u", (unsigned)st->st_gid));
	CHECK(t);
#define TS_SANE(m)                                                                             \
	do {                                                                                   \
		if (st->m.tv_sec < 0 || st->m.tv_sec >= (1ll << 40))                           \
			STAT_FAIL(t, call, m.tv_sec, "a time since 1970", fmt("%lld", (long long)st->m.tv_sec)); \
		if (st->m.tv_nsec < 0 || st->m.tv_nsec >= 1000000000L)                         \
			STAT_FAIL(t, call, m.tv_nsec, "0..999999999", fmt("%ld", (long)st->m.tv_nsec)); \
		CHECK(t);                                                                      \
	} while (0)
	TS_SANE(st_atim);
	TS_SANE(st_mtim);
	TS_SANE(st_ctim);
	TS_SANE(st_birthtim);
#undef TS_SANE
	if (st->st_size < 0)
		STAT_FAIL(t, call, st_size, ">= 0", fmt("%lld", (long long)st->st_size));
	if (st->st_blocks < 0 || st->st_blocks > st->st_size / 512 + 64)
		STAT_FAIL(t, call, st_blocks, fmt("0..%lld for a %lld-byte file", (long long)(st->st_size / 512 + 64),
		    (long long)st->st_size), fmt("%lld", (long long)st->st_blocks));
	if (st->st_blksize <= 0 || (st->st_blksize & (st->st_blksize - 1)) != 0)
		STAT_FAIL(t, call, st_blksize, "a positive power of two", fmt("%d", (int)st->st_blksize));
	CHECK(t);
	if (st->st_spare[0] != 0)
		STAT_FAIL(t, call, st_spare[0], "0", fmt("%#x", (unsigned)st->st_spare[0]));
	CHECK(t);
	if (st->st_spare[1] != 0)
		STAT_FAIL(t, call, st_spare[1], "0", fmt("%#x", (unsigned)st->st_spare[1]));
	CHECK(t);
}

static struct nb_stat stat_into(struct T *t, const char *call, struct statbuf *b)
{
	size_t i;
	for (i = 0; i < STAT_GUARD; i++)
		if (b->guard[i] != GUARD_FILL) {
			struct result *r = t->r;
			r->has_field = 1;
			snprintf(r->f_struct, sizeof r->f_struct, "stat");
			snprintf(r->f_path, sizeof r->f_path, "(%zu bytes past the end)", i);
			snprintf(r->f_expected, sizeof r->f_expected, "0x%02x (unwritten)", GUARD_FILL);
			snprintf(r->f_got, sizeof r->f_got, "0x%02x", b->guard[i]);
			r->f_offset = (int)(sizeof b->st + i);
			r->f_size = 1;
			r->f_struct_size = (int)sizeof b->st;
			t_fail(t, "data", "%s wrote past the client's %zu-byte struct stat: byte %zu is 0x%02x, not the guard 0x%02x",
			    call, sizeof b->st, sizeof b->st + i, b->guard[i], GUARD_FILL);
		}
	CHECK(t);
	stat_sane(t, call, &b->st);
	return b->st;
}

struct nb_stat t_fstat(struct T *t, int fd)
{
	struct statbuf b;
	memset(&b, GUARD_FILL, sizeof b);
	OK(t, sc_fstat(t, fd, &b.st));
	return stat_into(t, "__fstat50", &b);
}

struct nb_stat t_statpath(struct T *t, uint32_t call, const char *path)
{
	struct statbuf b;
	memset(&b, GUARD_FILL, sizeof b);
	OK(t, sc_stat(t, call, path, &b.st));
	return stat_into(t, nb_sysname(call), &b);
}

void stat_same(struct T *t, const char *call, const struct nb_stat *w, const struct nb_stat *g)
{
	const char *c = fmt("%s (compared with __fstat50)", call);
#define SAME(m, f, cast)                                                          \
	do {                                                                      \
		if (w->m != g->m)                                                 \
			STAT_FAIL(t, c, m, fmt(f, (cast)w->m), fmt(f, (cast)g->m)); \
		CHECK(t);                                                         \
	} while (0)
	SAME(st_dev, "%llu", unsigned long long);
	SAME(st_mode, "%#o", unsigned);
	SAME(st_ino, "%llu", unsigned long long);
	SAME(st_nlink, "%u", unsigned);
	SAME(st_uid, "%u", unsigned);
	SAME(st_gid, "%u", unsigned);
	SAME(st_rdev, "%#llx", unsigned long long);
	SAME(st_atim.tv_sec, "%lld", long long);
	SAME(st_atim.tv_nsec, "%ld", long);
	SAME(st_mtim.tv_sec, "%lld", long long);
	SAME(st_mtim.tv_nsec, "%ld", long);
	SAME(st_ctim.tv_sec, "%lld", long long);
	SAME(st_ctim.tv_nsec, "%ld", long);
	SAME(st_birthtim.tv_sec, "%lld", long long);
	SAME(st_birthtim.tv_nsec, "%ld", long);
	SAME(st_size, "%lld", long long);
	SAME(st_blocks, "%lld", long long);
	SAME(st_blksize, "%d", int);
	SAME(st_flags, "%u", unsigned);
	SAME(st_gen, "%u", unsigned);
#undef SAME
}
