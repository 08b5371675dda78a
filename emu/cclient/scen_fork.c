/*
 * scen_fork.c: fork, with a real fork() as librumpclient's
 * rumpclient_fork does it: PREFORK on the parent's connection, fork(),
 * and the child claims the copied process with a FORK handshake on a
 * connection of its own.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scenarios.h"
#include "sys.h"

#define FORK_MESSAGE "sprig-fork parent=%d file=%d"
#define CHILD_MARK "written by the fork child"

int wait_child(int pid, int64_t deadline_ms)
{
	int status;
	for (;;) {
		struct timespec ts = {0, 2000000L};
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			return status;
		if (w < 0)
			return -2;
		if (sp_now_ms() >= deadline_ms) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		nanosleep(&ts, NULL);
	}
}

/* What the parent hands the child, in the child's copy of its memory. */
static struct {
	unsigned char cookie[RUMPSP_COOKIE_SIZE];
	nb_pid_t parent;
	int rfd, ffd;
	char msg[64];
} handover;

/* scenario_fork_child runs in the forked process, on a new connection. */
static void scenario_fork_child(struct T *t)
{
	unsigned char buf[64 + 16];
	struct rsp_sysresp r;
	uint64_t n;
	int st;

	st = sp_handshake_fork(&t->c, handover.cookie, 0);
	if (st)
		t_fail_sp(t, "FORK handshake", st);
	CHECK(t);

	/* Only what holds on every server: a pid of its own, in range, and
	 * a parent pid that getpid and getppid agree on. */
	r = OK(t, sc_call(t, NB_SYS_getpid, NULL, 0));
	if (r.rsys_retval[0] < 2 || r.rsys_retval[0] > NB_PID_MAX || (nb_pid_t)r.rsys_retval[0] == handover.parent)
		t_fail_value(t, "getpid retval[0] in the fork child", fmt("2..%d, not the parent's %d", NB_PID_MAX, (int)handover.parent),
		    fmt("%lld", (long long)r.rsys_retval[0]));
	CHECK(t);
	expect_u64(t, "getppid in the fork child (getpid's retval[1])", (uint64_t)r.rsys_retval[1],
	    (uint64_t)OK(t, sc_call(t, NB_SYS_getppid, NULL, 0)).rsys_retval[0]);

	/* A blocking read on the inherited pipe: the parent writes after
	 * forking, so the read may have to wait for it. */
	memset(buf, GUARD_FILL, sizeof buf);
	n = (uint64_t)OK(t, sc_read(t, handover.rfd, buf, sizeof buf)).rsys_retval[0];
	expect_u64(t, "read from the inherited pipe retval", strlen(handover.msg), n);
	expect_bytes(t, "read from the inherited pipe", handover.msg, strlen(handover.msg), buf, n);

	n = (uint64_t)OK(t, sc_pwrite(t, handover.ffd, CHILD_MARK, strlen(CHILD_MARK), 0)).rsys_retval[0];
	expect_u64(t, "pwrite through the inherited file fd retval", strlen(CHILD_MARK), n);
}

static const char *signame(int s)
{
	switch (s) {
	case SIGSEGV: return "SIGSEGV";
	case SIGBUS: return "SIGBUS";
	case SIGILL: return "SIGILL";
	case SIGFPE: return "SIGFPE";
	case SIGABRT: return "SIGABRT";
	case SIGKILL: return "SIGKILL";
	}
	return fmt("signal %d", s);
}

void scenario_fork(struct T *t)
{
	char dir[128], path[160];
	unsigned char buf[64];
	struct rsp_sysresp r;
	struct result *cr = fork_child_result;
	nb_pid_t pid;
	int rfd, wfd, ffd, st, status;
	pid_t child;
	uint64_t n;

	t_guest(t);
	pid = t_getpid(t);
	r = OK(t, sc_call(t, NB_SYS_pipe, NULL, 0));
	rfd = (int)r.rsys_retval[0];
	wfd = (int)r.rsys_retval[1];
	t_freshdir(t, pid, dir, sizeof dir);
	snprintf(path, sizeof path, "%s/f", dir);
	ffd = t_open(t, path, NB_O_CREAT | NB_O_RDWR, 0644);

	st = sp_prefork(&t->c, handover.cookie);
	if (st)
		t_fail_sp(t, "PREFORK", st);
	CHECK(t);
	expect_u64(t, "PREFORK responses", 1, t->c.resps[RUMPSP_PREFORK]);

	handover.parent = pid;
	handover.rfd = rfd;
	handover.ffd = ffd;
	snprintf(handover.msg, sizeof handover.msg, FORK_MESSAGE, (int)pid, ffd);
	memset(cr, 0, sizeof *cr);
	sprig_doing("fork()");
	child = fork();
	if (child < 0)
		t_fail(t, "guest", "fork: cannot start the child process");
	if (child == 0) {
		/* The child: the parent's connection is not ours to use. */
		static struct T ct;
		close(t->c.fd);
		memset(&ct, 0, sizeof ct);
		ct.name = FORK_CHILD_NAME;
		ct.cfg = t->cfg;
		ct.r = cr;
		ct.c.pad_fill = t->c.pad_fill;
		ct.c.bad_lo = t->c.bad_lo;
		ct.c.bad_hi = t->c.bad_hi;
		/* The child's deadline is the parent's. */
		t_run_deadline(&ct, scenario_fork_child, t->c.deadline_ms);
		_exit(strcmp(cr->status, "pass") == 0 ? 0 : 1);
	}
	/* Written once the child runs, so its read may have to wait for it. */
	t_write(t, wfd, handover.msg, strlen(handover.msg));

	status = wait_child(child, t->c.deadline_ms);
	if (status == -1) {
		if (!cr->filled) {
			snprintf(cr->status, sizeof cr->status, "fail");
			snprintf(cr->layer, sizeof cr->layer, "timeout");
			snprintf(cr->detail, sizeof cr->detail, "still running at the scenario's deadline, in %s; killed", cr->doing);
			cr->filled = 1;
		}
		t_fail(t, "timeout", "the fork child was still running at the scenario's deadline");
	}
	if (status >= 0 && WIFSIGNALED(status)) {
		snprintf(cr->status, sizeof cr->status, "fail");
		snprintf(cr->layer, sizeof cr->layer, "crash");
		snprintf(cr->detail, sizeof cr->detail, "client crashed: %s in %s", signame(WTERMSIG(status)), cr->doing);
		cr->filled = 1;
		t_fail(t, "guest", "the fork child crashed (its \"%s\" result says where)", FORK_CHILD_NAME);
	}
	if (status < 0 || !WIFEXITED(status) || !cr->filled)
		t_fail(t, "guest", "the fork child ended without a result");
	if (WEXITSTATUS(status) != 0)
		t_fail(t, "data", "the fork child failed a check (its \"%s\" result says which)", FORK_CHILD_NAME);
	CHECK(t);

	memset(buf, GUARD_FILL, sizeof buf);
	n = (uint64_t)OK(t, sc_pread(t, ffd, buf, sizeof buf, 0)).rsys_retval[0];
	expect_bytes(t, "file written by the child through its inherited fd", CHILD_MARK, strlen(CHILD_MARK), buf,
	    n <= sizeof buf ? n : sizeof buf);
	OK(t, sc_close(t, rfd));
	OK(t, sc_close(t, wfd));
	OK(t, sc_close(t, ffd));
	t_unlink(t, path);
	t_rmdir(t, dir);
}
