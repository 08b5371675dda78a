package kern_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
)

func TestLinkAndUnlinkCountLinks(t *testing.T) {
	forEachTmpfsSetup(t, nil, func(t *testing.T, e *env) {
		e.becomeUser(user, user)
		e.create("/tmp/a", "data")
		e.ok(netbsd.SYS_mkdir, e.str("/tmp/d"), 0o755)
		cases := []struct {
			name  string
			num   netbsd.Sysno
			paths []string
			errno netbsd.Errno
			nlink uint32 // of /tmp/a afterwards
		}{
			{"link adds a name", netbsd.SYS_link, []string{"/tmp/a", "/tmp/b"}, 0, 2},
			{"link into a subdirectory", netbsd.SYS_link, []string{"/tmp/b", "/tmp/d/c"}, 0, 3},
			{"link onto an existing name is EEXIST", netbsd.SYS_link, []string{"/tmp/a", "/tmp/b"}, netbsd.EEXIST, 3},
			{"link of a directory is EPERM", netbsd.SYS_link, []string{"/tmp/d", "/tmp/e"}, netbsd.EPERM, 3},
			{"link of a missing file is ENOENT", netbsd.SYS_link, []string{"/tmp/zz", "/tmp/e"}, netbsd.ENOENT, 3},
			{"link into root's / is EACCES", netbsd.SYS_link, []string{"/tmp/a", "/a"}, netbsd.EACCES, 3},
			{"link of a missing file with a bad second path is ENOENT", netbsd.SYS_link, []string{"/tmp/zz", ""}, netbsd.ENOENT, 3},
			{"unlink removes one name", netbsd.SYS_unlink, []string{"/tmp/b"}, 0, 2},
			{"unlink of a missing name is ENOENT", netbsd.SYS_unlink, []string{"/tmp/b"}, netbsd.ENOENT, 2},
			{"unlink of a directory is EPERM", netbsd.SYS_unlink, []string{"/tmp/d"}, netbsd.EPERM, 2},
			{"unlink of the root is EBUSY", netbsd.SYS_unlink, []string{"/"}, netbsd.EBUSY, 2},
			{"unlink of /tmp itself (a tmpfs root, a directory) is EPERM", netbsd.SYS_unlink, []string{"/tmp"}, netbsd.EPERM, 2},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				args := make([]uint64, len(tc.paths))
				for i, p := range tc.paths {
					args[i] = e.str(p)
				}
				require.Equal(t, tc.errno, e.errno(tc.num, args...))
				assert.Equal(t, tc.nlink, e.statPath("/tmp/a").Nlink)
			})
		}
		fd := e.open("/tmp/d/c", netbsd.O_RDONLY, 0)
		e.ok(netbsd.SYS_unlink, e.str("/tmp/a"))
		e.ok(netbsd.SYS_unlink, e.str("/tmp/d/c"))
		st, errno := e.stat(netbsd.SYS___fstat50, fd)
		require.Zero(t, errno)
		assert.Zero(t, st.Nlink, "an open file outlives its last name, with no links on tmpfs")
		assert.Equal(t, "data", e.read(fd, 8))
	})
}

func TestMkdirAndRmdirKeepDirectoryLinks(t *testing.T) {
	forEachTmpfsSetup(t, nil, func(t *testing.T, e *env) {
		e.becomeUser(user, user)
		tmpLinks := e.statPath("/tmp").Nlink
		require.Equal(t, uint32(2), tmpLinks, "an empty tmpfs root has . and its name")
		cases := []struct {
			name  string
			num   netbsd.Sysno
			path  string
			errno netbsd.Errno
			links uint32 // of /tmp afterwards, relative to the start
		}{
			{"mkdir makes a directory", netbsd.SYS_mkdir, "/tmp/d", 0, 1},
			{"mkdir with a trailing slash", netbsd.SYS_mkdir, "/tmp/e/", 0, 2},
			{"mkdir of an existing name is EEXIST", netbsd.SYS_mkdir, "/tmp/d", netbsd.EEXIST, 2},
			{"mkdir of dot is EEXIST", netbsd.SYS_mkdir, "/tmp/.", netbsd.EEXIST, 2},
			{"mkdir under a missing directory is ENOENT", netbsd.SYS_mkdir, "/tmp/x/y", netbsd.ENOENT, 2},
			{"mkdir in / is EACCES", netbsd.SYS_mkdir, "/d", netbsd.EACCES, 2},
			{"mkdir nested", netbsd.SYS_mkdir, "/tmp/d/sub", 0, 2},
			{"rmdir of a non-empty directory is ENOTEMPTY", netbsd.SYS_rmdir, "/tmp/d", netbsd.ENOTEMPTY, 2},
			{"rmdir of a file is ENOTDIR", netbsd.SYS_rmdir, "/tmp/file", netbsd.ENOTDIR, 2},
			{"rmdir of dot is EINVAL", netbsd.SYS_rmdir, "/tmp/d/.", netbsd.EINVAL, 2},
			{"rmdir of dot-dot is ENOTEMPTY", netbsd.SYS_rmdir, "/tmp/d/sub/..", netbsd.ENOTEMPTY, 2},
			{"rmdir of the root is EBUSY", netbsd.SYS_rmdir, "/", netbsd.EBUSY, 2},
			{"rmdir of a mount point is EBUSY", netbsd.SYS_rmdir, "/tmp", netbsd.EBUSY, 2},
			{"rmdir removes an empty directory", netbsd.SYS_rmdir, "/tmp/d/sub", 0, 2},
			{"rmdir again", netbsd.SYS_rmdir, "/tmp/d", 0, 1},
			{"rmdir of a missing directory is ENOENT", netbsd.SYS_rmdir, "/tmp/d", netbsd.ENOENT, 1},
		}
		e.create("/tmp/file", "")
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				args := []uint64{e.str(tc.path)}
				if tc.num == netbsd.SYS_mkdir {
					args = append(args, 0o755)
				}
				require.Equal(t, tc.errno, e.errno(tc.num, args...))
				assert.Equal(t, tmpLinks+tc.links, e.statPath("/tmp").Nlink)
			})
		}
		st := e.statPath("/tmp/e")
		assert.Equal(t, uint32(2), st.Nlink, "a new directory has . and its name")
		assert.Equal(t, uint32(netbsd.S_IFDIR|0o755), st.Mode)
	})
}

func TestRenameMovesEntries(t *testing.T) {
	forEachTmpfsSetup(t, nil, func(t *testing.T, e *env) {
		e.create("/tmp/a", "A")
		e.create("/tmp/b", "B")
		e.ok(netbsd.SYS_mkdir, e.str("/tmp/d"), 0o755)
		e.ok(netbsd.SYS_mkdir, e.str("/tmp/d/sub"), 0o755)
		e.ok(netbsd.SYS_mkdir, e.str("/tmp/empty"), 0o755)
		e.ok(netbsd.SYS_link, e.str("/tmp/a"), e.str("/tmp/a2"))
		cases := []struct {
			name     string
			from, to string
			errno    netbsd.Errno
		}{
			{"rename replaces a file", "/tmp/a", "/tmp/b", 0},
			{"two names of one file: the source name goes, as NetBSD's rename(2) does", "/tmp/a2", "/tmp/b", 0},
			{"a name onto itself: nothing happens", "/tmp/b", "/tmp/b", 0},
			{"a missing source is ENOENT", "/tmp/a", "/tmp/c", netbsd.ENOENT},
			{"a file over a directory is EISDIR", "/tmp/b", "/tmp/empty", netbsd.EISDIR},
			{"a directory over a file is ENOTDIR", "/tmp/empty", "/tmp/b", netbsd.ENOTDIR},
			{"a directory into itself is EINVAL", "/tmp/d", "/tmp/d/sub/d", netbsd.EINVAL},
			{"a directory over a non-empty one is ENOTEMPTY", "/tmp/empty", "/tmp/d", netbsd.ENOTEMPTY},
			{"dot as the source is EINVAL", "/tmp/d/.", "/tmp/x", netbsd.EINVAL},
			{"dot as the target is EISDIR", "/tmp/b", "/tmp/d/.", netbsd.EISDIR},
			{"dot-dot as the target is EINVAL", "/tmp/b", "/tmp/d/..", netbsd.EINVAL},
			{"a directory over an empty one", "/tmp/d/sub", "/tmp/empty", 0},
			{"a directory to a new name elsewhere", "/tmp/empty", "/tmp/d/moved", 0},
			{"onto rumpfs is EOPNOTSUPP", "/tmp/b", "/b", netbsd.EOPNOTSUPP},
			{"from rumpfs to the tmpfs is EXDEV", "/dev/null", "/tmp/null", netbsd.EXDEV},
			{"the tmpfs root, named in rumpfs, to inside itself is EXDEV", "/tmp", "/tmp/d/x", netbsd.EXDEV},
			{"onto the root is EBUSY", "/tmp/b", "/", netbsd.EBUSY},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				assert.Equal(t, tc.errno, e.errno(netbsd.SYS_rename, e.str(tc.from), e.str(tc.to)))
			})
		}
		fd := e.open("/tmp/b", netbsd.O_RDONLY, 0)
		assert.Equal(t, "A", e.read(fd, 4), "the replaced file is gone")
		assert.Equal(t, uint32(1), e.statPath("/tmp/b").Nlink, "only b names the file")
		_, errno := e.stat(netbsd.SYS___lstat50, e.str("/tmp/a2"))
		assert.Equal(t, netbsd.ENOENT, errno, "a2 went")
		assert.Equal(t, uint32(3), e.statPath("/tmp/d").Nlink, "d holds one directory again")
		fd = e.open("/tmp/d/moved/..", netbsd.O_RDONLY, 0)
		st, _ := e.stat(netbsd.SYS___fstat50, fd)
		assert.Equal(t, e.statPath("/tmp/d").Ino, st.Ino, "a moved directory's .. is its new parent")
	})
}

func TestSymlinksResolveAndReadBack(t *testing.T) {
	forEachTmpfsSetup(t, nil, func(t *testing.T, e *env) {
		e.ok(netbsd.SYS_mkdir, e.str("/tmp/dir"), 0o755)
		e.create("/tmp/dir/file", "through the link")
		e.ok(netbsd.SYS_symlink, e.str("dir/file"), e.str("/tmp/rel"))
		e.ok(netbsd.SYS_symlink, e.str("/tmp/dir"), e.str("/tmp/abs"))
		e.ok(netbsd.SYS_symlink, e.str(""), e.str("/tmp/empty"))
		cases := []struct {
			name   string
			path   string
			count  uint64
			want   string
			errno  netbsd.Errno
			follow string // what open reads through the path, if it can
		}{
			{"a relative target", "/tmp/rel", 64, "dir/file", 0, "through the link"},
			{"an absolute target", "/tmp/abs", 64, "/tmp/dir", 0, ""},
			{"a short buffer cuts the target", "/tmp/rel", 3, "dir", 0, "through the link"},
			{"readlink of a file is EINVAL", "/tmp/dir/file", 64, "", netbsd.EINVAL, ""},
			{"readlink of a missing name is ENOENT", "/tmp/none", 64, "", netbsd.ENOENT, ""},
			{"an empty target reads back empty", "/tmp/empty", 64, "", 0, ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				b := e.buf(64)
				r := e.call(netbsd.SYS_readlink, e.str(tc.path), b, tc.count)
				require.Equal(t, tc.errno, r.Errno)
				assert.Equal(t, tc.want, string(e.mem.Read(b, int(r.Retval[0]))))
				if tc.follow != "" {
					assert.Equal(t, tc.follow, e.read(e.open(tc.path, netbsd.O_RDONLY, 0), 64))
				}
			})
		}
		assert.Equal(t, "through the link", e.read(e.open("/tmp/abs/file", netbsd.O_RDONLY, 0), 64),
			"a link in the middle of a path")
		assert.Equal(t, netbsd.ENOENT, e.errno(netbsd.SYS_open, e.str("/tmp/empty"), 0, 0), "an empty link leads nowhere")
		assert.Equal(t, netbsd.EEXIST, e.errno(netbsd.SYS_symlink, e.str("x"), e.str("/tmp/rel")))
		st := e.lstatPath("/tmp/rel")
		assert.Equal(t, uint32(netbsd.S_IFLNK|0o755), st.Mode, "a link's mode is 0777 less the umask")
		assert.Equal(t, int64(len("dir/file")), st.Size)
		assert.Equal(t, uint32(netbsd.S_IFREG|0o644), e.statPath("/tmp/rel").Mode, "stat follows")
	})
}

func TestChdirMovesRelativeLookupsAndGetcwd(t *testing.T) {
	forEachTmpfsSetup(t, nil, func(t *testing.T, e *env) {
		e.ok(netbsd.SYS_mkdir, e.str("/tmp/a"), 0o755)
		e.ok(netbsd.SYS_mkdir, e.str("/tmp/a/b"), 0o755)
		e.create("/tmp/file", "")
		getcwd := func(size uint64) (string, uint64, netbsd.Errno) {
			b := e.buf(64)
			r := e.call(netbsd.SYS___getcwd, b, size)
			if r.Errno != 0 {
				return "", 0, r.Errno
			}
			return string(e.mem.Read(b, int(r.Retval[0]))), r.Retval[0], 0
		}
		cases := []struct {
			name  string
			path  string
			errno netbsd.Errno
			cwd   string
		}{
			{"the first cwd is the root", "/", 0, "/"},
			{"an absolute directory", "/tmp/a", 0, "/tmp/a"},
			{"a relative directory", "b", 0, "/tmp/a/b"},
			{"dot-dot goes up", "../..", 0, "/tmp"},
			{"a file is ENOTDIR", "file", netbsd.ENOTDIR, "/tmp"},
			{"a missing directory is ENOENT", "none", netbsd.ENOENT, "/tmp"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				require.Equal(t, tc.errno, e.errno(netbsd.SYS_chdir, e.str(tc.path)))
				got, n, errno := getcwd(64)
				require.Zero(t, errno)
				assert.Equal(t, tc.cwd+"\x00", got)
				assert.Equal(t, uint64(len(tc.cwd)+1), n, "__getcwd returns the length with the NUL")
			})
		}
		e.ok(netbsd.SYS_chdir, e.str("/tmp/a/b"))
		_, _, errno := getcwd(8)
		assert.Equal(t, netbsd.ERANGE, errno, "no room for the NUL")
		got, _, errno := getcwd(9)
		assert.Zero(t, errno)
		assert.Equal(t, "/tmp/a/b\x00", got, "an exact fit")
		_, _, errno = getcwd(1)
		assert.Equal(t, netbsd.ERANGE, errno)
		if e.abi().LP64() {
			_, _, errno = getcwd(1<<32 + 1)
			assert.Equal(t, netbsd.ERANGE, errno, "the length is taken as a C int, as NetBSD does")
		}

		e.create("/tmp/a/b/f", "")
		fd := e.open("f", netbsd.O_RDONLY, 0)
		e.ok(netbsd.SYS_close, fd)
		e.ok(netbsd.SYS_unlink, e.str("f"))
		e.ok(netbsd.SYS_rmdir, e.str("/tmp/a/b"))
		_, _, errno = getcwd(64)
		assert.Equal(t, netbsd.ENOENT, errno, "a removed cwd has no path")
		assert.Equal(t, netbsd.ENOENT, e.errno(netbsd.SYS_open, e.str("new"), netbsd.O_CREAT|netbsd.O_RDWR, 0o644),
			"nothing can be created in a removed tmpfs directory")
	})
}

func TestAccessChecksTheCallersRights(t *testing.T) {
	forEachTmpfsSetup(t, nil, func(t *testing.T, e *env) {
		e.becomeUser(user, user)
		e.ok(netbsd.SYS_umask, 0)
		e.open("/tmp/rw", netbsd.O_CREAT|netbsd.O_RDONLY, 0o600)
		e.open("/tmp/x", netbsd.O_CREAT|netbsd.O_RDONLY, 0o100)
		cases := []struct {
			name  string
			path  string
			mode  int
			errno netbsd.Errno
		}{
			{"F_OK on an existing file", "/tmp/rw", netbsd.F_OK, 0},
			{"F_OK on a missing file is ENOENT", "/tmp/none", netbsd.F_OK, netbsd.ENOENT},
			{"R_OK|W_OK on the owner's file", "/tmp/rw", netbsd.R_OK | netbsd.W_OK, 0},
			{"X_OK on a 0600 file is EACCES", "/tmp/rw", netbsd.X_OK, netbsd.EACCES},
			{"X_OK on a 0100 file", "/tmp/x", netbsd.X_OK, 0},
			{"R_OK on a 0100 file is EACCES", "/tmp/x", netbsd.R_OK, netbsd.EACCES},
			{"W_OK on root's / is EACCES", "/", netbsd.W_OK, netbsd.EACCES},
			{"R_OK|X_OK on / is allowed", "/", netbsd.R_OK | netbsd.X_OK, 0},
			{"an unknown mode bit is EINVAL", "/tmp/rw", 8, netbsd.EINVAL},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				assert.Equal(t, tc.errno, e.errno(netbsd.SYS_access, e.str(tc.path), uint64(tc.mode)))
			})
		}
	})
}

func TestDirectoryEntriesMoveDirectoryTimes(t *testing.T) {
	forEachTmpfsSetup(t, nil, func(t *testing.T, e *env) {
		e.ok(netbsd.SYS_mkdir, e.str("/tmp/d"), 0o755)
		steps := []struct {
			name string
			do   func(e *env)
		}{
			{"creating a file", func(e *env) { e.create("/tmp/d/f", "") }},
			{"linking", func(e *env) { e.ok(netbsd.SYS_link, e.str("/tmp/d/f"), e.str("/tmp/d/g")) }},
			{"renaming", func(e *env) { e.ok(netbsd.SYS_rename, e.str("/tmp/d/g"), e.str("/tmp/d/h")) }},
			{"a symlink", func(e *env) { e.ok(netbsd.SYS_symlink, e.str("f"), e.str("/tmp/d/l")) }},
			{"unlinking", func(e *env) { e.ok(netbsd.SYS_unlink, e.str("/tmp/d/h")) }},
			{"mkdir", func(e *env) { e.ok(netbsd.SYS_mkdir, e.str("/tmp/d/sub"), 0o755) }},
			{"rmdir", func(e *env) { e.ok(netbsd.SYS_rmdir, e.str("/tmp/d/sub")) }},
		}
		for _, s := range steps {
			t.Run(s.name+" stamps mtime and ctime of the directory", func(t *testing.T) {
				e := e.with(t)
				before := e.statPath("/tmp/d")
				now := e.clock.Advance(time.Second)
				s.do(e)
				after := e.statPath("/tmp/d")
				assert.Equal(t, ts(now), after.Mtim)
				assert.Equal(t, ts(now), after.Ctim)
				assert.Equal(t, before.Atim, after.Atim, "looking names up does not count as reading")
				assert.Equal(t, before.Birthtim, after.Birthtim)
			})
		}
		now := e.clock.Advance(time.Second)
		e.ok(netbsd.SYS_link, e.str("/tmp/d/f"), e.str("/tmp/d/f2"))
		assert.Equal(t, ts(now), e.statPath("/tmp/d/f").Ctim, "a new link changes the file's status")
	})
}
