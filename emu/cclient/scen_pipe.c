/*
 * scen_pipe.c: pipe, sysctl, mmap-anon, kill-raise and concurrent.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "scenarios.h"
#include "sys.h"

/* scenario_pipe: pipe's two return values, data through it, non-blocking
 * reads, the errors of the wrong end, and pipe2's int array. */
void scenario_pipe(struct T *t)
{
	unsigned char buf[64];
	struct {
		int fildes[2];
		unsigned char guard[8];
	} p2;
	struct rsp_sysresp r;
	struct nb_stat st;
	uint64_t n;
	int rfd, wfd;

	t_guest(t);
	r = OK(t, sc_call(t, NB_SYS_pipe, NULL, 0));
	rfd = (int)r.rsys_retval[0];
	wfd = (int)r.rsys_retval[1];
	if (rfd < 0 || wfd < 0 || rfd >= 65536 || wfd >= 65536 || rfd == wfd)
		t_fail_value(t, "pipe retval[0], retval[1]", "two distinct descriptors",
		    fmt("%lld, %lld", (long long)r.rsys_retval[0], (long long)r.rsys_retval[1]));
	CHECK(t);

	t_write(t, wfd, "ping\n", 5);
	memset(buf, GUARD_FILL, sizeof buf);
	n = (uint64_t)OK(t, sc_read(t, rfd, buf, sizeof buf)).rsys_retval[0];
	expect_u64(t, "read from the pipe retval", 5, n);
	expect_bytes(t, "read from the pipe", "ping\n", 5, buf, 5);
	untouched(t, "read buffer past the bytes returned", buf + 5, sizeof buf - 5, GUARD_FILL);

	expect_i64(t, "F_GETFL of the read end", NB_O_RDONLY, t_fcntl(t, rfd, NB_F_GETFL, 0));
	expect_i64(t, "F_GETFL of the write end", NB_O_WRONLY, t_fcntl(t, wfd, NB_F_GETFL, 0));
	st = t_fstat(t, rfd);
	if ((st.st_mode & NB_S_IFMT) != NB_S_IFIFO)
		FAIL_FIELD(t, "__fstat50 of a pipe", "stat", struct nb_stat, st_mode, "S_IFIFO", fmt("%#o", (unsigned)st.st_mode));
	CHECK(t);

	FAILS(t, "write to the read end", NB_EBADF, sc_write(t, rfd, "x", 1));
	FAILS(t, "read from the write end", NB_EBADF, sc_read(t, wfd, buf, 1));
	FAILS(t, "lseek on a pipe", NB_ESPIPE, sc_lseek(t, rfd, 0, NB_SEEK_SET));
	FAILS(t, "pread on a pipe", NB_ESPIPE, sc_pread(t, rfd, buf, 1, 0));

	expect_i64(t, "F_SETFL O_NONBLOCK on the read end", 0, t_fcntl(t, rfd, NB_F_SETFL, NB_O_NONBLOCK));
	FAILS(t, "non-blocking read of an empty pipe", NB_EAGAIN, sc_read(t, rfd, buf, sizeof buf));
	OK(t, sc_close(t, wfd));
	n = (uint64_t)OK(t, sc_read(t, rfd, buf, sizeof buf)).rsys_retval[0];
	expect_u64(t, "read of an empty pipe with no writer (end of file)", 0, n);
	OK(t, sc_close(t, rfd));

	/* pipe2 returns the descriptors through memory, as two C ints: the
	 * two numbers just freed, read end first. */
	memset(&p2, GUARD_FILL, sizeof p2);
	r = OK(t, sc_pipe2(t, p2.fildes, NB_O_NONBLOCK | NB_O_CLOEXEC));
	expect_u64(t, "pipe2 retval", 0, (uint64_t)r.rsys_retval[0]);
	expect_i64(t, "pipe2 fildes[0] (the read end's number again)", rfd, p2.fildes[0]);
	expect_i64(t, "pipe2 fildes[1] (the write end's number again)", wfd, p2.fildes[1]);
	untouched(t, "pipe2 fildes past two ints", p2.guard, sizeof p2.guard, GUARD_FILL);
	expect_i64(t, "F_GETFL of pipe2's read end", NB_O_RDONLY | NB_O_NONBLOCK, t_fcntl(t, p2.fildes[0], NB_F_GETFL, 0));
	expect_i64(t, "F_GETFL of pipe2's write end", NB_O_WRONLY | NB_O_NONBLOCK, t_fcntl(t, p2.fildes[1], NB_F_GETFL, 0));
	expect_i64(t, "F_GETFD of pipe2's read end", NB_FD_CLOEXEC, t_fcntl(t, p2.fildes[0], NB_F_GETFD, 0));
	FAILS(t, "non-blocking read of an empty pipe2 pipe", NB_EAGAIN, sc_read(t, p2.fildes[0], buf, sizeof buf));
	OK(t, sc_close(t, p2.fildes[0]));
	OK(t, sc_close(t, p2.fildes[1]));
}

/* ---- sysctl ---- */

#define NO_OLDLEN (-1)

/* sysctl runs __sysctl on mib. oldsize is the old buffer's size (0: oldv
 * NULL, a size query; NO_OLDLEN: no oldlenp either); ob, when oldsize >
 * 0, has oldsize + 16 bytes, the rest a guard. *oldlen is what the
 * kernel stored at oldlenp. Returns the errno. */
static int sysctl(struct T *t, const int *mib, unsigned nmib, int oldsize, unsigned char *ob,
    const char *newv, size_t *oldlen)
{
	size_t len = oldsize > 0 ? (size_t)oldsize : 0;
	struct rsp_sysresp r;
	if (ob != NULL)
		memset(ob, GUARD_FILL, (size_t)oldsize + 16);
	r = sc_sysctl(t, mib, nmib, oldsize > 0 ? ob : NULL, oldsize >= 0 ? &len : NULL,
	    newv, newv ? strlen(newv) : 0);
	*oldlen = len;
	return r.rsys_error;
}

/* sysctl_string reads a string MIB into a 256-byte buffer and checks the
 * length stored at oldlenp and the guard past it. */
static const char *sysctl_string(struct T *t, const char *what, const int *mib, unsigned nmib)
{
	static unsigned char b[256 + 16];
	size_t n;
	int e = sysctl(t, mib, nmib, 256, b, NULL, &n);
	expect_errno(t, what, 0, e);
	if (n < 1 || n > 256 || b[n - 1] != 0)
		t_fail_value(t, fmt("%s *oldlenp (length with the NUL)", what), "1..256 ending at the NUL",
		    fmt("%zu (%s)", n, quote(b, n < 256 ? n : 256)));
	CHECK(t);
	if (strlen((char *)b) != n - 1)
		t_fail_value(t, fmt("%s *oldlenp", what), fmt("%zu (the string's NUL)", strlen((char *)b) + 1), fmt("%zu", n));
	untouched(t, fmt("%s buffer past *oldlenp", what), b + n, sizeof b - n, GUARD_FILL);
	return (const char *)b;
}

/* scenario_sysctl: string and int MIBs, size queries, a short buffer and
 * a write, with oldlenp a size_t in the client's width. */
void scenario_sysctl(struct T *t)
{
	static const int ostype[] = {NB_CTL_KERN, NB_KERN_OSTYPE};
	static const int osrelease[] = {NB_CTL_KERN, NB_KERN_OSRELEASE};
	static const int machine[] = {NB_CTL_HW, NB_HW_MACHINE};
	static const int pagesize[] = {NB_CTL_HW, NB_HW_PAGESIZE};
	static const int hostname[] = {NB_CTL_KERN, NB_KERN_HOSTNAME};
	static const char *names[] = {"sprig.test", "sprig-guest", "rump"};
	unsigned char b[4 + 16];
	char was[256];
	size_t n;
	int e, i, ps;

	t_guest(t);
	expect_str(t, "sysctl kern.ostype", "NetBSD", sysctl_string(t, "kern.ostype", ostype, 2));
	expect_str(t, "sysctl kern.osrelease (the banner's)", t->c.osrelease, sysctl_string(t, "kern.osrelease", osrelease, 2));
	expect_str(t, "sysctl hw.machine (the banner's)", t->c.machine, sysctl_string(t, "hw.machine", machine, 2));

	e = sysctl(t, ostype, 2, 0, NULL, NULL, &n);
	expect_errno(t, "kern.ostype size query", 0, e);
	expect_u64(t, "kern.ostype size query *oldlenp", 7, n);

	/* Too small a buffer: as much as fits, the full length, ENOMEM. */
	e = sysctl(t, ostype, 2, 3, b, NULL, &n);
	expect_errno(t, "kern.ostype into 3 bytes", NB_ENOMEM, e);
	expect_u64(t, "kern.ostype into 3 bytes *oldlenp", 7, n);
	expect_bytes(t, "kern.ostype into 3 bytes", "Net", 3, b, 3);
	untouched(t, "kern.ostype into 3 bytes past the buffer", b + 3, 16, GUARD_FILL);

	e = sysctl(t, pagesize, 2, 4, b, NULL, &n);
	expect_errno(t, "hw.pagesize", 0, e);
	expect_u64(t, "hw.pagesize *oldlenp (sizeof(int))", 4, n);
	memcpy(&ps, b, sizeof ps);
	expect_i64(t, "hw.pagesize", 4096, ps);
	untouched(t, "hw.pagesize past the int", b + 4, 16, GUARD_FILL);

	/* kern.hostname is writable by root only. The names differ in length
	 * modulo sizeof(int) and one is exactly an int wide; newlen leaves
	 * out the NUL as sethostname(3) does. */
	if (OK(t, sc_call(t, NB_SYS_getuid, NULL, 0)).rsys_retval[0] != 0) {
		snprintf(was, sizeof was, "%s", sysctl_string(t, "kern.hostname", hostname, 2));
		e = sysctl(t, hostname, 2, NO_OLDLEN, NULL, "sprig.test", &n);
		expect_errno(t, "setting kern.hostname as non-root", NB_EPERM, e);
		expect_str(t, "kern.hostname after a refused write", was, sysctl_string(t, "kern.hostname", hostname, 2));
		return;
	}
	for (i = 0; i < 3; i++) {
		e = sysctl(t, hostname, 2, NO_OLDLEN, NULL, names[i], &n);
		expect_errno(t, fmt("setting kern.hostname to \"%s\"", names[i]), 0, e);
		expect_str(t, "kern.hostname read back", names[i], sysctl_string(t, "kern.hostname", hostname, 2));
	}
}

/* ---- mmap-anon ---- */

/* scenario_mmap_anon: mmap MAP_ANON is served by asking the client for
 * memory (ANONMMAP); the address returned is the one the client gave,
 * and the kernel can use it as a buffer. */
void scenario_mmap_anon(struct T *t)
{
	enum { SIZE = 65536 };
	static unsigned char p[SIZE], buf[64];
	struct rsp_sysresp r, pp;
	unsigned char *m;
	size_t i;

	t_guest(t);
	r = sc_mmap(t, NULL, SIZE, NB_PROT_READ | NB_PROT_WRITE, NB_MAP_ANON | NB_MAP_PRIVATE, -1, 0);
	if (r.rsys_error == NB_ENOSYS)
		t_unsupported(t, "mmap: ENOSYS (the server's kernel has no mmap, as NetBSD's rump kernel)");
	OK(t, r);
	requested(t, RUMPSP_ANONMMAP, "mmap MAP_ANON");
	expect_u64(t, "ANONMMAP requests for one mmap", 1, (uint64_t)t->c.nmaps);
	expect_u64(t, "ANONMMAP size", SIZE, t->c.maps[0].len);
	if (t->c.maps[0].addr == NULL)
		t_fail(t, "guest", "the client could not map %d bytes for ANONMMAP", SIZE);
	expect_str(t, "mmap retval (the address ANONMMAP returned)", fmt("%p", t->c.maps[0].addr),
	    fmt("%p", (void *)(uintptr_t)r.rsys_retval[0]));

	/* The mapping is this process's memory: zeroed, writable, readable. */
	m = (unsigned char *)(uintptr_t)r.rsys_retval[0];
	sprig_doing("reading the memory mmap returned at %p", (void *)m);
	for (i = 0; i < SIZE; i++)
		if (m[i] != 0)
			t_fail_value(t, fmt("fresh anonymous memory[%zu] (of %d bytes)", i, SIZE), "0x00", fmt("0x%02x", m[i]));
	CHECK(t);
	pattern(p, SIZE, 9);
	memcpy(m, p, SIZE);
	expect_bytes(t, "anonymous memory after writing it", p, SIZE, m, SIZE);

	/* And the kernel can use it as a buffer: write from it to a pipe. */
	pp = OK(t, sc_call(t, NB_SYS_pipe, NULL, 0));
	expect_u64(t, "write from the mapping retval", 64,
	    (uint64_t)OK(t, sc_write(t, (int)pp.rsys_retval[1], m + 100, 64)).rsys_retval[0]);
	memset(buf, GUARD_FILL, sizeof buf);
	expect_u64(t, "read back retval", 64, (uint64_t)OK(t, sc_read(t, (int)pp.rsys_retval[0], buf, 64)).rsys_retval[0]);
	expect_bytes(t, "bytes written from the mapping", p + 100, 64, buf, 64);
	OK(t, sc_close(t, (int)pp.rsys_retval[0]));
	OK(t, sc_close(t, (int)pp.rsys_retval[1]));
}

/* ---- kill-raise ---- */

static volatile sig_atomic_t usr1;

static void on_usr1(int s)
{
	(void)s;
	usr1++;
}

/* scenario_kill_raise: a signal the kernel posts to the client's process
 * arrives as a RAISE request, and this process really receives it. */
void scenario_kill_raise(struct T *t)
{
	struct sigaction sa;
	struct rsp_sysresp r;
	nb_pid_t pid;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	t_guest(t);
	pid = t_getpid(t);
	r = sc_kill(t, pid, NB_SIGUSR1);
	if (r.rsys_error == NB_ENOSYS)
		t_unsupported(t, "kill: ENOSYS (the server's kernel has no kill, as NetBSD's rump kernel)");
	expect_u64(t, "kill(getpid(), SIGUSR1) retval", 0, (uint64_t)OK(t, r).rsys_retval[0]);
	requested(t, RUMPSP_RAISE, "kill of the caller's own process");
	expect_str(t, "RAISE requests' signal numbers", "[30]",
	    t->c.nraised == 1 ? fmt("[%u]", (unsigned)t->c.raised[0]) : fmt("%d requests", t->c.nraised));
	expect_i64(t, "SIGUSR1 signals the client received", 1, usr1);

	expect_u64(t, "kill(getpid(), 0) retval", 0, (uint64_t)OK(t, sc_kill(t, pid, 0)).rsys_retval[0]);
	if (t->c.nraised != 1 || usr1 != 1)
		t_fail_value(t, "signals received after kill(pid, 0)", "none", fmt("%d RAISE requests in all", t->c.nraised));
	CHECK(t);
	FAILS(t, "kill(99999, SIGUSR1)", NB_ESRCH, sc_kill(t, 99999, NB_SIGUSR1));
	FAILS(t, "kill(getpid(), 9999)", NB_EINVAL, sc_kill(t, pid, 9999));
	if (t->c.nraised != 1 || usr1 != 1)
		t_fail_value(t, "signals received after the failed kills", "none", fmt("%d RAISE requests in all", t->c.nraised));
	CHECK(t);
}

/* ---- concurrent ---- */

static void sleep_ms(int ms)
{
	struct timespec ts;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

static void still_blocked(struct T *t, const char *what, uint64_t reqno)
{
	int st = sp_pump(&t->c);
	if (st)
		t_fail_sp(t, what, st);
	if (sp_answered(&t->c, reqno))
		t_fail_value(t, what, "still blocked (nothing written yet)", "answered");
	CHECK(t);
}

static struct rsp_sysresp finish_call(struct T *t, const char *what, uint64_t reqno)
{
	struct rsp_sysresp r;
	int st = sp_wait_syscall(&t->c, reqno, &r);
	if (st)
		t_fail_sp(t, what, st);
	if (r.rsys_error != 0)
		t_fail_value(t, fmt("%s errno", what), "0", nb_errno_name(r.rsys_error));
	CHECK(t);
	return r;
}

/* scenario_concurrent: several syscalls in flight on one connection. A
 * read blocks in the kernel on an empty pipe while eight getpids come and
 * go; then a write completes the read. One thread, as many requests
 * outstanding as it likes: every wait serves whatever frame comes. */
void scenario_concurrent(struct T *t)
{
	enum { GETPIDS = 8 };
	static const char msg[] = "from request B";
	const size_t ml = sizeof msg - 1;
	unsigned char rb[64];
	struct nb_sys_read_args ra;
	struct nb_sys_write_args wa;
	uint64_t readA, writeB, pids[GETPIDS];
	struct rsp_sysresp r, pp;
	nb_pid_t pid;
	int rfd, wfd, i, st;

	t_guest(t);
	pid = t_getpid(t);
	pp = OK(t, sc_call(t, NB_SYS_pipe, NULL, 0));
	rfd = (int)pp.rsys_retval[0];
	wfd = (int)pp.rsys_retval[1];
	memset(rb, GUARD_FILL, sizeof rb);

	/* A: read from the empty pipe; give the server a moment to start it. */
	memset(&ra, t->cfg->pad_fill, sizeof ra);
	NB_SCARG(&ra, fd) = rfd;
	NB_SCARG(&ra, buf) = rb;
	NB_SCARG(&ra, nbyte) = sizeof rb;
	if ((st = sp_start(&t->c, NB_SYS_read, &ra, sizeof ra, &readA)) != 0)
		t_fail_sp(t, "read", st);
	sleep_ms(20);
	still_blocked(t, "read of an empty pipe", readA);

	/* Eight getpids, all sent before any reply is read. */
	for (i = 0; i < GETPIDS; i++)
		if ((st = sp_start(&t->c, NB_SYS_getpid, NULL, 0, &pids[i])) != 0)
			t_fail_sp(t, "getpid", st);
	for (i = 0; i < GETPIDS; i++) {
		r = finish_call(t, fmt("concurrent getpid #%d", i), pids[i]);
		expect_i64(t, "concurrent getpid retval[0]", pid, (nb_pid_t)r.rsys_retval[0]);
		expect_u64(t, "concurrent getpid retval[1] (ppid)", 1, (uint64_t)r.rsys_retval[1]);
	}
	still_blocked(t, "read of an empty pipe, after the getpids", readA);
	if (t->c.maxinflight < 2)
		t_fail_value(t, "most syscalls in flight at once", ">= 2", fmt("%d", t->c.maxinflight));
	CHECK(t);

	/* B: write; A must complete with B's bytes. */
	memset(&wa, t->cfg->pad_fill, sizeof wa);
	NB_SCARG(&wa, fd) = wfd;
	NB_SCARG(&wa, buf) = msg;
	NB_SCARG(&wa, nbyte) = ml;
	if ((st = sp_start(&t->c, NB_SYS_write, &wa, sizeof wa, &writeB)) != 0)
		t_fail_sp(t, "write", st);
	expect_u64(t, "request B's write retval", ml, (uint64_t)finish_call(t, "request B's write", writeB).rsys_retval[0]);
	expect_u64(t, "request A's read retval", ml, (uint64_t)finish_call(t, "request A's read", readA).rsys_retval[0]);
	expect_bytes(t, "bytes request A read", msg, ml, rb, ml);
	untouched(t, "request A's buffer past the bytes read", rb + ml, sizeof rb - ml, GUARD_FILL);

	OK(t, sc_close(t, rfd));
	OK(t, sc_close(t, wfd));
}
