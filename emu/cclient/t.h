/*
 * t.h: a running scenario, its checks and its result.
 *
 * Each scenario runs in a forked child process. Its result lives in
 * memory shared with the parent (struct result), so a child that crashes
 * still leaves behind its checks, its syscalls and what it was doing,
 * and the parent reports the crash as that scenario's result. A failed
 * check ends the scenario at once (longjmp back to the runner), as
 * testing.T's FailNow does in the Go guests.
 */
#ifndef SPRIG_T_H
#define SPRIG_T_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include "netbsd.h"
#include "sp.h"

#define RESULT_MAXSYS 64

/* struct result is guestapi.Result, in shared memory. */
struct result {
	int started, filled;
	char scenario[32];
	char status[16];      /* pass, fail, unsupported */
	char layer[24];       /* framing, reply decoding, data, timeout, ... */
	char detail[1024];
	int has_field;
	char f_struct[32], f_path[96], f_call[32], f_expected[256], f_got[256];
	int f_offset, f_size, f_struct_size;
	int checks;
	double ms;
	uint32_t syscalls[RESULT_MAXSYS];
	int nsyscalls;
	char doing[256];      /* the client's last activity, for crash reports */
};

/* Options from the command line. */
struct config {
	const char *url;
	int minor;            /* 0: follow the banner */
	int timeout_ms;
	int destructive;
	unsigned char pad_fill;
};

/* Cleanup a scenario owes the server if it stops early. */
enum { CLEAN_UNLINK, CLEAN_RMDIR, CLEAN_UNMOUNT };
#define T_MAXCLEAN 16

struct T {
	const char *name;
	const struct config *cfg;
	struct result *r;
	struct sp_conn c;
	jmp_buf stop;
	int64_t start_us;
	int dirs;             /* fresh directories made, for unique names */
	int record;           /* record syscalls in r (off during cleanup) */
	struct {
		int kind, done;
		char path[128];
	} clean[T_MAXCLEAN];
	int nclean;
	/* Fork hand-over, set in the fork child. */
	const unsigned char *cookie;
};

/* The scenario the process is running; sprig_doing writes into it. */
extern struct T *cur_t;

/* Ending a scenario (these do not return). */
void t_fail(struct T *t, const char *layer, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
void t_unsupported(struct T *t, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));
void t_fail_sp(struct T *t, const char *what, int st) __attribute__((noreturn));
void t_fail_value(struct T *t, const char *path, const char *expected, const char *got)
    __attribute__((noreturn));
void t_fail_field(struct T *t, const char *call, const char *sname, const char *path,
    size_t off, size_t size, size_t ssize, const char *expected, const char *got)
    __attribute__((noreturn));

/* FAIL_FIELD names a member of a C struct; the compiler places it. */
#define FAIL_FIELD(t, call, sname, type, member, expected, got)                       \
	t_fail_field((t), (call), (sname), #member, offsetof(type, member),           \
	    sizeof(((type *)0)->member), sizeof(type), (expected), (got))

#define CHECK(t) ((t)->r->checks++)

/* Formatting into rotating static buffers, for expected/got strings. */
const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
const char *quote(const void *p, size_t n);

/* Runs one scenario function in this process and fills t->r; the
 * deadline is the configured timeout from now, or deadline_ms. */
void t_run(struct T *t, void (*fn)(struct T *));
void t_run_deadline(struct T *t, void (*fn)(struct T *), int64_t deadline_ms);

/* Cleanup bookkeeping. */
void t_clean_push(struct T *t, int kind, const char *path);
void t_clean_done(struct T *t, int kind, const char *path);

/* JSON line for a result. */
void result_json(const struct result *r, char *out, size_t cap);

#endif
