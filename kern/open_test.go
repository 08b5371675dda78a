package kern_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
)

func TestOpenFollowsNetBSDRules(t *testing.T) {
	forEachTmpfsSetup(t, nil, func(t *testing.T, e *env) {
		e.becomeUser(user, user)
		e.create("/tmp/exists", "old data")
		e.ok(netbsd.SYS_symlink, e.str("/tmp/exists"), e.str("/tmp/link"))
		e.ok(netbsd.SYS_symlink, e.str("/tmp/made-by-link"), e.str("/tmp/dangling"))
		const (
			creat = netbsd.O_CREAT
			excl  = netbsd.O_EXCL
			rdwr  = netbsd.O_RDWR
		)
		cases := []struct {
			name  string
			path  string
			flags int
			errno netbsd.Errno
		}{
			{"O_CREAT makes a new file", "/tmp/new", creat | rdwr, 0},
			{"O_CREAT opens an existing file", "/tmp/exists", creat | rdwr, 0},
			{"O_CREAT|O_EXCL refuses an existing file", "/tmp/exists", creat | excl | rdwr, netbsd.EEXIST},
			{"O_CREAT|O_EXCL refuses even a dangling link", "/tmp/dangling", creat | excl | rdwr, netbsd.EEXIST},
			{"O_CREAT through a dangling link makes its target", "/tmp/dangling", creat | rdwr, 0},
			{"a missing file is ENOENT", "/tmp/missing", rdwr, netbsd.ENOENT},
			{"a missing directory on the way is ENOENT", "/tmp/no/file", creat | rdwr, netbsd.ENOENT},
			{"a file on the way is ENOTDIR", "/tmp/exists/file", rdwr, netbsd.ENOTDIR},
			{"a trailing slash on a file is ENOTDIR", "/tmp/exists/", netbsd.O_RDONLY, netbsd.ENOTDIR},
			{"O_CREAT of a missing name with a trailing slash is ENOENT", "/tmp/newdir/", creat | rdwr, netbsd.ENOENT},
			{"O_NOFOLLOW on a symbolic link is EFTYPE", "/tmp/link", netbsd.O_RDONLY | netbsd.O_NOFOLLOW, netbsd.EFTYPE},
			{"O_NOFOLLOW on a file opens it", "/tmp/exists", netbsd.O_RDONLY | netbsd.O_NOFOLLOW, 0},
			{"O_NOFOLLOW|O_CREAT|O_EXCL on a link is EEXIST first", "/tmp/link", creat | excl | netbsd.O_NOFOLLOW, netbsd.EEXIST},
			{"O_DIRECTORY on a file is ENOTDIR", "/tmp/exists", netbsd.O_RDONLY | netbsd.O_DIRECTORY, netbsd.ENOTDIR},
			{"O_DIRECTORY on a directory opens it", "/tmp", netbsd.O_RDONLY | netbsd.O_DIRECTORY, 0},
			{"a directory for writing is EISDIR", "/tmp", rdwr, netbsd.EISDIR},
			{"a directory with O_TRUNC is EISDIR", "/tmp", netbsd.O_RDONLY | netbsd.O_TRUNC, netbsd.EISDIR},
			{"O_ACCMODE as access mode is EINVAL", "/tmp/exists", netbsd.O_ACCMODE, netbsd.EINVAL},
			{"creating in / is EACCES for a user", "/newfile", creat | rdwr, netbsd.EACCES},
			{"an empty path is ENOENT", "", netbsd.O_RDONLY, netbsd.ENOENT},
			{"a relative path starts at the cwd", "tmp/exists", netbsd.O_RDONLY, 0},
			{"dot-dot above the root stays at the root", "/../../tmp/exists", netbsd.O_RDONLY, 0},
			{"repeated slashes are one", "//tmp///exists", netbsd.O_RDONLY, 0},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				r := e.call(netbsd.SYS_open, e.str(tc.path), uint64(tc.flags), 0o644)
				require.Equal(t, tc.errno, r.Errno)
				if tc.errno == 0 {
					e.ok(netbsd.SYS_close, r.Retval[0])
				}
			})
		}
		st := e.statPath("/tmp/made-by-link")
		assert.Equal(t, uint32(netbsd.S_IFREG|0o644), st.Mode, "the link's target was created")
	})
}

func TestOpenTruncatesAndAppliesTheUmask(t *testing.T) {
	forEachTmpfsSetup(t, nil, func(t *testing.T, e *env) {
		e.create("/tmp/f", "some data")
		e.clock.Advance(10)
		fd := e.open("/tmp/f", netbsd.O_WRONLY|netbsd.O_TRUNC, 0)
		e.ok(netbsd.SYS_close, fd)
		st := e.statPath("/tmp/f")
		assert.Zero(t, st.Size, "O_TRUNC empties the file")
		assert.Equal(t, ts(e.clock.Now()), st.Mtim, "O_TRUNC stamps the modification time")

		assert.Equal(t, uint64(0o022), e.ok(netbsd.SYS_umask, 0o077), "the default umask is 022")
		e.open("/tmp/private", netbsd.O_CREAT|netbsd.O_WRONLY, 0o7777)
		assert.Equal(t, uint32(netbsd.S_IFREG|netbsd.S_ISUID|netbsd.S_ISGID|0o700), e.statPath("/tmp/private").Mode,
			"the umask clears group and other bits; the sticky bit never sticks to a file")
		assert.Equal(t, uint64(0o077), e.ok(netbsd.SYS_umask, 0o10022), "umask returns the old mask")
		assert.Equal(t, uint64(0o022), e.ok(netbsd.SYS_umask, 0o022), "only the permission bits are kept")
	})
}

func TestOpenChecksPermissions(t *testing.T) {
	forEachTmpfsSetup(t, nil, func(t *testing.T, e *env) {
		e.becomeUser(user, user)
		e.create("/tmp/ro", "x")
		e.ok(netbsd.SYS_umask, 0)
		e.open("/tmp/none", netbsd.O_CREAT|netbsd.O_RDWR, 0) // mode 0, but the creator may use it
		e.ok(netbsd.SYS_mkdir, e.str("/tmp/locked"), 0o300)
		e.create("/tmp/locked/inside", "x")
		cases := []struct {
			name  string
			path  string
			flags int
			errno netbsd.Errno
		}{
			{"reading a mode 0 file is EACCES", "/tmp/none", netbsd.O_RDONLY, netbsd.EACCES},
			{"writing a mode 0 file is EACCES", "/tmp/none", netbsd.O_WRONLY, netbsd.EACCES},
			{"a search-only directory lets a known name through", "/tmp/locked/inside", netbsd.O_RDONLY, 0},
			{"a directory without read cannot be listed", "/tmp/locked", netbsd.O_RDONLY, netbsd.EACCES},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				assert.Equal(t, tc.errno, e.errno(netbsd.SYS_open, e.str(tc.path), uint64(tc.flags), 0))
			})
		}
	})
}

func TestRootBypassesPermissions(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		e.ok(netbsd.SYS_umask, 0)
		fd := e.open("/rootfile", netbsd.O_CREAT|netbsd.O_RDWR, 0)
		e.ok(netbsd.SYS_close, fd)
		fd = e.open("/rootfile", netbsd.O_RDWR, 0)
		e.ok(netbsd.SYS_close, fd)
		st := e.statPath("/rootfile")
		assert.Zero(t, st.UID)
		assert.Equal(t, uint64(0), e.ok(netbsd.SYS_getuid))
		assert.Equal(t, netbsd.EACCES, e.errno(netbsd.SYS_access, e.str("/rootfile"), netbsd.X_OK),
			"even root may not execute a file no one may execute")
	})
}

func TestCloseDupAndDup2ManageDescriptors(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		e.create("/tmp/f", "abcdef")
		fd := e.open("/tmp/f", netbsd.O_RDONLY, 0)
		require.Equal(t, uint64(3), fd, "the first descriptor is 3: the console has 0-2")
		cp := e.ok(netbsd.SYS_dup, fd)
		assert.Equal(t, uint64(4), cp, "dup takes the lowest free descriptor")
		assert.Equal(t, "ab", e.read(fd, 2))
		assert.Equal(t, "cd", e.read(cp, 2), "a dup shares the offset")

		assert.Equal(t, uint64(9), e.ok(netbsd.SYS_dup2, fd, 9))
		assert.Equal(t, "ef", e.read(9, 2))
		assert.Equal(t, uint64(9), e.ok(netbsd.SYS_dup2, 9, 9), "dup2 onto itself does nothing")
		e.ok(netbsd.SYS_dup2, cp, 9) // replaces the old 9 quietly

		cases := []struct {
			name  string
			num   netbsd.Sysno
			args  []uint64
			errno netbsd.Errno
		}{
			{"closing a closed descriptor is EBADF", netbsd.SYS_close, []uint64{5}, netbsd.EBADF},
			{"closing a negative descriptor is EBADF", netbsd.SYS_close, []uint64{neg(-3)}, netbsd.EBADF},
			{"dup of a bad descriptor is EBADF", netbsd.SYS_dup, []uint64{5}, netbsd.EBADF},
			{"dup2 from a bad descriptor is EBADF", netbsd.SYS_dup2, []uint64{5, 6}, netbsd.EBADF},
			{"dup2 past the limit is EBADF", netbsd.SYS_dup2, []uint64{fd, 128}, netbsd.EBADF},
			{"dup2 to a negative number is EBADF", netbsd.SYS_dup2, []uint64{fd, neg(-1)}, netbsd.EBADF},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				assert.Equal(t, tc.errno, e.errno(tc.num, tc.args...))
			})
		}
		e.ok(netbsd.SYS_close, fd)
		assert.Equal(t, netbsd.EBADF, e.errno(netbsd.SYS_read, fd, e.buf(1), 1), "a closed descriptor is gone")
		assert.Equal(t, uint64(3), e.ok(netbsd.SYS_dup, cp), "its number is free again")
	})
}

func TestFcntlDuplicatesAndChangesFlags(t *testing.T) {
	forEachTmpfsSetup(t, nil, func(t *testing.T, e *env) {
		e.create("/tmp/f", "x")
		fd := e.open("/tmp/f", netbsd.O_RDWR|netbsd.O_CLOEXEC|netbsd.O_APPEND, 0)
		cases := []struct {
			name  string
			cmd   int
			arg   uint64
			want  uint64
			errno netbsd.Errno
		}{
			{"F_GETFD shows O_CLOEXEC", netbsd.F_GETFD, 0, netbsd.FD_CLOEXEC, 0},
			{"F_SETFD clears it", netbsd.F_SETFD, 0, 0, 0},
			{"F_GETFD sees the change", netbsd.F_GETFD, 0, 0, 0},
			{"F_GETFL shows the access mode and status", netbsd.F_GETFL, 0, netbsd.O_RDWR | netbsd.O_APPEND, 0},
			{"F_SETFL changes status flags only", netbsd.F_SETFL, netbsd.O_NONBLOCK | netbsd.O_WRONLY, 0, 0},
			{"F_GETFL sees the change", netbsd.F_GETFL, 0, netbsd.O_RDWR | netbsd.O_NONBLOCK, 0},
			{"F_DUPFD takes the lowest at or above arg", netbsd.F_DUPFD, 10, 10, 0},
			{"F_DUPFD again skips the taken one", netbsd.F_DUPFD, 10, 11, 0},
			{"F_DUPFD past the limit is EINVAL", netbsd.F_DUPFD, 500, 0, netbsd.EINVAL},
			{"F_DUPFD below zero is EINVAL", netbsd.F_DUPFD, e.word(-1), 0, netbsd.EINVAL},
			{"F_DUPFD_CLOEXEC duplicates too", netbsd.F_DUPFD_CLOEXEC, 20, 20, 0},
			{"an unknown command is EINVAL", 99, 0, 0, netbsd.EINVAL},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				r := e.call(netbsd.SYS_fcntl, fd, uint64(tc.cmd), tc.arg)
				require.Equal(t, tc.errno, r.Errno)
				assert.Equal(t, tc.want, r.Retval[0])
			})
		}
		assert.Equal(t, uint64(netbsd.FD_CLOEXEC), e.ok(netbsd.SYS_fcntl, 20, netbsd.F_GETFD, 0), "F_DUPFD_CLOEXEC sets FD_CLOEXEC")
		assert.Zero(t, e.ok(netbsd.SYS_fcntl, 10, netbsd.F_GETFD, 0), "F_DUPFD does not")
		e.ok(netbsd.SYS_fcntl, 10, netbsd.F_SETFL, 0)
		assert.Equal(t, uint64(netbsd.O_RDWR), e.ok(netbsd.SYS_fcntl, fd, netbsd.F_GETFL, 0),
			"a duplicate shares the status flags")
		assert.Equal(t, netbsd.EBADF, e.errno(netbsd.SYS_fcntl, 50, netbsd.F_GETFD, 0))
	})
}
