/*
 * sprig-cclient: a C reference client for the rump sysproxy protocol.
 *
 * It speaks sysproxy as NetBSD's C client does, in this machine's own C
 * ABI (whatever the compiler that built it lays out), and runs sprig's
 * scenarios against a server, printing one JSON line per scenario in the
 * form of sprig's guestapi.Result. Each scenario runs in a forked child,
 * so a crash (a misread pointer dereferenced) is recorded as that
 * scenario's result and the others still run.
 *
 * Usage: sprig-cclient --url unix:///path|tcp://A.B.C.D:PORT
 *        [--scenario NAME]... [--version 0.1|0.4] [--timeout-ms N]
 *        [--destructive] [--pad-fill BYTE] [--list]
 * Exit status: 0 when no scenario failed, 1 when one did, 2 on bad usage.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scenarios.h"
#include "sys.h"

#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS MAP_ANON
#endif

const struct scenario scenarios[] = {
	{"handshake", scenario_handshake, 0},
	{"getpid", scenario_getpid, 0},
	{"file-io", scenario_file_io, 0},
	{"lseek-4g", scenario_lseek_4g, 0},
	{"pread-pwrite", scenario_pread_pwrite, 0},
	{"stat", scenario_stat, 0},
	{"getdents", scenario_getdents, 0},
	{"dirs", scenario_dirs, 0},
	{"cwd", scenario_cwd, 0},
	{"dup-fcntl", scenario_dup_fcntl, 0},
	{"pipe", scenario_pipe, 0},
	{"sysctl", scenario_sysctl, 0},
	{"mmap-anon", scenario_mmap_anon, 0},
	{"kill-raise", scenario_kill_raise, 0},
	{"fork", scenario_fork, 0},
	{"concurrent", scenario_concurrent, 0},
	{"errors", scenario_errors, 0},
	{"efault", scenario_efault, 1},
};
const int nscenarios = sizeof scenarios / sizeof scenarios[0];

void *bad_page;
struct result *fork_child_result;

/* The parent's grace beyond a scenario's own deadline before it kills a
 * child that did not stop by itself. */
#define GRACE_MS 3000

static void usage(void)
{
	fprintf(stderr,
	    "usage: sprig-cclient --url unix:///PATH|tcp://A.B.C.D:PORT [--scenario NAME]...\n"
	    "       [--version 0.1|0.4] [--timeout-ms N] [--destructive] [--pad-fill BYTE] [--list]\n");
	exit(2);
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
	case SIGTRAP: return "SIGTRAP";
	case SIGSYS: return "SIGSYS";
	}
	return fmt("signal %d", s);
}

static void print(const struct result *r)
{
	static char line[8192];
	result_json(r, line, sizeof line);
	fputs(line, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

/* run forks a child for one scenario and reports how it ended. */
static int run(const struct scenario *s, const struct config *cfg, struct result *r)
{
	int64_t start = sp_now_ms(), start_us = sp_now_us();
	int status;
	pid_t pid;

	memset(r, 0, sizeof *r);
	memset(fork_child_result, 0, sizeof *fork_child_result);
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "sprig-cclient: fork: %s\n", strerror(errno));
		exit(3);
	}
	if (pid == 0) {
		static struct T t;
		memset(&t, 0, sizeof t);
		t.name = s->name;
		t.cfg = cfg;
		t.r = r;
		t.c.pad_fill = cfg->pad_fill;
		t.c.bad_lo = bad_page;
		t.c.bad_hi = (const char *)bad_page + sysconf(_SC_PAGESIZE);
		t_run(&t, s->run);
		_exit(0);
	}
	status = wait_child(pid, start + cfg->timeout_ms + GRACE_MS);
	if (status == -1 && !r->filled) {
		snprintf(r->status, sizeof r->status, "fail");
		snprintf(r->layer, sizeof r->layer, "timeout");
		snprintf(r->detail, sizeof r->detail, "the client was still running %d ms past the scenario's deadline, in %s; killed",
		    GRACE_MS, r->doing);
	} else if (status >= 0 && WIFSIGNALED(status) && !r->filled) {
		/* The crash is the result: what the C client really did. */
		snprintf(r->status, sizeof r->status, "fail");
		snprintf(r->layer, sizeof r->layer, "crash");
		snprintf(r->detail, sizeof r->detail, "client crashed: %s in %s", signame(WTERMSIG(status)), r->doing);
	} else if (!r->filled) {
		snprintf(r->status, sizeof r->status, "fail");
		snprintf(r->layer, sizeof r->layer, "guest");
		snprintf(r->detail, sizeof r->detail, "the client ended without a result (status %#x) in %s", status, r->doing);
	}
	if (r->scenario[0] == 0)
		snprintf(r->scenario, sizeof r->scenario, "%s", s->name);
	if (!r->filled)
		r->ms = (double)(sp_now_us() - start_us) / 1000;
	/* A fork child reports just before its parent. */
	if (fork_child_result->started) {
		if (!fork_child_result->filled) {
			snprintf(fork_child_result->status, sizeof fork_child_result->status, "fail");
			snprintf(fork_child_result->layer, sizeof fork_child_result->layer, "guest");
			snprintf(fork_child_result->detail, sizeof fork_child_result->detail,
			    "the fork child left no result (in %s)", fork_child_result->doing);
		}
		print(fork_child_result);
	}
	print(r);
	return strcmp(r->status, "fail") == 0;
}

int main(int argc, char **argv)
{
	struct config cfg;
	const char *want[64];
	int nwant = 0, list = 0, i, j, failed = 0;
	struct result *shared;
	struct sigaction sa;

	memset(&cfg, 0, sizeof cfg);
	cfg.url = getenv("RUMP_SERVER");
	cfg.timeout_ms = 10000;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--list") == 0) {
			list = 1;
		} else if (strcmp(a, "--destructive") == 0) {
			cfg.destructive = 1;
		} else if (v == NULL) {
			usage();
		} else if (strcmp(a, "--url") == 0) {
			cfg.url = v, i++;
		} else if (strcmp(a, "--scenario") == 0) {
			if (nwant == 64)
				usage();
			want[nwant++] = v, i++;
		} else if (strcmp(a, "--version") == 0) {
			if (strcmp(v, "0.1") == 0)
				cfg.minor = 1;
			else if (strcmp(v, "0.4") == 0)
				cfg.minor = 4;
			else
				usage();
			i++;
		} else if (strcmp(a, "--timeout-ms") == 0) {
			cfg.timeout_ms = atoi(v), i++;
			if (cfg.timeout_ms <= 0)
				usage();
		} else if (strcmp(a, "--pad-fill") == 0) {
			cfg.pad_fill = (unsigned char)strtoul(v, NULL, 0), i++;
		} else {
			usage();
		}
	}
	if (list) {
		for (i = 0; i < nscenarios; i++)
			printf("%s%s\n", scenarios[i].name, scenarios[i].destructive ? " (destructive)" : "");
		return 0;
	}
	if (cfg.url == NULL)
		usage();
	for (j = 0; j < nwant; j++) {
		for (i = 0; i < nscenarios && strcmp(scenarios[i].name, want[j]) != 0; i++)
			;
		if (i == nscenarios) {
			fprintf(stderr, "sprig-cclient: no scenario %s (--list names them)\n", want[j]);
			return 2;
		}
		if (scenarios[i].destructive && !cfg.destructive) {
			fprintf(stderr, "sprig-cclient: scenario %s is destructive: add --destructive\n", want[j]);
			return 2;
		}
	}

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* A crash is a result, not a core file. */
	{
		struct rlimit rl = {0, 0};
		setrlimit(RLIMIT_CORE, &rl);
	}
	/* One page no copy may touch: the bad address of efault. */
	bad_page = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* Results live where a crashed child cannot take them with it. */
	shared = mmap(NULL, 2 * sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (bad_page == MAP_FAILED || shared == MAP_FAILED) {
		fprintf(stderr, "sprig-cclient: mmap: %s\n", strerror(errno));
		return 3;
	}
	fork_child_result = &shared[1];
	for (i = 0; i < nscenarios; i++) {
		const struct scenario *s = &scenarios[i];
		int selected = nwant == 0 && (!s->destructive || cfg.destructive);
		for (j = 0; j < nwant; j++)
			if (strcmp(want[j], s->name) == 0)
				selected = 1;
		if (selected)
			failed |= run(s, &cfg, &shared[0]);
	}
	return failed ? 1 : 0;
}
