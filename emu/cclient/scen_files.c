/*
 * scen_files.c: file-io, lseek-4g, pread-pwrite and dup-fcntl.
 */
#include <stdio.h>
#include <string.h>

#include "scenarios.h"
#include "sys.h"

/* A descriptor number is small and not negative, whatever the server. */
static void sane_fd(struct T *t, const char *what, long fd)
{
	if (fd < 0 || fd >= 65536)
		t_fail_value(t, what, "a descriptor number (0..65535)", fmt("%ld", fd));
	CHECK(t);
}

/* scenario_file_io: open by path (COPYINSTR), write (COPYIN), seek back,
 * read (COPYOUT), close; the closed descriptor is then EBADF and the
 * next open gets its number back. */
void scenario_file_io(struct T *t)
{
	char dir[128], path[160];
	static const char head[] = "sprig file-io\n";
	unsigned char data[sizeof head - 1 + 300], buf[sizeof data + 16];
	struct rsp_sysresp r;
	int fd, again;

	t_guest(t);
	t_freshdir(t, t_getpid(t), dir, sizeof dir);
	snprintf(path, sizeof path, "%s/f", dir);
	fd = t_open(t, path, NB_O_CREAT | NB_O_RDWR, 0644);
	sane_fd(t, "open retval", fd);
	requested(t, RUMPSP_COPYINSTR, "open");

	memcpy(data, head, sizeof head - 1);
	pattern(data + sizeof head - 1, 300, 1);
	t_write(t, fd, data, sizeof data);
	requested(t, RUMPSP_COPYIN, "write");
	expect_i64(t, "lseek(0, SEEK_SET)", 0, t_seek(t, fd, 0, NB_SEEK_SET));

	memset(buf, GUARD_FILL, sizeof buf);
	r = OK(t, sc_read(t, fd, buf, sizeof buf));
	expect_u64(t, "read retval", sizeof data, (uint64_t)r.rsys_retval[0]);
	requested(t, RUMPSP_COPYOUT, "read");
	expect_bytes(t, "read data", data, sizeof data, buf, sizeof data);
	untouched(t, "read past the bytes returned", buf + sizeof data, sizeof buf - sizeof data, GUARD_FILL);

	r = OK(t, sc_read(t, fd, buf, sizeof buf));
	expect_u64(t, "read at end of file", 0, (uint64_t)r.rsys_retval[0]);

	OK(t, sc_close(t, fd));
	FAILS(t, "read on a closed fd", NB_EBADF, sc_read(t, fd, buf, 16));
	FAILS(t, "close of a closed fd", NB_EBADF, sc_close(t, fd));
	/* Descriptors are allocated lowest first: the number comes back. */
	again = (int)OK(t, sc_open(t, path, NB_O_RDONLY, 0)).rsys_retval[0];
	expect_i64(t, "open after closing fd (the lowest free number again)", fd, again);
	OK(t, sc_close(t, again));
	t_unlink(t, path);
	t_rmdir(t, dir);
}

/* scenario_lseek_4g: offsets past 4 GiB survive the trip both ways, in
 * arguments and in the 64-bit result. */
void scenario_lseek_4g(struct T *t)
{
	const nb_off_t off = ((nb_off_t)5 << 30) + 3;
	char dir[128], path[160];
	unsigned char buf[4];
	static const unsigned char want[] = {0, 'Z'};
	struct nb_stat st;
	struct rsp_sysresp r;
	int fd;

	t_guest(t);
	t_freshdir(t, t_getpid(t), dir, sizeof dir);
	snprintf(path, sizeof path, "%s/f", dir);
	fd = t_open(t, path, NB_O_CREAT | NB_O_RDWR, 0644);

	expect_i64(t, "lseek(5 GiB + 3, SEEK_SET)", off, t_seek(t, fd, off, NB_SEEK_SET));
	expect_i64(t, "lseek(+1, SEEK_CUR)", off + 1, t_seek(t, fd, 1, NB_SEEK_CUR));

	r = OK(t, sc_pwrite(t, fd, "Z", 1, off + 1));
	expect_u64(t, "pwrite at 5 GiB + 4 retval", 1, (uint64_t)r.rsys_retval[0]);
	st = t_fstat(t, fd);
	if (st.st_size != off + 2)
		FAIL_FIELD(t, "__fstat50", "stat", struct nb_stat, st_size, fmt("%lld", (long long)(off + 2)),
		    fmt("%lld", (long long)st.st_size));
	CHECK(t);
	expect_i64(t, "lseek(0, SEEK_CUR) after pwrite (offset unchanged)", off + 1, t_seek(t, fd, 0, NB_SEEK_CUR));
	expect_i64(t, "lseek(0, SEEK_END)", off + 2, t_seek(t, fd, 0, NB_SEEK_END));

	memset(buf, GUARD_FILL, sizeof buf);
	r = OK(t, sc_pread(t, fd, buf, 4, off));
	expect_u64(t, "pread at 5 GiB + 3 retval", 2, (uint64_t)r.rsys_retval[0]);
	expect_bytes(t, "pread at 5 GiB + 3 (a hole, then the byte)", want, 2, buf, 2);
	untouched(t, "pread past the bytes returned", buf + 2, 2, GUARD_FILL);

	FAILS(t, "lseek to -1", NB_EINVAL, sc_lseek(t, fd, -1, NB_SEEK_SET));
	FAILS(t, "lseek with whence 7", NB_EINVAL, sc_lseek(t, fd, 0, 7));
	expect_i64(t, "offset after the failed seeks", off + 2, t_seek(t, fd, 0, NB_SEEK_CUR));

	OK(t, sc_close(t, fd));
	t_unlink(t, path);
	t_rmdir(t, dir);
}

static int all_zero(const unsigned char *b, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

/* scenario_pread_pwrite: positioned I/O reads and writes where asked and
 * leaves the file offset alone. */
void scenario_pread_pwrite(struct T *t)
{
	static const unsigned char want[] = "012AB56789\0\0\0\0\0\0\0\0\0\0XYZ";
	const size_t wn = sizeof want - 1;
	static const unsigned char zeros[4];
	char dir[128], path[160];
	unsigned char buf[40], small[4];
	struct rsp_sysresp r;
	uint64_t n;
	int fd;

	t_guest(t);
	t_freshdir(t, t_getpid(t), dir, sizeof dir);
	snprintf(path, sizeof path, "%s/f", dir);
	fd = t_open(t, path, NB_O_CREAT | NB_O_RDWR, 0644);
	t_write(t, fd, "0123456789", 10);

	r = OK(t, sc_pwrite(t, fd, "AB", 2, 3));
	expect_u64(t, "pwrite(\"AB\", 3) retval", 2, (uint64_t)r.rsys_retval[0]);
	r = OK(t, sc_pwrite(t, fd, "XYZ", 3, 20));
	expect_u64(t, "pwrite(\"XYZ\", 20) retval", 3, (uint64_t)r.rsys_retval[0]);
	expect_i64(t, "file offset after pwrite", 10, t_seek(t, fd, 0, NB_SEEK_CUR));

	memset(buf, GUARD_FILL, sizeof buf);
	r = OK(t, sc_pread(t, fd, buf, sizeof buf, 0));
	expect_u64(t, "pread(40, 0) retval", wn, (uint64_t)r.rsys_retval[0]);
	expect_bytes(t, "pread(40, 0) data", want, wn, buf, wn);
	untouched(t, "pread past the bytes returned", buf + wn, sizeof buf - wn, GUARD_FILL);

	memset(small, GUARD_FILL, sizeof small);
	r = OK(t, sc_pread(t, fd, small, 4, 21));
	expect_u64(t, "pread(4, 21) retval", 2, (uint64_t)r.rsys_retval[0]);
	expect_bytes(t, "pread(4, 21) data", "YZ", 2, small, 2);
	/* Past the end NetBSD returns 0; rumpfs returns that many zeros. */
	memset(small, GUARD_FILL, sizeof small);
	n = (uint64_t)OK(t, sc_pread(t, fd, small, 4, 100)).rsys_retval[0];
	if (!(n == 0 || (n == 4 && all_zero(small, 4))))
		t_fail_value(t, "pread past end of file", "0, or 4 zero bytes (rumpfs)",
		    fmt("%llu bytes %s", (unsigned long long)n, quote(small, n <= 4 ? n : 4)));
	CHECK(t);
	FAILS(t, "pread at offset -1", NB_EINVAL, sc_pread(t, fd, small, 4, -1));
	expect_i64(t, "file offset after pread", 10, t_seek(t, fd, 0, NB_SEEK_CUR));

	/* The plain read continues from the untouched offset. */
	memset(small, GUARD_FILL, sizeof small);
	r = OK(t, sc_read(t, fd, small, 4));
	expect_u64(t, "read at offset 10 retval", 4, (uint64_t)r.rsys_retval[0]);
	expect_bytes(t, "read at offset 10", zeros, 4, small, 4);

	OK(t, sc_close(t, fd));
	t_unlink(t, path);
	t_rmdir(t, dir);
}

/* pread_all reads up to n bytes at off into a fresh buffer. */
static uint64_t pread_all(struct T *t, int fd, unsigned char *buf, size_t n, nb_off_t off)
{
	uint64_t got;
	memset(buf, GUARD_FILL, n);
	got = (uint64_t)OK(t, sc_pread(t, fd, buf, n, off)).rsys_retval[0];
	if (got > n)
		t_fail_value(t, "pread retval", fmt("<= %zu", n), fmt("%llu", (unsigned long long)got));
	return got;
}

/* scenario_dup_fcntl: dup2, dup, F_DUPFD, descriptor flags per
 * descriptor and status flags per open file (shown on a pipe: rumpfs
 * refuses F_SETFL on its files). No descriptor number is assumed: only
 * that the lowest free one is handed out. */
void scenario_dup_fcntl(struct T *t)
{
	char dir[128], path[160];
	unsigned char buf[8];
	struct rsp_sysresp r;
	uint64_t n;
	int fd, hi, pr, pw, pd, pd2, up, x;

	t_guest(t);
	t_freshdir(t, t_getpid(t), dir, sizeof dir);
	snprintf(path, sizeof path, "%s/f", dir);
	fd = t_open(t, path, NB_O_CREAT | NB_O_RDWR | NB_O_APPEND, 0644);
	sane_fd(t, "open retval", fd);

	hi = fd + 10;
	expect_i64(t, "dup2(fd, fd+10)", hi, (int)OK(t, sc_dup2(t, fd, hi)).rsys_retval[0]);
	t_write(t, hi, "abc", 3);
	/* Both descriptors share one open file and so one offset. */
	expect_i64(t, "offset of fd after writing 3 bytes through its dup", 3, t_seek(t, fd, 0, NB_SEEK_CUR));
	/* O_APPEND: a write after seeking to 0 still lands at the end. */
	t_seek(t, fd, 0, NB_SEEK_SET);
	t_write(t, fd, "d", 1);
	n = pread_all(t, fd, buf, sizeof buf, 0);
	expect_bytes(t, "file after an O_APPEND write at offset 0", "abcd", 4, buf, n);

	expect_i64(t, "F_GETFD of a dup2 copy", 0, t_fcntl(t, hi, NB_F_GETFD, 0));
	expect_i64(t, "F_SETFD FD_CLOEXEC", 0, t_fcntl(t, hi, NB_F_SETFD, NB_FD_CLOEXEC));
	expect_i64(t, "F_GETFD after F_SETFD FD_CLOEXEC", NB_FD_CLOEXEC, t_fcntl(t, hi, NB_F_GETFD, 0));
	expect_i64(t, "F_GETFD of the original (flags are per descriptor)", 0, t_fcntl(t, fd, NB_F_GETFD, 0));
	expect_i64(t, "F_GETFL of a file opened O_RDWR|O_APPEND", NB_O_RDWR | NB_O_APPEND, t_fcntl(t, fd, NB_F_GETFL, 0));
	expect_i64(t, "F_GETFL through the dup", NB_O_RDWR | NB_O_APPEND, t_fcntl(t, hi, NB_F_GETFL, 0));

	/* Status flags belong to the open file, which a dup shares. */
	r = OK(t, sc_call(t, NB_SYS_pipe, NULL, 0));
	pr = (int)r.rsys_retval[0];
	pw = (int)r.rsys_retval[1];
	pd = (int)OK(t, sc_dup(t, pr)).rsys_retval[0];
	if (pd == pr || pd == pw || pd == fd || pd == hi)
		t_fail_value(t, "dup of the pipe's read end", "a new descriptor", fmt("%d", pd));
	CHECK(t);
	expect_i64(t, "F_SETFL O_NONBLOCK on the pipe's read end", 0, t_fcntl(t, pr, NB_F_SETFL, NB_O_NONBLOCK));
	expect_i64(t, "F_GETFL through the dup after F_SETFL O_NONBLOCK", NB_O_RDONLY | NB_O_NONBLOCK,
	    t_fcntl(t, pd, NB_F_GETFL, 0));
	FAILS(t, "non-blocking read of an empty pipe through the dup", NB_EAGAIN, sc_read(t, pd, buf, sizeof buf));
	expect_i64(t, "F_SETFL 0 through the dup", 0, t_fcntl(t, pd, NB_F_SETFL, 0));
	expect_i64(t, "F_GETFL of the read end after F_SETFL 0 through the dup", NB_O_RDONLY,
	    t_fcntl(t, pr, NB_F_GETFL, 0));

	/* The lowest free number: pd's, once it is closed. */
	OK(t, sc_close(t, pd));
	pd2 = (int)OK(t, sc_dup(t, fd)).rsys_retval[0];
	expect_i64(t, "dup(fd) after closing the last dup (the lowest free fd)", pd, pd2);
	expect_i64(t, "dup2(fd, fd)", fd, (int)OK(t, sc_dup2(t, fd, fd)).rsys_retval[0]);

	x = hi + 10;
	up = (int)t_fcntl(t, fd, NB_F_DUPFD, x);
	if (up < x || up == hi)
		t_fail_value(t, "F_DUPFD(fd, fd+20)", fmt("a free descriptor >= %d", x), fmt("%d", up));
	CHECK(t);
	expect_i64(t, "F_GETFD of an F_DUPFD copy", 0, t_fcntl(t, up, NB_F_GETFD, 0));
	n = pread_all(t, up, buf, sizeof buf, 0);
	expect_bytes(t, "file read through the F_DUPFD copy", "abcd", 4, buf, n);

	OK(t, sc_close(t, hi));
	FAILS(t, "F_GETFD of a closed fd", NB_EBADF, sc_fcntl(t, hi, NB_F_GETFD, 0));
	FAILS(t, "dup2 from a closed fd", NB_EBADF, sc_dup2(t, 987, hi));
	FAILS(t, "dup of a closed fd", NB_EBADF, sc_dup(t, hi));
	OK(t, sc_close(t, fd));
	OK(t, sc_close(t, pd2));
	OK(t, sc_close(t, up));
	OK(t, sc_close(t, pr));
	OK(t, sc_close(t, pw));
	t_unlink(t, path);
	t_rmdir(t, dir);
}
