/*
 * scen_stat.c: stat and getdents.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "scenarios.h"
#include "sys.h"

#define STATF(t, call, member, want, got) FAIL_FIELD(t, call, "stat", struct nb_stat, member, want, got)

static int ts_before(struct nb_timespec a, struct nb_timespec b)
{
	return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

/* scenario_stat checks every member of struct stat from __fstat50,
 * __stat50 and __lstat50 of a file whose contents and mode are known. */
void scenario_stat(struct T *t)
{
	enum { SIZE = 1000 };
	char dir[128], path[160];
	unsigned char data[SIZE];
	struct nb_stat tmp, dst, st, st2;
	struct statbuf gone;
	long long now, lo, hi;
	nb_uid_t uid;
	int fd, i;
	const char *call = "__fstat50";

	t_guest(t);
	uid = (nb_uid_t)OK(t, sc_call(t, NB_SYS_getuid, NULL, 0)).rsys_retval[0];
	tmp = t_statpath(t, NB_SYS___stat50, "/tmp");
	if (tmp.st_mode != (NB_S_IFDIR | 01777))
		STATF(t, "__stat50(\"/tmp\")", st_mode, fmt("%#o", NB_S_IFDIR | 01777), fmt("%#o", (unsigned)tmp.st_mode));
	CHECK(t);
	OK(t, sc_umask(t, 022));
	expect_u64(t, "umask(077) returns the previous mask", 022, (uint64_t)OK(t, sc_umask(t, 077)).rsys_retval[0]);
	expect_u64(t, "umask(022) returns the previous mask", 077, (uint64_t)OK(t, sc_umask(t, 022)).rsys_retval[0]);

	t_freshdir(t, t_getpid(t), dir, sizeof dir);
	dst = t_statpath(t, NB_SYS___stat50, dir);
	if (dst.st_mode != (NB_S_IFDIR | 0755))
		STATF(t, "__stat50 of the new directory", st_mode, fmt("%#o", NB_S_IFDIR | 0755), fmt("%#o", (unsigned)dst.st_mode));
	CHECK(t);

	snprintf(path, sizeof path, "%s/f", dir);
	fd = t_open(t, path, NB_O_CREAT | NB_O_RDWR, 0666);
	pattern(data, SIZE, 3);
	t_write(t, fd, data, SIZE);
	now = (long long)time(NULL);

	st = t_fstat(t, fd);
	if (st.st_ino == 0)
		STATF(t, call, st_ino, "nonzero", "0");
	CHECK(t);
	if (st.st_mode != (NB_S_IFREG | 0644))
		STATF(t, call, st_mode, fmt("%#o", NB_S_IFREG | 0644), fmt("%#o", (unsigned)st.st_mode));
	CHECK(t);
	if (st.st_nlink != 1)
		STATF(t, call, st_nlink, "1", fmt("%u", (unsigned)st.st_nlink));
	CHECK(t);
	/* rumpfs gives every node to root, whoever creates it. */
	if (st.st_uid != uid && st.st_uid != 0)
		STATF(t, call, st_uid, fmt("%u (getuid) or 0 (rumpfs)", (unsigned)uid), fmt("%u", (unsigned)st.st_uid));
	CHECK(t);
	/* NetBSD gives a new file its directory's group (BSD semantics). */
	if (st.st_gid != dst.st_gid)
		STATF(t, call, st_gid, fmt("%u (its directory's)", (unsigned)dst.st_gid), fmt("%u", (unsigned)st.st_gid));
	CHECK(t);
	if (st.st_rdev != NB_NODEV && st.st_rdev != 0)
		STATF(t, call, st_rdev, "NODEV (0xffffffffffffffff) or 0", fmt("%#llx", (unsigned long long)st.st_rdev));
	CHECK(t);
	if (st.st_size != SIZE)
		STATF(t, call, st_size, fmt("%d", SIZE), fmt("%lld", (long long)st.st_size));
	CHECK(t);
	if (st.st_blksize <= 0)
		STATF(t, call, st_blksize, "> 0", fmt("%d", (int)st.st_blksize));
	CHECK(t);
	/* st_blocks counts 512-byte units allocated: at least the data, at
	 * most the data rounded up to whole blocks; rumpfs says 1 of 512. */
	lo = (SIZE + 511) / 512;
	hi = ((long long)SIZE + st.st_blksize - 1) / st.st_blksize * st.st_blksize / 512;
	if ((st.st_blocks < lo || st.st_blocks > hi) && !(st.st_blocks == 1 && st.st_blksize == 512))
		STATF(t, call, st_blocks, fmt("%lld..%lld for %d bytes in %d-byte blocks (or rumpfs's 1)", lo, hi, SIZE,
		    (int)st.st_blksize), fmt("%lld", (long long)st.st_blocks));
	CHECK(t);
	if (st.st_flags != 0)
		STATF(t, call, st_flags, "0", fmt("%u", (unsigned)st.st_flags));
	CHECK(t);
	for (i = 0; i < 4; i++) {
		static const char *names[] = {"st_atim", "st_mtim", "st_ctim", "st_birthtim"};
		struct nb_timespec ts = i == 0 ? st.st_atim : i == 1 ? st.st_mtim : i == 2 ? st.st_ctim : st.st_birthtim;
		size_t off = i == 0 ? offsetof(struct nb_stat, st_atim) : i == 1 ? offsetof(struct nb_stat, st_mtim)
		    : i == 2 ? offsetof(struct nb_stat, st_ctim) : offsetof(struct nb_stat, st_birthtim);
		long long d = (long long)ts.tv_sec - now;
		if (ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000L)
			t_fail_field(t, call, "stat", fmt("%s.tv_nsec", names[i]), off + offsetof(struct nb_timespec, tv_nsec),
			    sizeof ts.tv_nsec, sizeof st, "0..999999999", fmt("%ld", (long)ts.tv_nsec));
		CHECK(t);
		if (d < -86400 || d > 86400)
			t_fail_field(t, call, "stat", fmt("%s.tv_sec", names[i]), off + offsetof(struct nb_timespec, tv_sec),
			    sizeof ts.tv_sec, sizeof st, fmt("within a day of %lld (the client's clock)", now),
			    fmt("%lld", (long long)ts.tv_sec));
		CHECK(t);
		if (i != 3 && ts_before(ts, st.st_birthtim))
			t_fail_field(t, call, "stat", names[i], off, sizeof ts, sizeof st,
			    fmt("not before st_birthtim %lld.%09ld", (long long)st.st_birthtim.tv_sec, (long)st.st_birthtim.tv_nsec),
			    fmt("%lld.%09ld", (long long)ts.tv_sec, (long)ts.tv_nsec));
		CHECK(t);
	}

	st2 = t_statpath(t, NB_SYS___stat50, path);
	stat_same(t, "__stat50", &st, &st2);
	st2 = t_statpath(t, NB_SYS___lstat50, path);
	stat_same(t, "__lstat50", &st, &st2);

	/* The directory holding the file is on the same device; rumpfs
	 * instead numbers every node's st_dev like its st_ino. */
	if (dst.st_dev != st.st_dev && !(st.st_dev == st.st_ino && dst.st_dev == dst.st_ino))
		STATF(t, "__stat50 of the directory", st_dev, fmt("%llu (the file's)", (unsigned long long)st.st_dev),
		    fmt("%llu", (unsigned long long)dst.st_dev));
	CHECK(t);

	OK(t, sc_close(t, fd));
	t_unlink(t, path);
	memset(&gone, GUARD_FILL, sizeof gone);
	FAILS(t, "__stat50 of the unlinked file", NB_ENOENT, sc_stat(t, NB_SYS___stat50, path, &gone.st));
	t_rmdir(t, dir);
}

/* ---- getdents ---- */

/* NetBSD's _DIRENT_RECLEN: the fixed part, the name and its NUL, rounded
 * up to a multiple of 8; the compiler says where d_name starts. */
#define DIRENT_NAMEOFF offsetof(struct nb_dirent, d_name)
#define DIRENT_RECLEN(namlen) ((DIRENT_NAMEOFF + (namlen) + 1 + NB_DIRENT_ALIGN - 1) & ~(size_t)(NB_DIRENT_ALIGN - 1))
/* A record's size for reports: the smallest one, as the Go guests'
 * flexible-array layout gives it (sizeof would count d_name[512]). */
#define DIRENT_FAIL(t, call, member, want, got)                                                  \
	t_fail_field((t), (call), "dirent", #member, offsetof(struct nb_dirent, member),         \
	    sizeof(((struct nb_dirent *)0)->member), DIRENT_RECLEN(0), (want), (got))

struct entry {
	char name[NB_MAXNAMLEN + 1];
	nb_ino_t fileno;
	uint8_t type;
};

/* read_dir reads a directory with __getdents30 until it returns 0 and
 * checks every record's framing; it returns the number of entries. */
static int read_dir(struct T *t, int fd, struct entry *out, int max)
{
	enum { SIZE = 4096 };
	static union {
		uint64_t align;
		unsigned char b[SIZE];
	} buf;
	int n = 0, round;
	for (round = 0;; round++) {
		uint64_t got;
		size_t off;
		if (round == 16)
			t_fail(t, "data", "__getdents30 still returning records after %d calls (%d entries)", round, n);
		memset(buf.b, GUARD_FILL, SIZE);
		got = (uint64_t)OK(t, sc_getdents(t, fd, (char *)buf.b, SIZE)).rsys_retval[0];
		if (got == 0)
			return n;
		if (got > SIZE)
			t_fail_value(t, "__getdents30 retval", fmt("<= %d", SIZE), fmt("%llu", (unsigned long long)got));
		untouched(t, "__getdents30 buffer past the bytes returned", buf.b + got, SIZE - got, GUARD_FILL);
		for (off = 0; off < got;) {
			const struct nb_dirent *d = (const void *)(buf.b + off);
			size_t left = got - off;
			const char *where = fmt("__getdents30 record at byte %zu", off);
			if (left < DIRENT_RECLEN(0) || off % NB_DIRENT_ALIGN != 0)
				t_fail(t, "data", "dirent at byte %zu: only %zu bytes left of %llu, a record needs %zu",
				    off, left, (unsigned long long)got, DIRENT_RECLEN(0));
			if (d->d_reclen % NB_DIRENT_ALIGN != 0 || d->d_reclen < DIRENT_RECLEN(0) || d->d_reclen > left)
				DIRENT_FAIL(t, where, d_reclen, fmt("a multiple of %d, %zu..%zu", NB_DIRENT_ALIGN, DIRENT_RECLEN(0), left),
				    fmt("%u", (unsigned)d->d_reclen));
			CHECK(t);
			if (d->d_namlen == 0 || d->d_namlen > NB_MAXNAMLEN || d->d_reclen != DIRENT_RECLEN(d->d_namlen))
				DIRENT_FAIL(t, where, d_reclen, fmt("%zu for d_namlen %u", DIRENT_RECLEN(d->d_namlen), (unsigned)d->d_namlen),
				    fmt("%u", (unsigned)d->d_reclen));
			CHECK(t);
			if (memchr(d->d_name, 0, d->d_namlen) != NULL || d->d_name[d->d_namlen] != 0)
				DIRENT_FAIL(t, where, d_namlen, fmt("%zu (the length of %s)", strlen(d->d_name), quote(d->d_name, strlen(d->d_name))),
				    fmt("%u", (unsigned)d->d_namlen));
			CHECK(t);
			if (n == max)
				t_fail(t, "data", "__getdents30 returned more than %d entries", max);
			memcpy(out[n].name, d->d_name, (size_t)d->d_namlen + 1);
			out[n].fileno = d->d_fileno;
			out[n].type = d->d_type;
			n++;
			off += d->d_reclen;
		}
	}
}

/* scenario_getdents lists a fresh directory holding three files. Any
 * order; "." and ".." may be absent (rumpfs lists neither), and are
 * checked when present. */
void scenario_getdents(struct T *t)
{
	static const char *files[] = {"a", "bravo", "charlie-has-a-longer-name"};
	enum { NFILES = 3, MAXENT = 32 };
	static struct entry ents[MAXENT];
	char dir[128], path[NFILES][192], got[1024], want[256];
	nb_ino_t inos[NFILES + 2];
	int seen[NFILES + 2] = {0};
	int fd, n, i, j, nfound = 0;

	t_guest(t);
	t_freshdir(t, t_getpid(t), dir, sizeof dir);
	/* Name lengths chosen so the records need different padding. */
	for (i = 0; i < NFILES; i++) {
		snprintf(path[i], sizeof path[i], "%s/%s", dir, files[i]);
		fd = t_open(t, path[i], NB_O_CREAT | NB_O_WRONLY, 0644);
		OK(t, sc_close(t, fd));
		inos[i] = t_statpath(t, NB_SYS___stat50, path[i]).st_ino;
	}
	inos[NFILES + 1] = t_statpath(t, NB_SYS___stat50, "/tmp").st_ino;

	fd = t_open(t, dir, NB_O_RDONLY | NB_O_DIRECTORY, 0);
	inos[NFILES] = t_fstat(t, fd).st_ino;
	n = read_dir(t, fd, ents, MAXENT);
	OK(t, sc_close(t, fd));

	got[0] = 0;
	for (i = 0; i < n; i++) {
		const char *name = ents[i].name;
		int k = -1;
		if (strlen(got) + strlen(name) + 2 < sizeof got)
			strcat(strcat(got, *got ? " " : ""), name);
		for (j = 0; j < NFILES; j++)
			if (strcmp(name, files[j]) == 0)
				k = j;
		if (strcmp(name, ".") == 0)
			k = NFILES;
		if (strcmp(name, "..") == 0)
			k = NFILES + 1;
		if (k < 0)
			continue; /* reported below with the whole listing */
		if (seen[k])
			DIRENT_FAIL(t, "__getdents30", d_name, "each name once", fmt("%s twice", quote(name, strlen(name))));
		seen[k] = 1;
		if (k < NFILES)
			nfound++;
		if (ents[i].fileno != inos[k])
			DIRENT_FAIL(t, fmt("__getdents30 entry %s", quote(name, strlen(name))), d_fileno,
			    fmt("%llu (its st_ino)", (unsigned long long)inos[k]), fmt("%llu", (unsigned long long)ents[i].fileno));
		CHECK(t);
		if (ents[i].type != (k < NFILES ? NB_DT_REG : NB_DT_DIR))
			DIRENT_FAIL(t, fmt("__getdents30 entry %s", quote(name, strlen(name))), d_type,
			    fmt("%d", k < NFILES ? NB_DT_REG : NB_DT_DIR), fmt("%u", (unsigned)ents[i].type));
		CHECK(t);
	}
	snprintf(want, sizeof want, "%s %s %s, with or without . and ..", files[0], files[1], files[2]);
	if (nfound != NFILES || n != nfound + seen[NFILES] + seen[NFILES + 1])
		t_fail_value(t, "__getdents30 names", want, got);
	CHECK(t);

	for (i = 0; i < NFILES; i++)
		t_unlink(t, path[i]);
	t_rmdir(t, dir);
}
