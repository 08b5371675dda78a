package kern

import (
	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// getpid(2): the pid in retval[0] and the parent's in retval[1], as
// NetBSD returns both.
func sysGetpid(c *call) sp.Result {
	return sp.Result{Retval: [2]uint64{uint64(c.p.pid), uint64(c.p.PPid())}}
}

// getppid(2).
func sysGetppid(c *call) sp.Result { return result(uint64(c.p.PPid()), 0) }

// getuid(2): the real uid in retval[0] and the effective in retval[1].
func sysGetuid(c *call) sp.Result {
	cr := c.p.creds()
	return sp.Result{Retval: [2]uint64{uint64(cr.ruid), uint64(cr.euid)}}
}

// geteuid(2).
func sysGeteuid(c *call) sp.Result { return result(uint64(c.p.creds().euid), 0) }

// getgid(2): the real gid in retval[0] and the effective in retval[1].
func sysGetgid(c *call) sp.Result {
	cr := c.p.creds()
	return sp.Result{Retval: [2]uint64{uint64(cr.rgid), uint64(cr.egid)}}
}

// getegid(2).
func sysGetegid(c *call) sp.Result { return result(uint64(c.p.creds().egid), 0) }

// getgroups(2): gidsetsize, gidset. A size of 0 asks for the count; a
// smaller one than the count is EINVAL; the groups go out as gid_t.
func sysGetgroups(c *call) sp.Result {
	groups := c.p.creds().groups
	size := c.int(0)
	if size == 0 {
		return result(uint64(len(groups)), 0)
	}
	if size < len(groups) {
		return fail(netbsd.EINVAL)
	}
	out := make([]byte, 4*len(groups))
	for i, g := range groups {
		abi.PutUint(c.abi().ByteOrder(), out[4*i:], 4, uint64(g))
	}
	return result(uint64(len(groups)), c.copyOut(c.arg(1), out))
}

// noID is (uid_t)-1 and (gid_t)-1, which the set*id calls never accept as
// an id and chown reads as "leave it".
const noID = ^uint32(0)

// setID changes the process's credentials with fn, which checks and edits
// a copy, as do_setresuid and do_setresgid do.
func (c *call) setID(fn func(cr *cred) netbsd.Errno) sp.Result {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	cr := c.p.cred
	if e := fn(&cr); e != 0 {
		return fail(e)
	}
	c.p.cred = cr
	return done(0)
}

// allowed reports whether a non-root process may take id: one it already
// holds in one of the places NetBSD's flags name.
func allowed(id uint32, held ...uint32) bool {
	for _, h := range held {
		if id == h {
			return true
		}
	}
	return false
}

// setuid(2): uid. Root sets the real, effective and saved uid; anyone
// may take one of the three it holds; otherwise EPERM (setuid(0) by a
// user, among others).
func sysSetuid(c *call) sp.Result {
	uid := uint32(c.arg(0))
	return c.setID(func(cr *cred) netbsd.Errno {
		if uid == noID || (!cr.root() && !allowed(uid, cr.ruid, cr.euid, cr.svuid)) {
			return netbsd.EPERM
		}
		cr.ruid, cr.euid, cr.svuid = uid, uid, uid
		return 0
	})
}

// seteuid(2): euid, which a non-root process may set to its real or
// saved uid.
func sysSeteuid(c *call) sp.Result {
	uid := uint32(c.arg(0))
	return c.setID(func(cr *cred) netbsd.Errno {
		if uid == noID || (!cr.root() && !allowed(uid, cr.ruid, cr.svuid)) {
			return netbsd.EPERM
		}
		cr.euid = uid
		return 0
	})
}

// setgid(2): gid, as setuid for groups; root is the effective uid 0.
func sysSetgid(c *call) sp.Result {
	gid := uint32(c.arg(0))
	return c.setID(func(cr *cred) netbsd.Errno {
		if gid == noID || (!cr.root() && !allowed(gid, cr.rgid, cr.egid, cr.svgid)) {
			return netbsd.EPERM
		}
		cr.rgid, cr.egid, cr.svgid = gid, gid, gid
		return 0
	})
}

// setegid(2): egid, as seteuid for groups.
func sysSetegid(c *call) sp.Result {
	gid := uint32(c.arg(0))
	return c.setID(func(cr *cred) netbsd.Errno {
		if gid == noID || (!cr.root() && !allowed(gid, cr.rgid, cr.svgid)) {
			return netbsd.EPERM
		}
		cr.egid = gid
		return 0
	})
}

// getrlimit(2): which, rlp. An unknown resource is EINVAL.
func sysGetrlimit(c *call) sp.Result {
	which := c.int(0)
	if which < 0 || which >= netbsd.RLIM_NLIMITS {
		return fail(netbsd.EINVAL)
	}
	c.p.mu.Lock()
	lim := c.p.limits[which]
	c.p.mu.Unlock()
	b, err := netbsd.LayoutsFor(c.abi()).Rlimit.Encode(&lim)
	if err != nil {
		return fail(netbsd.EFAULT)
	}
	return done(c.copyOut(c.arg(1), b))
}

// setrlimit(2): which, rlp, as NetBSD's dosetrlimit: the limit is copied
// in first; a soft limit above the hard one is EINVAL; raising the hard
// limit takes root (EPERM); RLIMIT_NOFILE is capped at maxfiles.
func sysSetrlimit(c *call) sp.Result {
	which := c.int(0)
	l := netbsd.LayoutsFor(c.abi()).Rlimit
	b, e := c.copyIn(c.arg(1), l.Size)
	if e != 0 {
		return fail(e)
	}
	if which < 0 || which >= netbsd.RLIM_NLIMITS {
		return fail(netbsd.EINVAL)
	}
	var lim netbsd.Rlimit
	if err := l.Decode(b, &lim); err != nil {
		return fail(netbsd.EFAULT)
	}
	if lim.Cur > lim.Max {
		return fail(netbsd.EINVAL)
	}
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	old := c.p.limits[which]
	if lim == old {
		return done(0)
	}
	if lim.Max > old.Max && !c.p.cred.root() {
		return fail(netbsd.EPERM)
	}
	if which == netbsd.RLIMIT_NOFILE {
		maxFiles := uint64(c.k.cfg.MaxOpenFilesHard)
		lim.Cur, lim.Max = min(lim.Cur, maxFiles), min(lim.Max, maxFiles)
	}
	c.p.limits[which] = lim
	return done(0)
}

// __getlogin(2): namebuf, namelen. The session's login name goes out in
// min(namelen, MAXLOGNAME) bytes, padded with NULs, as NetBSD copies its
// s_login array.
func sysGetlogin(c *call) sp.Result {
	n := int(min(c.arg(1), netbsd.MAXLOGNAME))
	c.k.mu.Lock()
	login := make([]byte, netbsd.MAXLOGNAME)
	copy(login, c.k.login)
	c.k.mu.Unlock()
	return done(c.copyOut(c.arg(0), login[:n]))
}

// __setlogin(2): namebuf. Only root may set it; the name is copied in
// with room for MAXLOGNAME bytes and a NUL (a longer one is EINVAL).
func sysSetlogin(c *call) sp.Result {
	if !c.p.creds().root() {
		return fail(netbsd.EPERM)
	}
	name, e := c.str(c.arg(0), netbsd.MAXLOGNAME+1)
	if e == netbsd.ENAMETOOLONG {
		return fail(netbsd.EINVAL)
	}
	if e != 0 {
		return fail(e)
	}
	c.k.mu.Lock()
	c.k.login = name
	c.k.mu.Unlock()
	return done(0)
}

// sync(2): there is nothing to write back.
func sysSync(c *call) sp.Result { return done(0) }
