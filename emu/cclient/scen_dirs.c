/*
 * scen_dirs.c: dirs (on a tmpfs it mounts) and cwd.
 */
#include <stdio.h>
#include <string.h>

#include "scenarios.h"
#include "sys.h"

#define STATF(t, call, member, want, got) FAIL_FIELD(t, call, "stat", struct nb_stat, member, want, got)

static struct statbuf failbuf;

/* stat_gone checks that path no longer exists. */
static void stat_gone(struct T *t, const char *what, const char *path)
{
	memset(&failbuf, GUARD_FILL, sizeof failbuf);
	FAILS(t, what, NB_ENOENT, sc_stat(t, NB_SYS___stat50, path, &failbuf.st));
}

/*
 * scenario_dirs: mkdir, rename, unlink and rmdir, with NetBSD's errors
 * for the cases that must fail. rename needs a file system that has it:
 * NetBSD's root rumpfs answers EOPNOTSUPP, so the scenario mounts a tmpfs
 * on its directory, as a rump user would. A server without __mount50
 * (sprig before issue 9) still runs it when its root can rename.
 */
void scenario_dirs(struct T *t)
{
	char base[128], sub[160], sub2[160], f[192], g[192], gx[200];
	struct nb_tmpfs_args ta;
	struct nb_stat st;
	struct rsp_sysresp r;
	nb_uid_t uid;
	nb_gid_t gid;
	nb_ino_t ino;
	int fd, mounted, merr;

	t_guest(t);
	uid = (nb_uid_t)OK(t, sc_call(t, NB_SYS_getuid, NULL, 0)).rsys_retval[0];
	gid = (nb_gid_t)OK(t, sc_call(t, NB_SYS_getgid, NULL, 0)).rsys_retval[0];
	t_freshdir(t, t_getpid(t), base, sizeof base);
	snprintf(sub, sizeof sub, "%s/sub", base);
	snprintf(sub2, sizeof sub2, "%s/sub2", base);
	snprintf(f, sizeof f, "%s/f", sub);
	snprintf(g, sizeof g, "%s/g", sub);
	snprintf(gx, sizeof gx, "%s/x", g);

	memset(&ta, 0, sizeof ta);
	ta.ta_version = NB_TMPFS_ARGS_VERSION;
	ta.ta_root_uid = uid;
	ta.ta_root_gid = gid;
	ta.ta_root_mode = 0755;
	r = sc_mount(t, "tmpfs", base, 0, &ta, sizeof ta);
	merr = r.rsys_error;
	mounted = merr == 0;
	if (!mounted && merr != NB_ENOSYS && merr != NB_EOPNOTSUPP && merr != NB_ENODEV && merr != NB_EPERM)
		t_fail_value(t, "__mount50 of a tmpfs errno", "0, or ENOSYS, EOPNOTSUPP, ENODEV or EPERM (no tmpfs)",
		    nb_errno_name(merr));
	CHECK(t);
	if (mounted)
		t_clean_push(t, CLEAN_UNMOUNT, base);

	FAILS(t, "mkdir of an existing directory", NB_EEXIST, sc_mkdir(t, base, 0755));
	OK(t, sc_mkdir(t, sub, 0700));
	t_clean_push(t, CLEAN_RMDIR, sub);
	st = t_statpath(t, NB_SYS___stat50, sub);
	if ((st.st_mode & NB_S_IFMT) != NB_S_IFDIR)
		STATF(t, "__stat50 of a new directory", st_mode, "S_IFDIR", fmt("%#o", (unsigned)st.st_mode));
	CHECK(t);

	fd = t_open(t, f, NB_O_CREAT | NB_O_WRONLY, 0644);
	t_write(t, fd, "dirs", 4);
	OK(t, sc_close(t, fd));
	ino = t_statpath(t, NB_SYS___stat50, f).st_ino;

	r = sc_rename(t, f, g);
	if (!mounted && r.rsys_error == NB_EOPNOTSUPP)
		t_unsupported(t, "rename needs a tmpfs: __mount50 answered %s and rename on the root file system EOPNOTSUPP",
		    nb_errno_name(merr));
	OK(t, r);
	t_clean_done(t, CLEAN_UNLINK, f);
	t_clean_push(t, CLEAN_UNLINK, g);
	stat_gone(t, "__stat50 of a renamed file's old name", f);
	st = t_statpath(t, NB_SYS___stat50, g);
	if (st.st_ino != ino)
		STATF(t, "__stat50 of the new name", st_ino, fmt("%llu", (unsigned long long)ino), fmt("%llu", (unsigned long long)st.st_ino));
	CHECK(t);
	if (st.st_size != 4)
		STATF(t, "__stat50 of the new name", st_size, "4", fmt("%lld", (long long)st.st_size));
	CHECK(t);

	FAILS(t, "open of a path through a file", NB_ENOTDIR, sc_open(t, gx, NB_O_RDONLY, 0));
	FAILS(t, "rmdir of a non-empty directory", NB_ENOTEMPTY, sc_path(t, NB_SYS_rmdir, sub));
	FAILS(t, "rmdir of a file", NB_ENOTDIR, sc_path(t, NB_SYS_rmdir, g));
	FAILS(t, "unlink of a directory", NB_EPERM, sc_path(t, NB_SYS_unlink, sub));

	t_unlink(t, g);
	FAILS(t, "unlink of an unlinked file", NB_ENOENT, sc_path(t, NB_SYS_unlink, g));
	stat_gone(t, "__stat50 of an unlinked file", g);

	OK(t, sc_rename(t, sub, sub2));
	t_clean_done(t, CLEAN_RMDIR, sub);
	t_clean_push(t, CLEAN_RMDIR, sub2);
	stat_gone(t, "__stat50 of a renamed directory's old name", sub);
	st = t_statpath(t, NB_SYS___stat50, sub2);
	if (st.st_mode != (NB_S_IFDIR | 0700))
		STATF(t, "__stat50 of the renamed directory", st_mode, fmt("%#o", NB_S_IFDIR | 0700), fmt("%#o", (unsigned)st.st_mode));
	CHECK(t);

	t_rmdir(t, sub2);
	FAILS(t, "rmdir of a removed directory", NB_ENOENT, sc_path(t, NB_SYS_rmdir, sub2));
	if (mounted) {
		OK(t, sc_unmount(t, base, 0));
		t_clean_done(t, CLEAN_UNMOUNT, base);
	}
	t_rmdir(t, base);
	stat_gone(t, "__stat50 of a removed directory", base);
}

/* getcwd runs __getcwd into a fresh buffer of n bytes and returns the
 * path, checking NetBSD's return value (the length with the NUL) and
 * that nothing past the NUL was written. */
static const char *getcwd_checked(struct T *t, char *b, size_t n)
{
	uint64_t l;
	memset(b, GUARD_FILL, n);
	l = (uint64_t)OK(t, sc_getcwd(t, b, n)).rsys_retval[0];
	if (l < 2 || l > n)
		t_fail_value(t, "__getcwd retval (length with NUL)", fmt("2..%zu", n), fmt("%llu", (unsigned long long)l));
	if (b[l - 1] != 0)
		t_fail_value(t, fmt("__getcwd buffer[%llu] (the NUL)", (unsigned long long)(l - 1)), "0x00",
		    fmt("0x%02x", (unsigned char)b[l - 1]));
	CHECK(t);
	untouched(t, "__getcwd buffer past the NUL", (unsigned char *)b + l, n - l, GUARD_FILL);
	return b;
}

/* scenario_cwd: chdir, __getcwd and a relative path after chdir. */
void scenario_cwd(struct T *t)
{
	char dir[128], rel[160], buf[256], one[1];
	struct nb_stat st;
	int fd;

	t_guest(t);
	t_freshdir(t, t_getpid(t), dir, sizeof dir);
	snprintf(rel, sizeof rel, "%s/rel", dir);
	OK(t, sc_path(t, NB_SYS_chdir, dir));
	expect_str(t, "__getcwd after chdir", dir, getcwd_checked(t, buf, sizeof buf));
	/* One byte cannot hold any path and its NUL: ERANGE everywhere (a
	 * longer short buffer meets a NetBSD bug, real-rump.md section 4). */
	FAILS(t, "__getcwd into 1 byte", NB_ERANGE, sc_getcwd(t, one, 1));

	fd = (int)OK(t, sc_open(t, "rel", NB_O_CREAT | NB_O_RDWR, 0644)).rsys_retval[0];
	t_clean_push(t, CLEAN_UNLINK, rel);
	t_write(t, fd, "relative", 8);
	OK(t, sc_close(t, fd));
	st = t_statpath(t, NB_SYS___stat50, rel);
	if (st.st_size != 8)
		STATF(t, "__stat50 of the file made by a relative open", st_size, "8", fmt("%lld", (long long)st.st_size));
	CHECK(t);

	FAILS(t, "chdir to a missing directory", NB_ENOENT, sc_path(t, NB_SYS_chdir, "missing"));
	FAILS(t, "chdir to a file", NB_ENOTDIR, sc_path(t, NB_SYS_chdir, "rel"));
	OK(t, sc_path(t, NB_SYS_chdir, ".."));
	expect_str(t, "__getcwd after chdir(\"..\")", "/tmp", getcwd_checked(t, buf, sizeof buf));

	t_unlink(t, rel);
	t_rmdir(t, dir);
}
