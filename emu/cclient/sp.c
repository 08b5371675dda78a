/*
 * sp.c: the sysproxy client connection (see sp.h).
 */
#include "sp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS MAP_ANON
#endif

int64_t sp_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sp_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int fail(struct sp_conn *c, int st, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int fail(struct sp_conn *c, int st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
	return st;
}

const char *sp_status_name(int st)
{
	switch (st) {
	case SP_OK: return "ok";
	case SP_ETIMEOUT: return "timeout";
	case SP_ECLOSED: return "closed";
	case SP_EFRAMING: return "framing";
	case SP_EDECODE: return "decoding";
	case SP_ESERVER: return "server error";
	case SP_EDIAL: return "dial";
	}
	return "unknown";
}

static const char *type_name(unsigned t)
{
	static const char *names[RUMPSP_NTYPES] = {
		"HANDSHAKE", "SYSCALL", "COPYIN", "COPYINSTR", "COPYOUT",
		"COPYOUTSTR", "ANONMMAP", "PREFORK", "RAISE",
	};
	return t < RUMPSP_NTYPES ? names[t] : "unknown type";
}

static const char *error_name(int minor, uint32_t code)
{
	static const char *names[] = {
		"NONE", "TRYAGAIN", "AUTH", "INVALID_PREFORK", "RFORK_FAILED",
		"INEXEC", "NOMEM", "MALFORMED_REQUEST",
	};
	if (minor == 1)
		return nb_errno_name((int)code); /* 0.1 sends raw errno values */
	return code < sizeof names / sizeof names[0] ? names[code] : "unknown code";
}

/* ---- bounded socket I/O with the connection's deadline ---- */

static int wait_fd(struct sp_conn *c, short events, const char *what)
{
	for (;;) {
		int64_t left = c->deadline_ms - sp_now_ms();
		struct pollfd p;
		int n;
		if (left <= 0)
			return fail(c, SP_ETIMEOUT, "%s: timed out", what);
		p.fd = c->fd;
		p.events = events;
		p.revents = 0;
		n = poll(&p, 1, left > 1000 ? 1000 : (int)left);
		if (n < 0 && errno != EINTR)
			return fail(c, SP_ECLOSED, "%s: poll: %s", what, strerror(errno));
		if (n > 0)
			return SP_OK;
	}
}

static int read_full(struct sp_conn *c, void *buf, size_t n, const char *what)
{
	unsigned char *p = buf;
	while (n > 0) {
		ssize_t r;
		int st = wait_fd(c, POLLIN, what);
		if (st)
			return st;
		r = read(c->fd, p, n);
		if (r == 0)
			return fail(c, SP_ECLOSED, "%s: the server closed the connection", what);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			return fail(c, SP_ECLOSED, "%s: %s", what, strerror(errno));
		}
		p += r;
		n -= (size_t)r;
	}
	return SP_OK;
}

static int write_full(struct sp_conn *c, const void *buf, size_t n, const char *what)
{
	const unsigned char *p = buf;
	while (n > 0) {
		ssize_t r;
		int st = wait_fd(c, POLLOUT, what);
		if (st)
			return st;
		r = send(c->fd, p, n, MSG_NOSIGNAL);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			return fail(c, SP_ECLOSED, "%s: %s", what, strerror(errno));
		}
		p += r;
		n -= (size_t)r;
	}
	return SP_OK;
}

/* send_frame writes header and body in one write, as old peers need. */
static int send_frame(struct sp_conn *c, uint16_t cls, uint16_t type, uint32_t u,
    uint64_t reqno, const void *body, size_t blen)
{
	struct rsp_hdr h;
	unsigned char *f;
	int st;
	memset(&h, 0, sizeof h);
	h.rsp_len = sizeof h + blen;
	h.rsp_reqno = reqno;
	h.rsp_class = cls;
	h.rsp_type = type;
	h.rsp_u = u;
	f = malloc(sizeof h + blen);
	if (f == NULL)
		return fail(c, SP_EFRAMING, "out of memory for a %zu-byte frame", blen);
	memcpy(f, &h, sizeof h);
	if (blen > 0)
		memcpy(f + sizeof h, body, blen);
	st = write_full(c, f, sizeof h + blen, type_name(type));
	free(f);
	return st;
}

/* ---- dialing and the banner ---- */

static int parse_banner(struct sp_conn *c)
{
	/* RUMPSP-<major>.<minor>-<ostype>-<osrelease>/<machine>[ ext]\n */
	const char *b = c->banner, *p, *q;
	size_t n;
	c->banner_minor = -1;
	if (strncmp(b, "RUMPSP-", 7) != 0)
		return -1;
	p = b + 7;
	if (p[0] != '0' || p[1] != '.')
		return -1;
	c->banner_minor = atoi(p + 2);
	p = strchr(p, '-');
	if (p == NULL)
		return -1;
	p++;
	q = strchr(p, '-');
	if (q == NULL || (n = (size_t)(q - p)) >= sizeof c->ostype)
		return -1;
	memcpy(c->ostype, p, n);
	c->ostype[n] = 0;
	p = q + 1;
	q = strchr(p, '/');
	if (q == NULL || (n = (size_t)(q - p)) >= sizeof c->osrelease)
		return -1;
	memcpy(c->osrelease, p, n);
	c->osrelease[n] = 0;
	p = q + 1;
	n = strcspn(p, " \n");
	if (n >= sizeof c->machine)
		return -1;
	memcpy(c->machine, p, n);
	c->machine[n] = 0;
	return 0;
}

static int connect_deadline(struct sp_conn *c, const struct sockaddr *sa, socklen_t len)
{
	int err = 0;
	socklen_t elen = sizeof err;
	int st;
	if (connect(c->fd, sa, len) == 0)
		return SP_OK;
	if (errno != EINPROGRESS && errno != EAGAIN && errno != EINTR)
		return fail(c, SP_EDIAL, "connect: %s", strerror(errno));
	st = wait_fd(c, POLLOUT, "connect");
	if (st)
		return st;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err != 0)
		return fail(c, SP_EDIAL, "connect: %s", strerror(err ? err : errno));
	return SP_OK;
}

int sp_dial(struct sp_conn *c, const char *url, int minor, int64_t deadline_ms)
{
	int st;
	ssize_t n;
	unsigned char pad = c->pad_fill;
	const void *lo = c->bad_lo, *hi = c->bad_hi;
	void (*hook)(uint32_t) = c->on_syscall;

	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->nextreq = 1; /* the C client's first request (the handshake) is 1 */
	c->deadline_ms = deadline_ms;
	c->pad_fill = pad;
	c->bad_lo = lo;
	c->bad_hi = hi;
	c->on_syscall = hook;
	sprig_doing("dialing %s", url);

	if (strncmp(url, "unix://", 7) == 0) {
		struct sockaddr_un sun;
		const char *path = url + 7;
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		if (strlen(path) == 0 || strlen(path) >= sizeof sun.sun_path)
			return fail(c, SP_EDIAL, "%s: the path does not fit sun_path (%zu bytes)", url, sizeof sun.sun_path);
		strcpy(sun.sun_path, path);
		c->fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (c->fd < 0)
			return fail(c, SP_EDIAL, "socket: %s", strerror(errno));
		fcntl(c->fd, F_SETFL, O_NONBLOCK);
		st = connect_deadline(c, (struct sockaddr *)&sun, sizeof sun);
	} else if (strncmp(url, "tcp://", 6) == 0) {
		struct sockaddr_in sin;
		char host[32];
		const char *hp = url + 6, *colon = strrchr(hp, ':');
		char *end;
		long port;
		int one = 1;
		if (colon == NULL || (size_t)(colon - hp) >= sizeof host)
			return fail(c, SP_EDIAL, "%s: want tcp://A.B.C.D:PORT", url);
		memcpy(host, hp, (size_t)(colon - hp));
		host[colon - hp] = 0;
		port = strtol(colon + 1, &end, 10);
		if (end == colon + 1 || (*end != 0 && strcmp(end, "/") != 0) || port < 0 || port > 65535)
			return fail(c, SP_EDIAL, "%s: bad port", url);
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
			return fail(c, SP_EDIAL, "%s: %s is not a dotted-quad IPv4 address", url, host);
		c->fd = socket(AF_INET, SOCK_STREAM, 0);
		if (c->fd < 0)
			return fail(c, SP_EDIAL, "socket: %s", strerror(errno));
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		fcntl(c->fd, F_SETFL, O_NONBLOCK);
		st = connect_deadline(c, (struct sockaddr *)&sin, sizeof sin);
	} else {
		return fail(c, SP_EDIAL, "%s: unknown scheme (want unix:// or tcp://)", url);
	}
	if (st)
		return st;

	/* The C client does one read and checks only the final newline. */
	sprig_doing("reading the banner");
	st = wait_fd(c, POLLIN, "banner");
	if (st)
		return st;
	do
		n = read(c->fd, c->banner, sizeof c->banner - 1);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return fail(c, SP_ECLOSED, "banner: %s", n == 0 ? "the server closed the connection" : strerror(errno));
	c->banner[n] = 0;
	if (c->banner[n - 1] != '\n')
		return fail(c, SP_EFRAMING, "banner: %zd bytes not ending in a newline", n);
	parse_banner(c);
	if (minor == 0)
		minor = c->banner_minor == 1 ? 1 : 4;
	c->minor = minor;
	return SP_OK;
}

void sp_close(struct sp_conn *c)
{
	int i;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	for (i = 0; i < SP_MAXPEND; i++)
		c->pend[i].used = 0;
}

/* ---- serving the server's requests from this process's memory ---- */

static int overlaps_bad(struct sp_conn *c, const void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr, lo = (uintptr_t)c->bad_lo, hi = (uintptr_t)c->bad_hi;
	if (lo == hi)
		return 0;
	return a < hi && (len == 0 ? a + 1 : a + len) > lo;
}

static int serve_copyin(struct sp_conn *c, const struct rsp_hdr *h, const unsigned char *body, size_t blen)
{
	struct rsp_copydata cd;
	const char *addr;
	size_t n;
	unsigned char *f;
	struct rsp_hdr rh;
	int st, str = h->rsp_type == RUMPSP_COPYINSTR;

	/* Read at this machine's layout; bytes the frame lacks read as zero. */
	memset(&cd, 0, sizeof cd);
	memcpy(&cd, body, blen < sizeof cd ? blen : sizeof cd);
	addr = cd.rcp_addr;
	if (!str && cd.rcp_len > SP_MAXCOPY)
		return fail(c, SP_EFRAMING, "COPYIN of %zu bytes at %p: more than the client's limit of %u",
		    cd.rcp_len, cd.rcp_addr, SP_MAXCOPY);
	if (overlaps_bad(c, addr, cd.rcp_len)) {
		n = 0; /* an address this client cannot read: nothing to send */
	} else if (str) {
		sprig_doing("serving a COPYINSTR request (strnlen of up to %zu bytes at %p)", cd.rcp_len, cd.rcp_addr);
		n = strnlen(addr, cd.rcp_len < SP_MAXCOPY ? cd.rcp_len : SP_MAXCOPY);
		if (n < cd.rcp_len)
			n++; /* the NUL */
	} else {
		n = cd.rcp_len;
	}
	sprig_doing("serving a %s request (copying %zu bytes from %p)", type_name(h->rsp_type), n, cd.rcp_addr);
	f = malloc(sizeof rh + n);
	if (f == NULL)
		return fail(c, SP_EFRAMING, "out of memory for a %zu-byte COPYIN reply", n);
	memset(&rh, 0, sizeof rh);
	rh.rsp_len = sizeof rh + n;
	rh.rsp_reqno = h->rsp_reqno;
	rh.rsp_class = RUMPSP_RESP;
	rh.rsp_type = RUMPSP_COPYIN; /* COPYIN even for COPYINSTR */
	memcpy(f, &rh, sizeof rh);
	if (n > 0)
		memcpy(f + sizeof rh, addr, n);
	sprig_doing("sending a COPYIN reply");
	st = write_full(c, f, sizeof rh + n, "COPYIN reply");
	free(f);
	return st;
}

static int serve_copyout(struct sp_conn *c, const struct rsp_hdr *h, const unsigned char *body, size_t blen)
{
	struct rsp_copydata cd;
	size_t off = offsetof(struct rsp_copydata, rcp_data);
	size_t avail = blen > off ? blen - off : 0;
	memset(&cd, 0, sizeof cd);
	memcpy(&cd, body, blen < sizeof cd ? blen : sizeof cd);
	if (cd.rcp_len > avail)
		return fail(c, SP_EFRAMING, "%s of %zu bytes to %p, but the frame carries %zu",
		    type_name(h->rsp_type), cd.rcp_len, cd.rcp_addr, avail);
	if (overlaps_bad(c, cd.rcp_addr, cd.rcp_len))
		return SP_OK; /* lost without a trace, as on a real client */
	sprig_doing("serving a %s request (storing %zu bytes at %p)", type_name(h->rsp_type), cd.rcp_len, cd.rcp_addr);
	if (cd.rcp_len > 0)
		memcpy(cd.rcp_addr, body + off, cd.rcp_len);
	return SP_OK;
}

static int serve_anonmmap(struct sp_conn *c, const struct rsp_hdr *h, const unsigned char *body, size_t blen)
{
	size_t len = 0;
	void *p = NULL;
	memcpy(&len, body, blen < sizeof len ? blen : sizeof len);
	sprig_doing("serving an ANONMMAP request of %zu bytes", len);
	if (len > 0 && len <= SP_MAXMMAP) {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			p = NULL;
	}
	if (p != NULL && c->nmaps < SP_MAXMAPS) {
		c->maps[c->nmaps].addr = p;
		c->maps[c->nmaps].len = len;
		c->nmaps++;
	}
	return send_frame(c, RUMPSP_RESP, RUMPSP_ANONMMAP, 0, h->rsp_reqno, &p, sizeof p);
}

int sp_host_signal(uint32_t nbsig)
{
	/* NetBSD's numbers differ from the host's above 6. */
	switch (nbsig) {
	case 1: return SIGHUP;
	case 2: return SIGINT;
	case 3: return SIGQUIT;
	case 13: return SIGPIPE;
	case 14: return SIGALRM;
	case 15: return SIGTERM;
	case 30: return SIGUSR1;
	case 31: return SIGUSR2;
	}
	return 0;
}

static int serve_raise(struct sp_conn *c, const struct rsp_hdr *h)
{
	int s = sp_host_signal(h->rsp_u);
	if (c->nraised < SP_MAXRAISES)
		c->raised[c->nraised++] = h->rsp_u;
	sprig_doing("serving a RAISE of signal %u", (unsigned)h->rsp_u);
	if (s != 0)
		raise(s);
	return SP_OK;
}

static struct sp_pending *find_pending(struct sp_conn *c, uint64_t reqno)
{
	int i;
	for (i = 0; i < SP_MAXPEND; i++)
		if (c->pend[i].used && c->pend[i].reqno == reqno)
			return &c->pend[i];
	return NULL;
}

/* dispatch handles one frame from the server. */
static int dispatch(struct sp_conn *c, const struct rsp_hdr *h, const unsigned char *body, size_t blen)
{
	struct sp_pending *p;
	if (h->rsp_class == RUMPSP_REQ) {
		if (h->rsp_type < RUMPSP_NTYPES)
			c->srvreqs[h->rsp_type]++;
		switch (h->rsp_type) {
		case RUMPSP_COPYIN:
		case RUMPSP_COPYINSTR:
			return serve_copyin(c, h, body, blen);
		case RUMPSP_COPYOUT:
		case RUMPSP_COPYOUTSTR:
			return serve_copyout(c, h, body, blen);
		case RUMPSP_ANONMMAP:
			return serve_anonmmap(c, h, body, blen);
		case RUMPSP_RAISE:
			return serve_raise(c, h);
		}
		return fail(c, SP_EFRAMING, "the server sent a request of type %u (%s), which no client serves",
		    (unsigned)h->rsp_type, type_name(h->rsp_type));
	}
	if (h->rsp_class != RUMPSP_RESP && h->rsp_class != RUMPSP_ERROR)
		return SP_OK; /* no answer to anything: ignore, never loop on it */
	p = find_pending(c, h->rsp_reqno);
	if (p == NULL || p->done)
		return SP_OK; /* a reply to nothing outstanding */
	if (h->rsp_class == RUMPSP_RESP && h->rsp_type < RUMPSP_NTYPES)
		c->resps[h->rsp_type]++;
	p->done = 1;
	p->reply.cls = h->rsp_class;
	p->reply.type = h->rsp_type;
	p->reply.u = h->rsp_u;
	p->reply.len = blen;
	memset(p->reply.body, 0, sizeof p->reply.body);
	memcpy(p->reply.body, body, blen < sizeof p->reply.body ? blen : sizeof p->reply.body);
	if (p->syscall) {
		c->inflight--;
		c->last_answered = p->sysnum;
	}
	return SP_OK;
}

static int read_one(struct sp_conn *c)
{
	struct rsp_hdr h;
	unsigned char *body = NULL;
	size_t blen;
	int st;
	sprig_doing("reading a frame header");
	st = read_full(c, &h, sizeof h, "frame header");
	if (st)
		return st;
	if (h.rsp_len < sizeof h || h.rsp_len > SP_MAXFRAME)
		return fail(c, SP_EFRAMING, "a frame of %llu bytes (class %u, type %u): want %zu to %u",
		    (unsigned long long)h.rsp_len, (unsigned)h.rsp_class, (unsigned)h.rsp_type, sizeof h, SP_MAXFRAME);
	blen = (size_t)(h.rsp_len - sizeof h);
	if (blen > 0) {
		body = malloc(blen);
		if (body == NULL)
			return fail(c, SP_EFRAMING, "out of memory for a %zu-byte frame body", blen);
		sprig_doing("reading a %zu-byte %s body", blen, type_name(h.rsp_type));
		st = read_full(c, body, blen, "frame body");
	}
	if (st == SP_OK)
		st = dispatch(c, &h, body, blen);
	free(body);
	return st;
}

/* ---- requests ---- */

static int start(struct sp_conn *c, uint16_t type, uint32_t u, const void *body, size_t blen,
    int syscall, uint64_t *reqno)
{
	int i, st;
	struct sp_pending *p = NULL;
	for (i = 0; i < SP_MAXPEND; i++)
		if (!c->pend[i].used) {
			p = &c->pend[i];
			break;
		}
	if (p == NULL)
		return fail(c, SP_EFRAMING, "more than %d requests outstanding", SP_MAXPEND);
	memset(p, 0, sizeof *p);
	p->used = 1;
	p->reqno = c->nextreq++;
	p->syscall = syscall;
	p->sysnum = u;
	if (syscall) {
		if (c->on_syscall)
			c->on_syscall(u);
		c->inflight++;
		if (c->inflight > c->maxinflight)
			c->maxinflight = c->inflight;
	}
	st = send_frame(c, RUMPSP_REQ, type, u, p->reqno, body, blen);
	if (st) {
		p->used = 0;
		return st;
	}
	*reqno = p->reqno;
	return SP_OK;
}

/* wait serves frames until reqno is answered, then frees its slot. */
static int wait_reply(struct sp_conn *c, uint64_t reqno, struct sp_reply *out)
{
	struct sp_pending *p = find_pending(c, reqno);
	int st;
	if (p == NULL)
		return fail(c, SP_EFRAMING, "waiting for request %llu, which is not outstanding", (unsigned long long)reqno);
	while (!p->done) {
		st = read_one(c);
		if (st)
			return st;
	}
	*out = p->reply;
	p->used = 0;
	return SP_OK;
}

int sp_answered(struct sp_conn *c, uint64_t reqno)
{
	struct sp_pending *p = find_pending(c, reqno);
	return p != NULL && p->done;
}

int sp_pump(struct sp_conn *c)
{
	for (;;) {
		struct pollfd pf;
		int n, st;
		pf.fd = c->fd;
		pf.events = POLLIN;
		pf.revents = 0;
		n = poll(&pf, 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return SP_OK;
		st = read_one(c);
		if (st)
			return st;
	}
}

static int server_error(struct sp_conn *c, const char *what, const struct sp_reply *r)
{
	return fail(c, SP_ESERVER, "%s: the server answered ERROR %u (%s)", what, (unsigned)r->u, error_name(c->minor, r->u));
}

static int handshake(struct sp_conn *c, uint32_t kind, const void *body, size_t blen, const char *what)
{
	uint64_t reqno;
	struct sp_reply r;
	int v = 0;
	int st;
	sprig_doing("%s handshake", what);
	st = start(c, RUMPSP_HANDSHAKE, kind, body, blen, 0, &reqno);
	if (st == SP_OK)
		st = wait_reply(c, reqno, &r);
	if (st)
		return st;
	if (r.cls == RUMPSP_ERROR)
		return server_error(c, what, &r);
	if (r.type != RUMPSP_HANDSHAKE)
		return fail(c, SP_EDECODE, "%s handshake: answered with a %s response", what, type_name(r.type));
	if (r.len < sizeof v)
		return fail(c, SP_EDECODE, "%s handshake: a %zu-byte reply body, want a %zu-byte int", what, r.len, sizeof v);
	memcpy(&v, r.body, sizeof v);
	if (v != 0)
		return fail(c, SP_ESERVER, "%s handshake: the server answered %d", what, v);
	return SP_OK;
}

int sp_handshake_guest(struct sp_conn *c, const char *progname)
{
	/* 0.1 sends an empty body; 0.4 the program name and its NUL. */
	if (c->minor == 1)
		return handshake(c, HANDSHAKE_GUEST, NULL, 0, "GUEST");
	return handshake(c, HANDSHAKE_GUEST, progname, strlen(progname) + 1, "GUEST");
}

int sp_handshake_exec(struct sp_conn *c, const char *progname)
{
	return handshake(c, HANDSHAKE_EXEC, progname, strlen(progname) + 1, "EXEC");
}

int sp_handshake_fork(struct sp_conn *c, const unsigned char cookie[RUMPSP_COOKIE_SIZE], int cancel)
{
	struct handshake_fork hf;
	memset(&hf, 0, sizeof hf);
	memcpy(hf.rf_auth, cookie, sizeof hf.rf_auth);
	hf.rf_cancel = cancel;
	return handshake(c, HANDSHAKE_FORK, &hf, sizeof hf, "FORK");
}

int sp_prefork(struct sp_conn *c, unsigned char cookie[RUMPSP_COOKIE_SIZE])
{
	uint64_t reqno;
	struct sp_reply r;
	int st;
	sprig_doing("PREFORK");
	st = start(c, RUMPSP_PREFORK, 0, NULL, 0, 0, &reqno);
	if (st == SP_OK)
		st = wait_reply(c, reqno, &r);
	if (st)
		return st;
	if (r.cls == RUMPSP_ERROR)
		return server_error(c, "PREFORK", &r);
	if (r.type != RUMPSP_PREFORK || r.len < RUMPSP_COOKIE_SIZE)
		return fail(c, SP_EDECODE, "PREFORK: a %zu-byte %s reply, want a %d-byte cookie", r.len, type_name(r.type), RUMPSP_COOKIE_SIZE);
	memcpy(cookie, r.body, RUMPSP_COOKIE_SIZE);
	return SP_OK;
}

int sp_start(struct sp_conn *c, uint32_t num, const void *args, size_t len, uint64_t *reqno)
{
	sprig_doing("sending %s", nb_sysname(num));
	return start(c, RUMPSP_SYSCALL, num, args, len, 1, reqno);
}

int sp_wait_syscall(struct sp_conn *c, uint64_t reqno, struct rsp_sysresp *out)
{
	struct sp_reply r;
	struct sp_pending *p = find_pending(c, reqno);
	uint32_t num = p ? p->sysnum : 0;
	int st = wait_reply(c, reqno, &r);
	if (st)
		return st;
	if (r.cls == RUMPSP_ERROR)
		return server_error(c, nb_sysname(num), &r);
	if (r.type != RUMPSP_SYSCALL)
		return fail(c, SP_EDECODE, "%s: answered with a %s response", nb_sysname(num), type_name(r.type));
	/* The reply is read at this machine's layout whatever its length, as
	 * the C client reads it; bytes the body lacks read as zero. */
	memset(out, 0, sizeof *out);
	memcpy(out, r.body, r.len < sizeof *out ? r.len : sizeof *out);
	return SP_OK;
}

int sp_syscall(struct sp_conn *c, uint32_t num, const void *args, size_t len, struct rsp_sysresp *out)
{
	int try;
	for (try = 0;; try++) {
		uint64_t reqno;
		struct sp_reply r;
		struct sp_pending *p;
		int st = sp_start(c, num, args, len, &reqno);
		if (st)
			return st;
		p = find_pending(c, reqno);
		while (!p->done) {
			st = read_one(c);
			if (st)
				return st;
		}
		r = p->reply;
		/* TRYAGAIN (0.4): the server had no worker; send it again. */
		if (r.cls == RUMPSP_ERROR && c->minor == 4 && r.u == RUMPSP_ERR_TRYAGAIN && try < SP_TRYAGAIN) {
			struct timespec ts = {0, 100000L * (try < 50 ? try + 1 : 50)};
			p->used = 0;
			nanosleep(&ts, NULL);
			continue;
		}
		return sp_wait_syscall(c, reqno, out);
	}
}
