/*
 * scenarios.h: the scenario table. Names, order and checks follow the
 * Go guests (guest/scenarios, guest/guestapi/manifest.go), written to the
 * server-independent semantics of issue 11: no fd numbers, uids, pids or
 * seeded files assumed, each scenario in a fresh directory of its own.
 */
#ifndef SPRIG_SCENARIOS_H
#define SPRIG_SCENARIOS_H

#include "t.h"

struct scenario {
	const char *name;
	void (*run)(struct T *t);
	int destructive; /* runs only with --destructive */
};

extern const struct scenario scenarios[];
extern const int nscenarios;

/* The fork scenario's child reports under this name, just before it. */
#define FORK_CHILD_NAME "fork-child"

/* The page the client keeps unmapped for bad-pointer scenarios. */
extern void *bad_page;

void scenario_handshake(struct T *t);
void scenario_getpid(struct T *t);
void scenario_file_io(struct T *t);
void scenario_lseek_4g(struct T *t);
void scenario_pread_pwrite(struct T *t);
void scenario_stat(struct T *t);
void scenario_getdents(struct T *t);
void scenario_dirs(struct T *t);
void scenario_cwd(struct T *t);
void scenario_dup_fcntl(struct T *t);
void scenario_pipe(struct T *t);
void scenario_sysctl(struct T *t);
void scenario_mmap_anon(struct T *t);
void scenario_kill_raise(struct T *t);
void scenario_fork(struct T *t);
void scenario_concurrent(struct T *t);
void scenario_errors(struct T *t);
void scenario_efault(struct T *t);

/* Shared with main: the fork child's result slot. */
extern struct result *fork_child_result;

/* Waits for a child process until deadline_ms; returns its wait status,
 * or -1 at the deadline (the child is then killed and reaped). */
int wait_child(int pid, int64_t deadline_ms);

#endif
