/*
 * t.c: scenario results, failures and their JSON form (see t.h).
 */
#include "t.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sys.h"

struct T *cur_t;

void sprig_doing(const char *f, ...)
{
	va_list ap;
	if (cur_t == NULL || cur_t->r == NULL)
		return;
	va_start(ap, f);
	vsnprintf(cur_t->r->doing, sizeof cur_t->r->doing, f, ap);
	va_end(ap);
}

const char *fmt(const char *f, ...)
{
	static char bufs[8][512];
	static int next;
	char *b = bufs[next++ % 8];
	va_list ap;
	va_start(ap, f);
	vsnprintf(b, sizeof bufs[0], f, ap);
	va_end(ap);
	return b;
}

/* quote renders bytes as a C-ish quoted string, escaping the unprintable. */
const char *quote(const void *p, size_t n)
{
	static char bufs[4][600];
	static int next;
	char *b = bufs[next++ % 4], *o = b;
	const unsigned char *s = p;
	size_t i;
	*o++ = '"';
	for (i = 0; i < n && o < b + sizeof bufs[0] - 8; i++) {
		if (s[i] == '"' || s[i] == '\\') {
			*o++ = '\\';
			*o++ = (char)s[i];
		} else if (s[i] >= 0x20 && s[i] < 0x7f) {
			*o++ = (char)s[i];
		} else {
			o += sprintf(o, "\\x%02x", s[i]);
		}
	}
	if (i < n)
		o += sprintf(o, "...");
	*o++ = '"';
	*o = 0;
	return b;
}

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

static void finish(struct T *t, const char *status, const char *layer) __attribute__((noreturn));
static void finish(struct T *t, const char *status, const char *layer)
{
	copy(t->r->status, sizeof t->r->status, status);
	copy(t->r->layer, sizeof t->r->layer, layer);
	longjmp(t->stop, 1);
}

void t_fail(struct T *t, const char *layer, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	vsnprintf(t->r->detail, sizeof t->r->detail, f, ap);
	va_end(ap);
	finish(t, "fail", layer);
}

void t_unsupported(struct T *t, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	vsnprintf(t->r->detail, sizeof t->r->detail, f, ap);
	va_end(ap);
	finish(t, "unsupported", "");
}

/* t_fail_sp classifies a protocol error by the layer it broke. */
void t_fail_sp(struct T *t, const char *what, int st)
{
	const char *layer = "framing";
	switch (st) {
	case SP_ETIMEOUT: layer = "timeout"; break;
	case SP_ECLOSED: layer = "disconnect"; break;
	case SP_EDECODE: layer = "reply decoding"; break;
	case SP_EDIAL: layer = "disconnect"; break;
	}
	t_fail(t, layer, "%s: %s", what, t->c.err);
}

void t_fail_value(struct T *t, const char *path, const char *expected, const char *got)
{
	struct result *r = t->r;
	snprintf(r->detail, sizeof r->detail, "%s: expected %s, got %s", path, expected, got);
	r->has_field = 1;
	copy(r->f_struct, sizeof r->f_struct, "");
	copy(r->f_path, sizeof r->f_path, path);
	copy(r->f_call, sizeof r->f_call, t->c.last_answered ? nb_sysname(t->c.last_answered) : "");
	copy(r->f_expected, sizeof r->f_expected, expected);
	copy(r->f_got, sizeof r->f_got, got);
	r->f_offset = r->f_size = r->f_struct_size = 0;
	finish(t, "fail", "data");
}

void t_fail_field(struct T *t, const char *call, const char *sname, const char *path,
    size_t off, size_t size, size_t ssize, const char *expected, const char *got)
{
	struct result *r = t->r;
	if (call && *call)
		snprintf(r->detail, sizeof r->detail, "%s: %s.%s: expected %s, read %s", call, sname, path, expected, got);
	else
		snprintf(r->detail, sizeof r->detail, "%s.%s: expected %s, read %s", sname, path, expected, got);
	r->has_field = 1;
	copy(r->f_struct, sizeof r->f_struct, sname);
	copy(r->f_path, sizeof r->f_path, path);
	copy(r->f_call, sizeof r->f_call, "");
	copy(r->f_expected, sizeof r->f_expected, expected);
	copy(r->f_got, sizeof r->f_got, got);
	r->f_offset = (int)off;
	r->f_size = (int)size;
	r->f_struct_size = (int)ssize;
	finish(t, "fail", "data");
}

/* ---- syscall bookkeeping and cleanup ---- */

static void record_syscall(uint32_t num)
{
	struct result *r;
	int i, j;
	if (cur_t == NULL || !cur_t->record)
		return;
	r = cur_t->r;
	for (i = 0; i < r->nsyscalls && r->syscalls[i] < num; i++)
		;
	if (i < r->nsyscalls && r->syscalls[i] == num)
		return;
	if (r->nsyscalls == RESULT_MAXSYS)
		return;
	for (j = r->nsyscalls; j > i; j--)
		r->syscalls[j] = r->syscalls[j - 1];
	r->syscalls[i] = num;
	r->nsyscalls++;
}

void t_clean_push(struct T *t, int kind, const char *path)
{
	if (t->nclean == T_MAXCLEAN)
		return;
	t->clean[t->nclean].kind = kind;
	t->clean[t->nclean].done = 0;
	copy(t->clean[t->nclean].path, sizeof t->clean[0].path, path);
	t->nclean++;
}

void t_clean_done(struct T *t, int kind, const char *path)
{
	int i;
	for (i = t->nclean - 1; i >= 0; i--)
		if (!t->clean[i].done && t->clean[i].kind == kind && strcmp(t->clean[i].path, path) == 0) {
			t->clean[i].done = 1;
			return;
		}
}

/* cleanup undoes, best effort and unrecorded, what a stopped scenario
 * left on the server: its files, directories and mounts. */
static void cleanup(struct T *t)
{
	int i;
	struct rsp_sysresp r;
	t->record = 0;
	t->c.deadline_ms = sp_now_ms() + 1000;
	for (i = t->nclean - 1; i >= 0; i--) {
		const char *p = t->clean[i].path;
		struct nb_sys_path_args a;
		struct nb_sys_unmount_args u;
		int st = SP_OK;
		if (t->clean[i].done)
			continue;
		memset(&a, 0, sizeof a);
		NB_SCARG(&a, path) = p;
		switch (t->clean[i].kind) {
		case CLEAN_UNLINK: st = sp_syscall(&t->c, NB_SYS_unlink, &a, sizeof a, &r); break;
		case CLEAN_RMDIR: st = sp_syscall(&t->c, NB_SYS_rmdir, &a, sizeof a, &r); break;
		case CLEAN_UNMOUNT:
			memset(&u, 0, sizeof u);
			NB_SCARG(&u, path) = p;
			NB_SCARG(&u, flags) = NB_MNT_FORCE;
			st = sp_syscall(&t->c, NB_SYS_unmount, &u, sizeof u, &r);
			break;
		}
		if (st)
			return;
	}
}

void t_run(struct T *t, void (*fn)(struct T *))
{
	t_run_deadline(t, fn, sp_now_ms() + t->cfg->timeout_ms);
}

void t_run_deadline(struct T *t, void (*fn)(struct T *), int64_t deadline_ms)
{
	struct result *r = t->r;
	int64_t end;
	cur_t = t;
	t->record = 1;
	t->c.on_syscall = record_syscall;
	t->c.fd = -1;
	copy(r->scenario, sizeof r->scenario, t->name);
	copy(r->status, sizeof r->status, "pass");
	r->started = 1;
	t->start_us = sp_now_us();
	if (setjmp(t->stop) == 0) {
		int st = sp_dial(&t->c, t->cfg->url, t->cfg->minor, deadline_ms);
		if (st)
			t_fail_sp(t, "connect", st);
		fn(t);
		copy(r->status, sizeof r->status, "pass");
		copy(r->layer, sizeof r->layer, "");
	} else if (strcmp(r->status, "pass") != 0 && t->c.fd >= 0 && strcmp(r->layer, "framing") != 0 &&
	    strcmp(r->layer, "disconnect") != 0 && strcmp(r->layer, "timeout") != 0) {
		/* A check failed between syscalls: the connection still works. */
		if (setjmp(t->stop) == 0)
			cleanup(t);
	}
	end = sp_now_us();
	r->ms = (double)(end - t->start_us) / 1000;
	sp_close(&t->c);
	r->filled = 1;
}

/* ---- JSON ---- */

static size_t put(char *out, size_t cap, size_t n, const char *s)
{
	size_t l = strlen(s);
	if (n + l < cap) {
		memcpy(out + n, s, l);
		out[n + l] = 0;
	}
	return n + l;
}

static size_t put_str(char *out, size_t cap, size_t n, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char b[8];
	n = put(out, cap, n, "\"");
	for (; *p; p++) {
		if (*p == '"' || *p == '\\') {
			b[0] = '\\';
			b[1] = (char)*p;
			b[2] = 0;
		} else if (*p < 0x20 || *p >= 0x7f) {
			/* Bytes from a confused server need not be UTF-8: escape
			 * them so every line stays valid JSON. */
			snprintf(b, sizeof b, "\\u%04x", *p);
		} else {
			b[0] = (char)*p;
			b[1] = 0;
		}
		n = put(out, cap, n, b);
	}
	return put(out, cap, n, "\"");
}

void result_json(const struct result *r, char *out, size_t cap)
{
	size_t n = 0;
	int i;
	out[0] = 0;
	n = put(out, cap, n, "{\"scenario\":");
	n = put_str(out, cap, n, r->scenario);
	n = put(out, cap, n, ",\"status\":");
	n = put_str(out, cap, n, r->status);
	if (r->layer[0]) {
		n = put(out, cap, n, ",\"layer\":");
		n = put_str(out, cap, n, r->layer);
	}
	if (r->detail[0]) {
		n = put(out, cap, n, ",\"detail\":");
		n = put_str(out, cap, n, r->detail);
	}
	if (r->has_field) {
		n = put(out, cap, n, ",\"field\":{");
		if (r->f_struct[0]) {
			n = put(out, cap, n, "\"struct\":");
			n = put_str(out, cap, n, r->f_struct);
			n = put(out, cap, n, ",");
		}
		n = put(out, cap, n, "\"path\":");
		n = put_str(out, cap, n, r->f_path);
		if (r->f_call[0]) {
			n = put(out, cap, n, ",\"call\":");
			n = put_str(out, cap, n, r->f_call);
		}
		n = put(out, cap, n, ",\"expected\":");
		n = put_str(out, cap, n, r->f_expected);
		n = put(out, cap, n, ",\"got\":");
		n = put_str(out, cap, n, r->f_got);
		n = put(out, cap, n, fmt(",\"client_offset\":%d,\"client_size\":%d,\"client_struct_size\":%d}",
		    r->f_offset, r->f_size, r->f_struct_size));
	}
	n = put(out, cap, n, fmt(",\"checks\":%d,\"ms\":%.3f", r->checks, r->ms));
	if (r->nsyscalls > 0) {
		n = put(out, cap, n, ",\"syscalls\":[");
		for (i = 0; i < r->nsyscalls; i++)
			n = put(out, cap, n, fmt("%s%u", i ? "," : "", (unsigned)r->syscalls[i]));
		n = put(out, cap, n, "]");
	}
	put(out, cap, n, "}");
}

/* ---- names ---- */

const char *nb_errno_name(int e)
{
	switch (e) {
	case 0: return "0 (success)";
	case NB_EPERM: return "EPERM";
	case NB_ENOENT: return "ENOENT";
	case NB_ESRCH: return "ESRCH";
	case NB_EINTR: return "EINTR";
	case NB_EIO: return "EIO";
	case NB_EBADF: return "EBADF";
	case NB_ENOMEM: return "ENOMEM";
	case NB_EACCES: return "EACCES";
	case NB_EFAULT: return "EFAULT";
	case NB_EBUSY: return "EBUSY";
	case NB_EEXIST: return "EEXIST";
	case NB_ENODEV: return "ENODEV";
	case NB_ENOTDIR: return "ENOTDIR";
	case NB_EISDIR: return "EISDIR";
	case NB_EINVAL: return "EINVAL";
	case NB_EMFILE: return "EMFILE";
	case NB_ENOSPC: return "ENOSPC";
	case NB_ESPIPE: return "ESPIPE";
	case NB_EPIPE: return "EPIPE";
	case NB_ERANGE: return "ERANGE";
	case NB_EAGAIN: return "EAGAIN";
	case NB_EOPNOTSUPP: return "EOPNOTSUPP";
	case NB_ENOTCONN: return "ENOTCONN";
	case NB_ENAMETOOLONG: return "ENAMETOOLONG";
	case NB_ENOTEMPTY: return "ENOTEMPTY";
	case NB_ENOSYS: return "ENOSYS";
	case NB_EAUTH: return "EAUTH";
	}
	return fmt("errno %d", e);
}

const char *nb_sysname(uint32_t num)
{
	switch (num) {
	case NB_SYS_read: return "read";
	case NB_SYS_write: return "write";
	case NB_SYS_open: return "open";
	case NB_SYS_close: return "close";
	case NB_SYS_link: return "link";
	case NB_SYS_unlink: return "unlink";
	case NB_SYS_chdir: return "chdir";
	case NB_SYS_getpid: return "getpid";
	case NB_SYS_unmount: return "unmount";
	case NB_SYS_getuid: return "getuid";
	case NB_SYS_kill: return "kill";
	case NB_SYS_getppid: return "getppid";
	case NB_SYS_dup: return "dup";
	case NB_SYS_pipe: return "pipe";
	case NB_SYS_getgid: return "getgid";
	case NB_SYS_umask: return "umask";
	case NB_SYS_dup2: return "dup2";
	case NB_SYS_fcntl: return "fcntl";
	case NB_SYS_rename: return "rename";
	case NB_SYS_mkdir: return "mkdir";
	case NB_SYS_rmdir: return "rmdir";
	case NB_SYS_pread: return "pread";
	case NB_SYS_pwrite: return "pwrite";
	case NB_SYS_mmap: return "mmap";
	case NB_SYS_lseek: return "lseek";
	case NB_SYS_truncate: return "truncate";
	case NB_SYS_ftruncate: return "ftruncate";
	case NB_SYS___sysctl: return "__sysctl";
	case NB_SYS___getcwd: return "__getcwd";
	case NB_SYS___getdents30: return "__getdents30";
	case NB_SYS___mount50: return "__mount50";
	case NB_SYS___stat50: return "__stat50";
	case NB_SYS___fstat50: return "__fstat50";
	case NB_SYS___lstat50: return "__lstat50";
	case NB_SYS_pipe2: return "pipe2";
	}
	return fmt("syscall#%u", (unsigned)num);
}
