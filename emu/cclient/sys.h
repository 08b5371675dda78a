/*
 * sys.h: NetBSD syscalls as a C program on a rump client makes them,
 * each filling its argument struct and sending it raw, and the checks the
 * scenarios build from them.
 */
#ifndef SPRIG_SYS_H
#define SPRIG_SYS_H

#include <stddef.h>
#include <stdint.h>

#include "netbsd.h"
#include "t.h"

/* Every call returns the reply as this machine reads it; a protocol
 * error ends the scenario. */
struct rsp_sysresp sc_call(struct T *t, uint32_t num, const void *args, size_t len);
struct rsp_sysresp sc_read(struct T *t, int fd, void *buf, size_t n);
struct rsp_sysresp sc_write(struct T *t, int fd, const void *buf, size_t n);
struct rsp_sysresp sc_open(struct T *t, const char *path, int flags, nb_mode_t mode);
struct rsp_sysresp sc_close(struct T *t, int fd);
struct rsp_sysresp sc_path(struct T *t, uint32_t num, const char *path); /* unlink, chdir, rmdir */
struct rsp_sysresp sc_mkdir(struct T *t, const char *path, nb_mode_t mode);
struct rsp_sysresp sc_rename(struct T *t, const char *from, const char *to);
struct rsp_sysresp sc_umask(struct T *t, nb_mode_t mask);
struct rsp_sysresp sc_kill(struct T *t, nb_pid_t pid, int sig);
struct rsp_sysresp sc_dup(struct T *t, int fd);
struct rsp_sysresp sc_dup2(struct T *t, int from, int to);
struct rsp_sysresp sc_fcntl(struct T *t, int fd, int cmd, long arg);
struct rsp_sysresp sc_pipe2(struct T *t, int *fildes, int flags);
struct rsp_sysresp sc_pread(struct T *t, int fd, void *buf, size_t n, nb_off_t off);
struct rsp_sysresp sc_pwrite(struct T *t, int fd, const void *buf, size_t n, nb_off_t off);
struct rsp_sysresp sc_lseek(struct T *t, int fd, nb_off_t off, int whence);
struct rsp_sysresp sc_mmap(struct T *t, void *addr, size_t len, int prot, int flags, int fd, nb_off_t pos);
struct rsp_sysresp sc_sysctl(struct T *t, const int *name, unsigned namelen, void *oldv, size_t *oldlenp,
    const void *newv, size_t newlen);
struct rsp_sysresp sc_getcwd(struct T *t, char *buf, size_t len);
struct rsp_sysresp sc_getdents(struct T *t, int fd, char *buf, size_t n);
struct rsp_sysresp sc_mount(struct T *t, const char *type, const char *path, int flags, void *data, size_t len);
struct rsp_sysresp sc_unmount(struct T *t, const char *path, int flags);
struct rsp_sysresp sc_stat(struct T *t, uint32_t num, const char *path, struct nb_stat *st); /* __stat50, __lstat50 */
struct rsp_sysresp sc_fstat(struct T *t, int fd, struct nb_stat *st);

/* OK checks that a call succeeded; FAILS that it failed with exactly
 * want. Both count one check and name the call in a failure. */
#define OK(t, call) t_ok_r((t), (call))
#define FAILS(t, what, want, call) t_fails_r((t), (what), (want), (call))
struct rsp_sysresp t_ok_r(struct T *t, struct rsp_sysresp r);
void t_fails_r(struct T *t, const char *what, int want, struct rsp_sysresp r);
/* FAILS_ONE_OF accepts either errno (a NetBSD-vs-sprig difference). */
void t_fails_either(struct T *t, const char *what, int want1, int want2, struct rsp_sysresp r);

/* The 64-bit off_t lseek returns, over both retval words on 32 bits. */
nb_off_t retval_off(const struct rsp_sysresp *r);

/* Checks that end the scenario with a data failure when they fail. */
void expect_u64(struct T *t, const char *what, uint64_t want, uint64_t got);
void expect_i64(struct T *t, const char *what, int64_t want, int64_t got);
void expect_str(struct T *t, const char *what, const char *want, const char *got);
void expect_bytes(struct T *t, const char *what, const void *want, size_t wn, const void *got, size_t gn);
void expect_errno(struct T *t, const char *what, int want, int got);
void untouched(struct T *t, const char *what, const unsigned char *b, size_t n, unsigned char fill);
void requested(struct T *t, int type, const char *why);

/* Scenario building blocks. */
void t_guest(struct T *t);
nb_pid_t t_getpid(struct T *t);
int t_open(struct T *t, const char *path, int flags, nb_mode_t mode);
void t_write(struct T *t, int fd, const void *p, size_t n);
nb_off_t t_seek(struct T *t, int fd, nb_off_t off, int whence);
long t_fcntl(struct T *t, int fd, int cmd, long arg);
/* A fresh directory of the scenario's own, /tmp/sprig-NAME-PID-N. */
const char *t_freshdir(struct T *t, nb_pid_t pid, char *out, size_t cap);
void t_unlink(struct T *t, const char *path);
void t_rmdir(struct T *t, const char *path);

/* Buffers pre-filled with this; bytes the server must not write keep it. */
#define GUARD_FILL 0xEE
void pattern(unsigned char *p, size_t n, unsigned char seed);

/* struct stat with a guard after it, to catch a server writing more. */
#define STAT_GUARD 32
struct statbuf {
	struct nb_stat st;
	unsigned char guard[STAT_GUARD];
};
struct nb_stat t_fstat(struct T *t, int fd);
struct nb_stat t_statpath(struct T *t, uint32_t call, const char *path);
void stat_same(struct T *t, const char *call, const struct nb_stat *want, const struct nb_stat *got);

#endif
