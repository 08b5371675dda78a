package kern_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
)

func TestSetIDsFollowNetBSDsRules(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		steps := []struct {
			name     string
			num      netbsd.Sysno
			id       uint64
			errno    netbsd.Errno
			uid, gid [2]uint64 // real and effective, afterwards
		}{
			{"root sets the effective gid", netbsd.SYS_setegid, 20, 0, [2]uint64{0, 0}, [2]uint64{0, 20}},
			{"root sets the effective uid", netbsd.SYS_seteuid, 10, 0, [2]uint64{0, 10}, [2]uint64{0, 20}},
			{"a user may go back to its real uid", netbsd.SYS_seteuid, 0, 0, [2]uint64{0, 0}, [2]uint64{0, 20}},
			{"(uid_t)-1 is never an id", netbsd.SYS_setuid, 0xffffffff, netbsd.EPERM, [2]uint64{0, 0}, [2]uint64{0, 20}},
			{"setgid sets real and effective", netbsd.SYS_setgid, 30, 0, [2]uint64{0, 0}, [2]uint64{30, 30}},
			{"setuid sets real, effective and saved", netbsd.SYS_setuid, 1000, 0, [2]uint64{1000, 1000}, [2]uint64{30, 30}},
			{"now a user: setuid(0) is EPERM", netbsd.SYS_setuid, 0, netbsd.EPERM, [2]uint64{1000, 1000}, [2]uint64{30, 30}},
			{"seteuid to another uid is EPERM", netbsd.SYS_seteuid, 10, netbsd.EPERM, [2]uint64{1000, 1000}, [2]uint64{30, 30}},
			{"setgid to another group is EPERM", netbsd.SYS_setgid, 31, netbsd.EPERM, [2]uint64{1000, 1000}, [2]uint64{30, 30}},
			{"setuid to its own uid works", netbsd.SYS_setuid, 1000, 0, [2]uint64{1000, 1000}, [2]uint64{30, 30}},
		}
		for _, s := range steps {
			t.Run(s.name, func(t *testing.T) {
				e := e.with(t)
				assert.Equal(t, s.errno, e.errno(s.num, s.id))
				assert.Equal(t, s.uid, e.call(netbsd.SYS_getuid).Retval)
				assert.Equal(t, s.gid, e.call(netbsd.SYS_getgid).Retval)
			})
		}
	})
}

func TestResourceLimitsBoundDescriptors(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		l := netbsd.LayoutsFor(e.abi()).Rlimit
		set := func(which int, cur, max uint64) netbsd.Errno {
			b, err := l.Encode(&netbsd.Rlimit{Cur: cur, Max: max})
			require.NoError(t, err)
			return e.errno(netbsd.SYS_setrlimit, uint64(which), e.bytes(b))
		}
		get := func(which int) netbsd.Rlimit {
			b := e.buf(l.Size)
			e.ok(netbsd.SYS_getrlimit, uint64(which), b)
			var lim netbsd.Rlimit
			require.NoError(t, l.Decode(e.mem.Read(b, l.Size), &lim))
			return lim
		}
		assert.Equal(t, netbsd.EINVAL, set(netbsd.RLIMIT_NOFILE, 200, 100), "a soft limit above the hard one")
		assert.Equal(t, netbsd.EINVAL, set(netbsd.RLIM_NLIMITS, 1, 1), "an unknown resource")
		assert.Equal(t, netbsd.EINVAL, e.errno(netbsd.SYS_getrlimit, netbsd.RLIM_NLIMITS, e.buf(16)))
		assert.Equal(t, netbsd.RLIM_INFINITY, get(netbsd.RLIMIT_CPU).Cur, "other limits limit nothing")
		require.Zero(t, set(netbsd.RLIMIT_NOFILE, 300, 5000))
		assert.Equal(t, netbsd.Rlimit{Cur: 300, Max: 1772}, get(netbsd.RLIMIT_NOFILE), "capped at maxfiles")
		assert.Equal(t, uint64(299), e.ok(netbsd.SYS_dup2, 0, 299), "the soft limit bounds descriptors")
		assert.Equal(t, netbsd.EBADF, e.errno(netbsd.SYS_dup2, 0, 300))
		e.ok(netbsd.SYS_setuid, user)
		assert.Zero(t, set(netbsd.RLIMIT_NOFILE, 300, 1772), "an unchanged limit needs no right")
		require.Zero(t, set(netbsd.RLIMIT_NOFILE, 64, 100), "a user may lower its limits")
		assert.Equal(t, netbsd.EPERM, set(netbsd.RLIMIT_NOFILE, 64, 200), "but not raise the hard one again")
		assert.Equal(t, netbsd.EBADF, e.errno(netbsd.SYS_dup2, 0, 64))
		assert.Equal(t, netbsd.EINVAL, e.errno(netbsd.SYS_fcntl, 0, netbsd.F_DUPFD, 64), "F_DUPFD's minimum must be below it")
		e.ok(netbsd.SYS_close, 299) // a descriptor above the limit stays open until closed
	})
}

func TestGroupsAndLoginAsNetBSD(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		assert.Equal(t, uint64(0), e.ok(netbsd.SYS_getgroups, 4, e.buf(16)), "no supplementary groups")
		assert.Equal(t, netbsd.EINVAL, e.errno(netbsd.SYS___setlogin, e.str("a-login-name-of-17b")), "longer than MAXLOGNAME")
		e.ok(netbsd.SYS___setlogin, e.str("sixteen-byte-nam"))
		b := e.bytes([]byte("xxxxxxxxxxxxxxxxxxxx"))
		e.ok(netbsd.SYS___getlogin, b, 20)
		assert.Equal(t, "sixteen-byte-namxxxx", string(e.mem.Read(b, 20)), "MAXLOGNAME bytes, no NUL when full")
		e.ok(netbsd.SYS___getlogin, b, 3)
		assert.Equal(t, "six", string(e.mem.Read(b, 3)))
		other, otherMem := e.dial()
		require.NoError(t, other.HandshakeGuest(e.ctx))
		ob := otherMem.Alloc(16, nil)
		require.Zero(t, callOn(t, e.ctx, other, netbsd.SYS___getlogin, ob, 16).Errno)
		assert.Equal(t, "sixteen-byte-nam", string(otherMem.Read(ob, 16)), "every rump process shares proc0's session")
		e.ok(netbsd.SYS_setuid, user)
		assert.Equal(t, netbsd.EPERM, e.errno(netbsd.SYS___setlogin, e.str("user")), "only root sets the login")
	})
}

func TestOwnersModesAndTimesNeedTheRightCredentials(t *testing.T) {
	forEachTmpfsSetup(t, nil, func(t *testing.T, e *env) {
		e.ok(netbsd.SYS_umask, 0)
		e.create("/tmp/roots", "")
		e.ok(netbsd.SYS_chmod, e.str("/tmp/roots"), 0o6666)
		e.ok(netbsd.SYS_chown, e.str("/tmp/roots"), 5, 0xffffffff)
		assert.Equal(t, uint32(netbsd.S_IFREG|0o2666), e.statPath("/tmp/roots").Mode, "a new owner clears setuid, even by root")
		e.ok(netbsd.SYS_chown, e.str("/tmp/roots"), 0xffffffff, 6)
		assert.Equal(t, uint32(netbsd.S_IFREG|0o666), e.statPath("/tmp/roots").Mode, "a new group clears setgid")
		e.becomeUser(user, user)
		e.create("/tmp/mine", "")
		tv := e.timevals(netbsd.Timeval{Sec: 1}, netbsd.Timeval{Sec: 2})
		cases := []struct {
			name  string
			num   netbsd.Sysno
			args  []uint64
			errno netbsd.Errno
		}{
			{"chmod of another's file is EPERM", netbsd.SYS_chmod, []uint64{e.str("/tmp/roots"), 0o600}, netbsd.EPERM},
			{"mkdir of one's own directory", netbsd.SYS_mkdir, []uint64{e.str("/tmp/d"), 0o755}, 0},
			{"sticky on one's own directory", netbsd.SYS_chmod, []uint64{e.str("/tmp/d"), 0o1755}, 0},
			{"setgid for a group one is not in is EPERM", netbsd.SYS_chmod, []uint64{e.str("/tmp/mine"), 0o2644}, netbsd.EPERM},
			{"chown of one's file to one's own group works", netbsd.SYS_chown, []uint64{e.str("/tmp/mine"), user, user}, 0},
			{"chown to another group is EPERM", netbsd.SYS_chown, []uint64{e.str("/tmp/mine"), 0xffffffff, 7}, netbsd.EPERM},
			{"times of another's file are EPERM", netbsd.SYS___utimes50, []uint64{e.str("/tmp/roots"), tv}, netbsd.EPERM},
			{"but now will do with write access", netbsd.SYS___utimes50, []uint64{e.str("/tmp/roots"), 0}, 0},
			{"one's own file's times", netbsd.SYS___utimes50, []uint64{e.str("/tmp/mine"), tv}, 0},
			{"the console has no vnode: EINVAL", netbsd.SYS_fchmod, []uint64{0, 0o600}, netbsd.EINVAL},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				assert.Equal(t, tc.errno, e.errno(tc.num, tc.args...))
			})
		}
		assert.Equal(t, netbsd.Timespec{Sec: 2}, e.statPath("/tmp/mine").Mtim)
	})
}

func TestAccessUsesTheRealIDs(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		e.ok(netbsd.SYS_umask, 0o077)
		e.create("/tmp/private", "")
		e.ok(netbsd.SYS_seteuid, user)
		assert.Zero(t, e.errno(netbsd.SYS_access, e.str("/tmp/private"), netbsd.R_OK), "the real uid is still root")
		assert.Equal(t, netbsd.EACCES, e.errno(netbsd.SYS_open, e.str("/tmp/private"), netbsd.O_RDONLY, 0), "open goes by the effective uid")
	})
}
