/*
 * sp.h: one sysproxy client connection, as NetBSD's C client keeps it.
 *
 * Requests are numbered from 1 and sent as raw native structs in one
 * write each; replies are read at this machine's own layout. The server's
 * COPYIN, COPYINSTR, COPYOUT, ANONMMAP and RAISE requests are served from
 * this process's own memory: the address in rsp_copydata is dereferenced
 * as a real pointer. Several requests may be outstanding at once: every
 * wait serves whatever frame comes next and files replies by reqno.
 * Everything read from the server is bounded; nothing it sends can make
 * this code loop forever or read past a received frame.
 */
#ifndef SPRIG_SP_H
#define SPRIG_SP_H

#include <stddef.h>
#include <stdint.h>

#include "netbsd.h"

/* Limits on what the server may make this client read or allocate. */
#define SP_MAXBANNER 96              /* MAXBANNER, NUL included */
#define SP_MAXFRAME (64u << 20)      /* a frame, header included */
#define SP_MAXCOPY (32u << 20)       /* one COPYIN or COPYINSTR reply */
#define SP_MAXMMAP (64u << 20)       /* one ANONMMAP */
#define SP_MAXPEND 64                /* outstanding requests */
#define SP_MAXMAPS 16
#define SP_MAXRAISES 16
#define SP_TRYAGAIN 1000             /* resends after TRYAGAIN */

/* Outcomes of the calls below; SP_OK is 0. */
enum sp_status {
	SP_OK = 0,
	SP_ETIMEOUT = -1,  /* the deadline passed */
	SP_ECLOSED = -2,   /* the connection ended */
	SP_EFRAMING = -3,  /* a frame that cannot be read as one */
	SP_EDECODE = -4,   /* a reply body of the wrong shape */
	SP_ESERVER = -5,   /* the server answered with an ERROR frame */
	SP_EDIAL = -6      /* could not connect */
};

struct sp_reply {
	uint16_t cls, type;
	uint32_t u;
	size_t len;               /* the body's real length */
	unsigned char body[64];   /* its first bytes; replies carry no more */
};

struct sp_pending {
	int used, done;
	uint64_t reqno;
	int syscall;              /* a SYSCALL request, counted in flight */
	uint32_t sysnum;
	struct sp_reply reply;
};

struct sp_mapping {
	void *addr;
	size_t len;
};

struct sp_conn {
	int fd;
	int minor;                /* protocol era: 1 (0.1) or 4 (0.4) */
	uint64_t nextreq;
	int64_t deadline_ms;      /* CLOCK_MONOTONIC milliseconds */
	char banner[SP_MAXBANNER];
	char ostype[32], osrelease[48], machine[48];
	int banner_minor;         /* the banner's minor, -1 if unparsed */
	struct sp_pending pend[SP_MAXPEND];
	int inflight, maxinflight;
	uint32_t last_answered;   /* the syscall whose reply came last */
	unsigned srvreqs[RUMPSP_NTYPES]; /* server requests, by type */
	unsigned resps[RUMPSP_NTYPES];   /* responses received, by type */
	struct sp_mapping maps[SP_MAXMAPS];
	int nmaps;
	uint32_t raised[SP_MAXRAISES];
	int nraised;
	unsigned char pad_fill;   /* fill for argument slot padding */
	/* Where a bad address lives: copies touching it are refused (empty
	 * COPYIN reply, dropped COPYOUT) instead of faulting. */
	const void *bad_lo, *bad_hi;
	/* Called with every syscall number sent. */
	void (*on_syscall)(uint32_t num);
	char err[512];            /* what went wrong, for the last error */
};

/* Monotonic milliseconds and microseconds. */
int64_t sp_now_ms(void);
int64_t sp_now_us(void);

/* Dials url (unix://PATH or tcp://A.B.C.D:PORT) and reads the banner.
 * minor is the protocol era to speak, or 0 to follow the banner. */
int sp_dial(struct sp_conn *c, const char *url, int minor, int64_t deadline_ms);
void sp_close(struct sp_conn *c);

int sp_handshake_guest(struct sp_conn *c, const char *progname);
int sp_handshake_exec(struct sp_conn *c, const char *progname);
int sp_handshake_fork(struct sp_conn *c, const unsigned char cookie[RUMPSP_COOKIE_SIZE], int cancel);
int sp_prefork(struct sp_conn *c, unsigned char cookie[RUMPSP_COOKIE_SIZE]);

/* A syscall: args is the argument struct (NULL, 0 for none). */
int sp_syscall(struct sp_conn *c, uint32_t num, const void *args, size_t len, struct rsp_sysresp *out);

/* The asynchronous pieces sp_syscall is made of. sp_start sends and
 * returns the request number in *reqno; sp_wait serves frames until that
 * request's reply arrives; sp_pump serves what is readable now. */
int sp_start(struct sp_conn *c, uint32_t num, const void *args, size_t len, uint64_t *reqno);
int sp_wait_syscall(struct sp_conn *c, uint64_t reqno, struct rsp_sysresp *out);
int sp_pump(struct sp_conn *c);
int sp_answered(struct sp_conn *c, uint64_t reqno);

/* Host signal for a NetBSD signal number, 0 for none. */
int sp_host_signal(uint32_t nbsig);

const char *sp_status_name(int st);

/* What the client is doing, for a crash report; defined by the program. */
void sprig_doing(const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 1, 2)))
#endif
    ;

#endif
