/*
 * scen_basic.c: handshake, getpid, errors and the destructive efault.
 */
#include <stdio.h>
#include <string.h>

#include "scenarios.h"
#include "sys.h"

void scenario_handshake(struct T *t)
{
	int st;
	if (strcmp(t->c.ostype, "NetBSD") != 0)
		t_fail_value(t, "banner.ostype", "NetBSD", quote(t->c.ostype, strlen(t->c.ostype)));
	CHECK(t);
	t_guest(t);
	if (t->c.minor == 4) {
		st = sp_handshake_exec(&t->c, "sprig-cclient-exec");
		if (st)
			t_fail_sp(t, "EXEC handshake", st);
		CHECK(t);
	}
}

void scenario_getpid(struct T *t)
{
	struct rsp_sysresp r, again;
	t_guest(t);
	r = OK(t, sc_call(t, NB_SYS_getpid, NULL, 0));
	if (r.rsys_retval[0] < 2 || r.rsys_retval[0] > NB_PID_MAX)
		t_fail_value(t, "getpid retval[0] (pid)", fmt("2..%d", NB_PID_MAX), fmt("%lld", (long long)r.rsys_retval[0]));
	CHECK(t);
	expect_u64(t, "getpid retval[1] (ppid)", 1, (uint64_t)r.rsys_retval[1]);
	expect_u64(t, "getppid retval[0]", 1, (uint64_t)OK(t, sc_call(t, NB_SYS_getppid, NULL, 0)).rsys_retval[0]);
	again = OK(t, sc_call(t, NB_SYS_getpid, NULL, 0));
	expect_u64(t, "second getpid retval[0]", (uint64_t)r.rsys_retval[0], (uint64_t)again.rsys_retval[0]);
}

/* scenario_errors: the errno of each failure a client commonly meets. */
void scenario_errors(struct T *t)
{
	char dir[128], path[160], missing[160], missingdir[160];
	static char longpath[NB_PATH_MAX + 200];
	struct nb_stat st;
	int fd;

	t_guest(t);
	t_freshdir(t, t_getpid(t), dir, sizeof dir);
	snprintf(path, sizeof path, "%s/f", dir);
	snprintf(missing, sizeof missing, "%s/missing", dir);
	snprintf(missingdir, sizeof missingdir, "%s/missing/f", dir);

	FAILS(t, "close(987)", NB_EBADF, sc_close(t, 987));
	FAILS(t, "open of a missing path", NB_ENOENT, sc_open(t, missing, NB_O_RDONLY, 0));
	FAILS(t, "open of a missing directory's file", NB_ENOENT, sc_open(t, missingdir, NB_O_CREAT | NB_O_RDWR, 0644));
	fd = t_open(t, path, NB_O_CREAT | NB_O_RDWR, 0644);
	FAILS(t, "open O_CREAT|O_EXCL of an existing file", NB_EEXIST,
	    sc_open(t, path, NB_O_CREAT | NB_O_EXCL | NB_O_RDWR, 0644));
	FAILS(t, "open of a directory for writing", NB_EISDIR, sc_open(t, dir, NB_O_WRONLY, 0));
	memcpy(longpath, "/tmp/", 5);
	memset(longpath + 5, 'x', NB_PATH_MAX + 100);
	longpath[5 + NB_PATH_MAX + 100] = 0;
	FAILS(t, "open of a path longer than PATH_MAX", NB_ENAMETOOLONG, sc_open(t, longpath, NB_O_RDONLY, 0));
	FAILS(t, "syscall 9999", NB_ENOSYS, sc_call(t, NB_SYS_UNKNOWN, NULL, 0));
	st = t_fstat(t, fd);
	expect_i64(t, "fstat size of the new file", 0, st.st_size);
	OK(t, sc_close(t, fd));
	t_unlink(t, path);
	t_rmdir(t, dir);
}

/*
 * scenario_efault: bad addresses, through the page this client keeps
 * unmapped. The client cannot serve those copies and answers with no
 * bytes. Destructive: NetBSD's C server crashes on the empty COPYIN
 * reply, and gives ENAMETOOLONG (sprig: EFAULT) for the empty COPYINSTR.
 */
void scenario_efault(struct T *t)
{
	char dir[128], path[160];
	struct nb_stat st;
	int fd;

	t_guest(t);
	t_freshdir(t, t_getpid(t), dir, sizeof dir);
	snprintf(path, sizeof path, "%s/f", dir);
	t_fails_either(t, "open with a bad path pointer", NB_EFAULT, NB_ENAMETOOLONG,
	    sc_open(t, (const char *)bad_page, NB_O_RDONLY, 0));
	requested(t, RUMPSP_COPYINSTR, "open with a bad path pointer");
	fd = t_open(t, path, NB_O_CREAT | NB_O_RDWR, 0644);
	FAILS(t, "write from a bad address", NB_EFAULT, sc_write(t, fd, bad_page, 16));
	requested(t, RUMPSP_COPYIN, "write from a bad address");
	st = t_fstat(t, fd);
	expect_i64(t, "fstat size after the failed write", 0, st.st_size);
	OK(t, sc_close(t, fd));
	t_unlink(t, path);
	t_rmdir(t, dir);
}
