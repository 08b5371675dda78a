package kern_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
)

func TestStatFillsEveryFieldInTheClientsLayout(t *testing.T) {
	forEachTmpfsSetup(t, nil, func(t *testing.T, e *env) {
		e.becomeUser(user, user)
		born := ts(bootTime)
		e.create("/tmp/f", strings.Repeat("x", 5000))
		e.ok(netbsd.SYS_mkdir, e.str("/tmp/d"), 0o750)
		e.ok(netbsd.SYS_symlink, e.str("f"), e.str("/tmp/l"))
		dev := e.statPath("/tmp").Dev
		require.NotZero(t, dev)
		fd := e.open("/tmp/f", netbsd.O_RDONLY, 0)
		fileIno := e.statPath("/tmp/f").Ino
		tmpfsFile := netbsd.Stat{
			Dev: dev, Mode: netbsd.S_IFREG | 0o644, Ino: fileIno, Nlink: 1, UID: user, GID: 0,
			Rdev: netbsd.NODEV, Atim: born, Mtim: born, Ctim: born, Birthtim: born,
			Size: 5000, Blocks: 16, Blksize: 4096}
		cases := []struct {
			name string
			num  netbsd.Sysno
			arg  uint64
			want netbsd.Stat
		}{
			{"a tmpfs file: its group is its directory's, as on BSD; 8 blocks per page started", netbsd.SYS___stat50, e.str("/tmp/f"), tmpfsFile},
			{"the same file by descriptor", netbsd.SYS___fstat50, fd, tmpfsFile},
			{"a symbolic link followed", netbsd.SYS___stat50, e.str("/tmp/l"), tmpfsFile},
			{"a symbolic link itself", netbsd.SYS___lstat50, e.str("/tmp/l"), netbsd.Stat{
				Dev: dev, Mode: netbsd.S_IFLNK | 0o755, Ino: fileIno + 2, Nlink: 1, UID: user, GID: 0,
				Rdev: netbsd.NODEV, Atim: born, Mtim: born, Ctim: born, Birthtim: born,
				Size: 1, Blocks: 8, Blksize: 4096}},
			{"an empty tmpfs directory has size 0 and links . and its name", netbsd.SYS___stat50, e.str("/tmp/d"), netbsd.Stat{
				Dev: dev, Mode: netbsd.S_IFDIR | 0o750, Ino: fileIno + 1, Nlink: 2, UID: user, GID: 0,
				Rdev: netbsd.NODEV, Atim: born, Mtim: born, Ctim: born, Birthtim: born,
				Size: 0, Blocks: 0, Blksize: 4096}},
			{"the tmpfs root is inode 2, 48 bytes per entry", netbsd.SYS___stat50, e.str("/tmp"), netbsd.Stat{
				Dev: dev, Mode: netbsd.S_IFDIR | netbsd.S_ISVTX | 0o777, Ino: 2, Nlink: 3, UID: 0, GID: 0,
				Rdev: netbsd.NODEV, Atim: born, Mtim: born, Ctim: born, Birthtim: born,
				Size: 3 * 48, Blocks: 8, Blksize: 4096}},
			{"the rumpfs root: inode and device 3, DEV_BSIZE everything", netbsd.SYS___stat50, e.str("/"), netbsd.Stat{
				Dev: 3, Mode: netbsd.S_IFDIR | 0o755, Ino: 3, Nlink: 2, UID: 0, GID: 0,
				Rdev: netbsd.NODEV, Atim: born, Mtim: born, Ctim: born, Birthtim: born,
				Size: 512, Blocks: 1, Blksize: 512}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				st, errno := e.stat(tc.num, tc.arg)
				require.Zero(t, errno)
				assert.Equal(t, tc.want, st)
			})
		}
		errs := []struct {
			name  string
			num   netbsd.Sysno
			arg   uint64
			errno netbsd.Errno
		}{
			{"a missing path is ENOENT", netbsd.SYS___stat50, e.str("/tmp/none"), netbsd.ENOENT},
			{"a path through a file is ENOTDIR", netbsd.SYS___lstat50, e.str("/tmp/f/x"), netbsd.ENOTDIR},
			{"a bad descriptor is EBADF", netbsd.SYS___fstat50, 99, netbsd.EBADF},
			{"a path at a bad address is ENAMETOOLONG: the client's empty reply holds no NUL", netbsd.SYS___stat50, 8, netbsd.ENAMETOOLONG},
			{"a NULL path is EFAULT", netbsd.SYS___stat50, 0, netbsd.EFAULT},
		}
		for _, tc := range errs {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				assert.Equal(t, tc.errno, e.errno(tc.num, tc.arg, e.buf(256)))
			})
		}
	})
}

func TestStatOfAPipeDescribesItsBuffer(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		p := e.call(netbsd.SYS_pipe)
		require.Zero(t, p.Errno)
		e.ok(netbsd.SYS_write, p.Retval[1], e.bytes([]byte("12345")), 5)
		st, errno := e.stat(netbsd.SYS___fstat50, p.Retval[0])
		require.Zero(t, errno)
		born := ts(bootTime)
		// NetBSD's pipe_stat leaves st_dev, st_ino, st_nlink and st_rdev 0.
		assert.Equal(t, netbsd.Stat{Mode: netbsd.S_IFIFO | 0o600, UID: 0, GID: 0,
			Atim: born, Mtim: born, Ctim: born, Birthtim: born,
			Size: 5, Blocks: 1, Blksize: netbsd.PIPE_SIZE}, st)
	})
}

func TestFileTimesMoveAsNetBSDs(t *testing.T) {
	forEachTmpfsSetup(t, nil, func(t *testing.T, e *env) {
		t0 := ts(bootTime)
		e.create("/tmp/f", "data")
		fd := e.open("/tmp/f", netbsd.O_RDWR, 0)
		steps := []struct {
			name                string
			do                  func(e *env)
			atime, mtime, ctime bool // which move to the new time
		}{
			{"reading moves atime", func(e *env) { e.read(fd, 2) }, true, false, false},
			{"writing moves mtime and ctime", func(e *env) { e.ok(netbsd.SYS_write, fd, e.bytes([]byte("x")), 1) }, false, true, true},
			{"an empty write moves nothing", func(e *env) { e.ok(netbsd.SYS_write, fd, e.buf(1), 0) }, false, false, false},
			{"pwrite moves mtime and ctime", func(e *env) { e.ok(netbsd.SYS_pwrite, fd, e.bytes([]byte("y")), 1, 0) }, false, true, true},
			{"pread moves atime", func(e *env) { e.ok(netbsd.SYS_pread, fd, e.buf(4), 4, 0) }, true, false, false},
			{"ftruncate to a new size moves mtime and ctime", func(e *env) { e.ok(netbsd.SYS_ftruncate, fd, 2) }, false, true, true},
			{"ftruncate to the same size moves nothing", func(e *env) { e.ok(netbsd.SYS_ftruncate, fd, 2) }, false, false, false},
			{"a hard link moves ctime", func(e *env) { e.ok(netbsd.SYS_link, e.str("/tmp/f"), e.str("/tmp/g")) }, false, false, true},
			{"a rename moves ctime", func(e *env) { e.ok(netbsd.SYS_rename, e.str("/tmp/g"), e.str("/tmp/h")) }, false, false, true},
			{"stat moves nothing", func(e *env) { e.statPath("/tmp/f") }, false, false, false},
		}
		for _, s := range steps {
			t.Run(s.name, func(t *testing.T) {
				e := e.with(t)
				before := e.statPath("/tmp/f")
				now := ts(e.clock.Advance(time.Second))
				s.do(e)
				after := e.statPath("/tmp/f")
				pick := func(moved bool, old netbsd.Timespec) netbsd.Timespec {
					if moved {
						return now
					}
					return old
				}
				assert.Equal(t, pick(s.atime, before.Atim), after.Atim, "atime")
				assert.Equal(t, pick(s.mtime, before.Mtim), after.Mtim, "mtime")
				assert.Equal(t, pick(s.ctime, before.Ctim), after.Ctim, "ctime")
				assert.Equal(t, t0, after.Birthtim, "birthtime never moves")
			})
		}
	})
}

// dirent is one getdents record as the client reads it.
type dirent struct {
	netbsd.Dirent
	raw []byte
}

// getdents reads one batch of records from fd.
func (e *env) getdents(fd uint64, count int) ([]dirent, netbsd.Errno) {
	e.t.Helper()
	b := e.buf(count)
	r := e.call(netbsd.SYS___getdents30, fd, b, uint64(count))
	if r.Errno != 0 {
		return nil, r.Errno
	}
	data := e.mem.Read(b, int(r.Retval[0]))
	l := netbsd.LayoutsFor(e.abi()).Dirent
	var out []dirent
	for len(data) > 0 {
		var d netbsd.Dirent
		require.NoError(e.t, l.Decode(data, &d))
		require.Positive(e.t, d.Reclen)
		require.LessOrEqual(e.t, int(d.Reclen), len(data))
		raw := data[:d.Reclen]
		d.Name = d.Name[:d.Namlen]
		out = append(out, dirent{Dirent: d, raw: raw})
		data = data[d.Reclen:]
	}
	return out, 0
}

func names(ds []dirent) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Name)
	}
	return out
}

func TestGetdentsListsRecordsInTheClientsLayout(t *testing.T) {
	forEachTmpfsSetup(t, nil, func(t *testing.T, e *env) {
		e.ok(netbsd.SYS_mkdir, e.str("/tmp/d"), 0o755)
		e.create("/tmp/d/a", "")
		e.create("/tmp/d/bb", "")
		e.ok(netbsd.SYS_mkdir, e.str("/tmp/d/sub"), 0o755)
		e.ok(netbsd.SYS_symlink, e.str("a"), e.str("/tmp/d/link"))
		fd := e.open("/tmp/d", netbsd.O_RDONLY|netbsd.O_DIRECTORY, 0)
		ds, errno := e.getdents(fd, 4096)
		require.Zero(t, errno)
		require.Equal(t, []string{".", "..", "a", "bb", "sub", "link"}, names(ds))
		want := map[string]struct {
			path  string
			dtype uint8
		}{
			".": {"/tmp/d", netbsd.DT_DIR}, "..": {"/tmp", netbsd.DT_DIR}, "a": {"/tmp/d/a", netbsd.DT_REG},
			"bb": {"/tmp/d/bb", netbsd.DT_REG}, "sub": {"/tmp/d/sub", netbsd.DT_DIR}, "link": {"/tmp/d/link", netbsd.DT_LNK},
		}
		for _, d := range ds {
			w := want[d.Name]
			assert.Equal(t, e.lstatPath(w.path).Ino, d.Fileno, "d_fileno of %s", d.Name)
			assert.Equal(t, w.dtype, d.Type, "d_type of %s", d.Name)
			assert.Equal(t, uint16(len(d.Name)), d.Namlen)
			assert.Zero(t, d.Reclen%netbsd.DirentAlign, "records are padded to 8 bytes")
			assert.Equal(t, (13+len(d.Name)+1+7)/8*8, int(d.Reclen), "d_name starts at 13 on every ABI")
			assert.Zero(t, d.raw[13+len(d.Name)], "the name ends in a NUL")
		}
		assert.Equal(t, int64(4*48), e.statPath("/tmp/d").Size, "st_size is 48 bytes per entry, . and .. not counted")
		more, errno := e.getdents(fd, 4096)
		require.Zero(t, errno)
		assert.Empty(t, more, "the end reads as 0 bytes")
	})
}

func TestGetdentsContinuesWhereItStopped(t *testing.T) {
	forEachTmpfsSetup(t, nil, func(t *testing.T, e *env) {
		e.ok(netbsd.SYS_mkdir, e.str("/tmp/d"), 0o755)
		for _, n := range []string{"a", "b", "c", "d"} {
			e.create("/tmp/d/"+n, "")
		}
		fd := e.open("/tmp/d", netbsd.O_RDONLY, 0)
		steps := []struct {
			name  string
			do    func(e *env)
			count int
			want  []string
			errno netbsd.Errno
		}{
			{"a buffer too small for one record returns nothing and stays", nil, 8, nil, 0},
			{"a small buffer takes what fits", nil, 24, []string{"."}, 0},
			{"the next call goes on", nil, 32, []string{"..", "a"}, 0},
			{"entries removed before the offset do not matter; those after vanish; new ones come last",
				func(e *env) {
					e.ok(netbsd.SYS_unlink, e.str("/tmp/d/a"))
					e.ok(netbsd.SYS_unlink, e.str("/tmp/d/c"))
					e.create("/tmp/d/e", "")
				}, 4096, []string{"b", "d", "e"}, 0},
			{"then the end", nil, 4096, nil, 0},
			{"and the end stays the end after a new entry", func(e *env) { e.create("/tmp/d/f", "") }, 4096, nil, 0},
			{"lseek to 0 starts over", func(e *env) { e.ok(netbsd.SYS_lseek, fd, 0, netbsd.SEEK_SET) },
				4096, []string{".", "..", "b", "d", "e", "f"}, 0},
			{"an offset naming no entry is EINVAL, as tmpfs answers", func(e *env) { e.ok(netbsd.SYS_lseek, fd, 1000, netbsd.SEEK_SET) },
				4096, nil, netbsd.EINVAL},
		}
		for _, s := range steps {
			t.Run(s.name, func(t *testing.T) {
				e := e.with(t)
				if s.do != nil {
					s.do(e)
				}
				ds, errno := e.getdents(fd, s.count)
				require.Equal(t, s.errno, errno)
				assert.Equal(t, s.want, names(ds))
			})
		}
		file := e.open("/tmp/d/b", netbsd.O_RDONLY, 0)
		_, errno := e.getdents(file, 4096)
		assert.Equal(t, netbsd.EINVAL, errno, "a file is not a directory (EINVAL, as NetBSD's vn_readdir)")
		_, errno = e.getdents(77, 4096)
		assert.Equal(t, netbsd.EBADF, errno)
		p := e.call(netbsd.SYS_pipe)
		_, errno = e.getdents(p.Retval[0], 4096)
		assert.Equal(t, netbsd.EINVAL, errno)
		now := e.clock.Advance(time.Second)
		e.ok(netbsd.SYS_lseek, fd, 0, netbsd.SEEK_SET)
		e.getdents(fd, 4096)
		assert.Equal(t, ts(now), e.statPath("/tmp/d").Atim, "listing reads the directory")
	})
}
