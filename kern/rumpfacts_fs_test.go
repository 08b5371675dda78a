package kern_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// Sections 2-4 of real-rump.md: the root rumpfs, a mounted tmpfs, and
// the kernel's rules on both (the harness is in rumpfacts_test.go).

func TestRealRump2TheRootFileSystemIsRumpfs(t *testing.T) {
	user := func(e *env) { e.becomeUser(1000, 1000) }
	runFacts(t, []fact{
		{name: "rename answers EOPNOTSUPP in every case, before any other check on the names", check: func(t *testing.T, e *env) {
			e.create("/tmp/f", "x")
			e.ok(netbsd.SYS_mkdir, e.str("/tmp/d"), 0o755)
			e.ok(netbsd.SYS_mkdir, e.str("/tmp/d/sub"), 0o755)
			e.ok(netbsd.SYS_mkdir, e.str("/tmp/full"), 0o755)
			e.create("/tmp/full/x", "")
			for _, c := range []struct{ name, from, to string }{
				{"to a new name", "/tmp/f", "/tmp/g"},
				{"onto itself", "/tmp/f", "/tmp/f"},
				{"a directory into itself", "/tmp/d", "/tmp/d/sub/d"},
				{"onto a non-empty directory", "/tmp/d", "/tmp/full"},
				{"a file onto a directory", "/tmp/f", "/tmp/d"},
			} {
				assert.Equal(t, netbsd.EOPNOTSUPP, e.errno(netbsd.SYS_rename, e.str(c.from), e.str(c.to)), c.name)
			}
			assert.Equal(t, []string{"x"}, e.listing("/tmp/full"), "nothing moved")
		}},
		{name: "link answers EOPNOTSUPP", check: func(t *testing.T, e *env) {
			e.create("/tmp/f", "x")
			assert.Equal(t, netbsd.EOPNOTSUPP, e.errno(netbsd.SYS_link, e.str("/tmp/f"), e.str("/tmp/g")))
			assert.Equal(t, netbsd.EOPNOTSUPP, e.errno(netbsd.SYS_link, e.str("/dev/null"), e.str("/tmp/n")))
		}},
		{name: "fcntl(F_SETFL) answers EINVAL for a remote client and changes nothing", check: func(t *testing.T, e *env) {
			fd := e.open("/tmp/f", netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
			assert.Equal(t, netbsd.EINVAL, e.errno(netbsd.SYS_fcntl, fd, netbsd.F_SETFL, netbsd.O_NONBLOCK|netbsd.O_APPEND))
			assert.Equal(t, uint64(netbsd.O_RDWR), e.ok(netbsd.SYS_fcntl, fd, netbsd.F_GETFL, 0))
			dir := e.open("/tmp", netbsd.O_RDONLY, 0)
			assert.Equal(t, netbsd.EINVAL, e.errno(netbsd.SYS_fcntl, dir, netbsd.F_SETFL, netbsd.O_NONBLOCK), "a directory too")
		}},
		{name: "every directory has st_nlink 2, st_size 512, st_blksize 512, st_blocks 1", check: func(t *testing.T, e *env) {
			e.ok(netbsd.SYS_mkdir, e.str("/tmp/d"), 0o755)
			e.ok(netbsd.SYS_mkdir, e.str("/tmp/d/a"), 0o755)
			e.ok(netbsd.SYS_mkdir, e.str("/tmp/d/b"), 0o755)
			for _, d := range []string{"/", "/dev", "/tmp", "/tmp/d", "/tmp/d/a"} {
				st := e.statPath(d)
				assert.Equal(t, [4]int64{2, 512, 512, 1}, [4]int64{int64(st.Nlink), st.Size, int64(st.Blksize), st.Blocks}, d)
			}
		}},
		{name: "every file and symlink has st_blksize 512 and st_blocks 1 whatever its size", check: func(t *testing.T, e *env) {
			e.create("/tmp/empty", "")
			e.create("/tmp/big", strings.Repeat("b", 100000))
			e.ok(netbsd.SYS_symlink, e.str("/tmp/big"), e.str("/tmp/link"))
			for _, f := range []string{"/tmp/empty", "/tmp/big", "/tmp/link"} {
				st := e.lstatPath(f)
				assert.Equal(t, [2]int64{512, 1}, [2]int64{int64(st.Blksize), st.Blocks}, f)
			}
			assert.Equal(t, int64(100000), e.statPath("/tmp/big").Size)
		}},
		{name: "an unlinked file that is still open keeps st_nlink 1", check: func(t *testing.T, e *env) {
			fd := e.open("/tmp/f", netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
			e.ok(netbsd.SYS_unlink, e.str("/tmp/f"))
			st, errno := e.stat(netbsd.SYS___fstat50, fd)
			require.Zero(t, errno)
			assert.Equal(t, uint32(1), st.Nlink)
		}},
		{name: "every node is owned by uid 0, gid 0, whoever creates it", check: func(t *testing.T, e *env) {
			user(e)
			e.create("/tmp/mine", "")
			e.ok(netbsd.SYS_mkdir, e.str("/tmp/mydir"), 0o755)
			e.ok(netbsd.SYS_symlink, e.str("mine"), e.str("/tmp/mylink"))
			for _, p := range []string{"/tmp/mine", "/tmp/mydir", "/tmp/mylink"} {
				st := e.lstatPath(p)
				assert.Equal(t, [2]uint32{0, 0}, [2]uint32{st.UID, st.GID}, p)
			}
		}},
		{name: "st_dev equals st_ino, small integers", check: func(t *testing.T, e *env) {
			e.create("/tmp/f", "")
			seen := map[uint64]bool{}
			for _, p := range []string{"/", "/dev", "/tmp", "/dev/null", "/dev/zero", "/tmp/f"} {
				st := e.statPath(p)
				assert.Equal(t, st.Ino, st.Dev, p)
				assert.Less(t, st.Ino, uint64(1000), p)
				assert.False(t, seen[st.Ino], "%s: one number per node", p)
				seen[st.Ino] = true
			}
		}},
		{name: "directory listings contain no . or .. and list the newest entry first", check: func(t *testing.T, e *env) {
			e.ok(netbsd.SYS_mkdir, e.str("/tmp/d"), 0o755)
			for _, n := range []string{"first", "second", "third"} {
				e.create("/tmp/d/"+n, "")
			}
			assert.Equal(t, []string{"third", "second", "first"}, e.listing("/tmp/d"))
		}},
		{name: "a buffer too small for one record returns 0 and leaves the offset at 4294967295, so the next call also returns 0", check: func(t *testing.T, e *env) {
			fd := e.open("/", netbsd.O_RDONLY, 0)
			ds, errno := e.getdents(fd, 8)
			require.Zero(t, errno)
			assert.Empty(t, ds)
			r := e.call(netbsd.SYS_lseek, fd, 0, netbsd.SEEK_CUR)
			require.Zero(t, r.Errno)
			assert.Equal(t, int64(4294967295), r.Off())
			ds, errno = e.getdents(fd, 4096)
			require.Zero(t, errno)
			assert.Empty(t, ds, "the next call is at the end")
		}},
		{name: "records are struct dirent of 16, 24, 32... bytes: header, name, NUL, padded to 8", check: func(t *testing.T, e *env) {
			e.ok(netbsd.SYS_mkdir, e.str("/tmp/d"), 0o755)
			for _, n := range []string{"a", "abc", "abcdefghijk"} {
				e.create("/tmp/d/"+n, "")
			}
			fd := e.open("/tmp/d", netbsd.O_RDONLY, 0)
			ds, errno := e.getdents(fd, 4096)
			require.Zero(t, errno)
			var lens []uint16
			for _, d := range ds {
				lens = append(lens, d.Reclen)
			}
			assert.Equal(t, []uint16{32, 24, 16}, lens)
		}},
		{name: "the server sends one COPYOUT per record", check: func(t *testing.T, e *env) {
			fd := e.open("/dev", netbsd.O_RDONLY, 0)
			mark := e.reqs.mark()
			ds, errno := e.getdents(fd, 4096)
			require.Zero(t, errno)
			require.Len(t, ds, 2)
			assert.Equal(t, 2, e.reqs.since(mark, sp.TypeCopyOut))
		}},
		{name: "a 4-byte pread at offset 1000 of a 10-byte file returns 4 zero bytes", check: func(t *testing.T, e *env) {
			e.create("/tmp/ten", "0123456789")
			fd := e.open("/tmp/ten", netbsd.O_RDONLY, 0)
			b := e.bytes([]byte("xxxx"))
			assert.Equal(t, uint64(4), e.ok(netbsd.SYS_pread, fd, b, 4, 1000))
			assert.Equal(t, []byte{0, 0, 0, 0}, e.mem.Read(b, 4))
			assert.Equal(t, uint64(0), e.ok(netbsd.SYS_pread, fd, b, 4, 10), "at the end itself: 0")
		}},
		{name: "a file can still be created in a working directory that has been removed", check: func(t *testing.T, e *env) {
			e.ok(netbsd.SYS_mkdir, e.str("/tmp/gone"), 0o755)
			e.ok(netbsd.SYS_chdir, e.str("/tmp/gone"))
			e.ok(netbsd.SYS_rmdir, e.str("/tmp/gone"))
			assert.Equal(t, uint64(3), e.open("new", netbsd.O_CREAT|netbsd.O_RDWR, 0o644))
		}},
		{name: "ioctl(FIONREAD) on a directory gives 512", check: func(t *testing.T, e *env) {
			v, errno := e.ioctlInt(e.open("/tmp", netbsd.O_RDONLY, 0), netbsd.FIONREAD, -1)
			require.Zero(t, errno)
			assert.Equal(t, int32(512), v)
		}},
		{name: "other ioctls on files give EOPNOTSUPP", check: func(t *testing.T, e *env) {
			fd := e.open("/tmp/f", netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
			assert.Equal(t, netbsd.EOPNOTSUPP, e.errno(netbsd.SYS_ioctl, fd, netbsd.TIOCGETA, e.buf(44)))
			assert.Equal(t, netbsd.EOPNOTSUPP, e.errno(netbsd.SYS_ioctl, fd, uint64(netbsd.IOC(netbsd.IOC_VOID, 'x', 1, 0)), 0))
		}},
		{name: "chmod, fchmod and lchmod work and show in a following stat; the type bits of a chmod mode are ignored", check: func(t *testing.T, e *env) {
			fd := e.open("/tmp/f", netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
			e.ok(netbsd.SYS_symlink, e.str("f"), e.str("/tmp/l"))
			e.ok(netbsd.SYS_chmod, e.str("/tmp/l"), netbsd.S_IFDIR|0o600)
			assert.Equal(t, uint32(netbsd.S_IFREG|0o600), e.statPath("/tmp/f").Mode, "chmod follows the link")
			e.ok(netbsd.SYS_fchmod, fd, 0o4751)
			assert.Equal(t, uint32(netbsd.S_IFREG|0o4751), e.statPath("/tmp/f").Mode)
			e.ok(netbsd.SYS_lchmod, e.str("/tmp/l"), 0o700)
			assert.Equal(t, uint32(netbsd.S_IFLNK|0o700), e.lstatPath("/tmp/l").Mode)
			assert.Equal(t, uint32(netbsd.S_IFREG|0o4751), e.statPath("/tmp/f").Mode, "lchmod leaves the file")
		}},
		{name: "chown, fchown and lchown work and show in a following stat; -1 leaves an id unchanged", check: func(t *testing.T, e *env) {
			fd := e.open("/tmp/f", netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
			e.ok(netbsd.SYS_symlink, e.str("f"), e.str("/tmp/l"))
			owner := func(p string, st func(string) netbsd.Stat) [2]uint32 {
				s := st(p)
				return [2]uint32{s.UID, s.GID}
			}
			e.ok(netbsd.SYS_chown, e.str("/tmp/l"), 10, 20)
			assert.Equal(t, [2]uint32{10, 20}, owner("/tmp/f", e.statPath))
			e.ok(netbsd.SYS_fchown, fd, uint64(0xffffffff), 30)
			assert.Equal(t, [2]uint32{10, 30}, owner("/tmp/f", e.statPath), "-1 keeps the owner")
			e.ok(netbsd.SYS_fchown, fd, 40, uint64(0xffffffff))
			assert.Equal(t, [2]uint32{40, 30}, owner("/tmp/f", e.statPath), "-1 keeps the group")
			e.ok(netbsd.SYS_lchown, e.str("/tmp/l"), 50, 60)
			assert.Equal(t, [2]uint32{50, 60}, owner("/tmp/l", e.lstatPath))
			assert.Equal(t, [2]uint32{40, 30}, owner("/tmp/f", e.statPath), "lchown leaves the file")
		}},
		{name: "utimes works and shows in a following stat; a tv_usec of 1000000 is accepted", check: func(t *testing.T, e *env) {
			e.create("/tmp/f", "")
			tv := e.timevals(netbsd.Timeval{Sec: 1_000_000, Usec: 5}, netbsd.Timeval{Sec: 2_000_000, Usec: 1_000_000})
			e.ok(netbsd.SYS___utimes50, e.str("/tmp/f"), tv)
			st := e.statPath("/tmp/f")
			assert.Equal(t, netbsd.Timespec{Sec: 1_000_000, Nsec: 5000}, st.Atim)
			assert.Equal(t, netbsd.Timespec{Sec: 2_000_000, Nsec: 1_000_000_000}, st.Mtim)
			e.ok(netbsd.SYS___utimes50, e.str("/tmp/f"), 0)
			assert.Equal(t, ts(bootTime), e.statPath("/tmp/f").Mtim, "NULL is now")
		}},
	})
}

func TestRealRump3AMountedTmpfsBehavesAsNetBSDs(t *testing.T) {
	runFacts(t, []fact{
		{name: "__mount50 of tmpfs on a directory with a struct tmpfs_args (40 bytes on LP64, 32 on i386) mounts one whose root has the given owner and mode", check: func(t *testing.T, e *env) {
			e.ok(netbsd.SYS_mkdir, e.str("/mnt"), 0o755)
			data, n := e.tmpfsArgs(netbsd.TmpfsArgs{Version: 1, RootUID: 42, RootGID: 43, RootMode: 0o750})
			want := 40
			if e.abi().Name == "i386" {
				want = 32
			}
			require.Equal(t, want, n)
			assert.Equal(t, netbsd.EINVAL, e.errno(netbsd.SYS___mount50, e.str("tmpfs"), e.str("/mnt"), 0, data, uint64(n-1)),
				"tmpfs_mount wants a whole struct")
			e.ok(netbsd.SYS___mount50, e.str("tmpfs"), e.str("/mnt"), 0, data, uint64(n))
			st := e.statPath("/mnt")
			assert.Equal(t, [3]uint32{42, 43, netbsd.S_IFDIR | 0o750}, [3]uint32{st.UID, st.GID, st.Mode})
			assert.Empty(t, e.listing("/mnt")[2:], "an empty file system")
		}},
		{name: "rename and link work with POSIX results", check: func(t *testing.T, e *env) {
			e.withTmpfs()
			e.create("/mnt/a", "A")
			e.create("/mnt/b", "B")
			e.ok(netbsd.SYS_mkdir, e.str("/mnt/d"), 0o755)
			e.ok(netbsd.SYS_mkdir, e.str("/mnt/d/sub"), 0o755)
			e.ok(netbsd.SYS_mkdir, e.str("/mnt/empty"), 0o755)
			for _, c := range []struct {
				name     string
				num      netbsd.Sysno
				from, to string
				errno    netbsd.Errno
			}{
				{"link makes a second name", netbsd.SYS_link, "/mnt/a", "/mnt/a2", 0},
				{"link onto an existing name is EEXIST", netbsd.SYS_link, "/mnt/a", "/mnt/b", netbsd.EEXIST},
				{"a directory over a file is ENOTDIR", netbsd.SYS_rename, "/mnt/empty", "/mnt/b", netbsd.ENOTDIR},
				{"a file over a directory is EISDIR", netbsd.SYS_rename, "/mnt/b", "/mnt/empty", netbsd.EISDIR},
				{"a directory into itself is EINVAL", netbsd.SYS_rename, "/mnt/d", "/mnt/d/sub/x", netbsd.EINVAL},
				{"a directory over a non-empty one is ENOTEMPTY", netbsd.SYS_rename, "/mnt/empty", "/mnt/d", netbsd.ENOTEMPTY},
				{"rename replaces a file", netbsd.SYS_rename, "/mnt/b", "/mnt/c", 0},
			} {
				assert.Equal(t, c.errno, e.errno(c.num, e.str(c.from), e.str(c.to)), c.name)
			}
			assert.Equal(t, "B", e.read(e.open("/mnt/c", netbsd.O_RDONLY, 0), 4))
		}},
		{name: "renaming one hard link onto another name of the same file removes the source name", check: func(t *testing.T, e *env) {
			e.withTmpfs()
			e.create("/mnt/a", "A")
			e.ok(netbsd.SYS_link, e.str("/mnt/a"), e.str("/mnt/b"))
			e.ok(netbsd.SYS_rename, e.str("/mnt/a"), e.str("/mnt/b"))
			_, errno := e.stat(netbsd.SYS___stat50, e.str("/mnt/a"))
			assert.Equal(t, netbsd.ENOENT, errno, "the source name went")
			assert.Equal(t, uint32(1), e.statPath("/mnt/b").Nlink)
		}},
		{name: "directories list . and .. first, then entries oldest first", check: func(t *testing.T, e *env) {
			e.withTmpfs()
			for _, n := range []string{"first", "second", "third"} {
				e.create("/mnt/"+n, "")
			}
			assert.Equal(t, []string{".", "..", "first", "second", "third"}, e.listing("/mnt"))
		}},
		{name: "directory st_size is 48 bytes per entry, . and .. not counted: an empty directory is 0", check: func(t *testing.T, e *env) {
			e.withTmpfs()
			e.ok(netbsd.SYS_mkdir, e.str("/mnt/d"), 0o755)
			assert.Zero(t, e.statPath("/mnt/d").Size)
			e.create("/mnt/d/x", "")
			e.create("/mnt/d/a-much-longer-name", "")
			assert.Equal(t, int64(96), e.statPath("/mnt/d").Size)
		}},
		{name: "st_nlink of a directory counts its subdirectories", check: func(t *testing.T, e *env) {
			e.withTmpfs()
			e.ok(netbsd.SYS_mkdir, e.str("/mnt/d"), 0o755)
			e.create("/mnt/d/file", "")
			assert.Equal(t, uint32(2), e.statPath("/mnt/d").Nlink)
			e.ok(netbsd.SYS_mkdir, e.str("/mnt/d/a"), 0o755)
			e.ok(netbsd.SYS_mkdir, e.str("/mnt/d/b"), 0o755)
			assert.Equal(t, uint32(4), e.statPath("/mnt/d").Nlink)
		}},
		{name: "st_blocks counts 8 per page started: a 12-byte file 8, a 12289-byte sparse file 32, an empty directory 0", check: func(t *testing.T, e *env) {
			e.withTmpfs()
			e.create("/mnt/twelve", "twelve bytes")
			fd := e.open("/mnt/sparse", netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
			e.ok(netbsd.SYS_pwrite, fd, e.bytes([]byte("z")), 1, 12288)
			e.ok(netbsd.SYS_mkdir, e.str("/mnt/empty"), 0o755)
			assert.Equal(t, int64(8), e.statPath("/mnt/twelve").Blocks)
			assert.Equal(t, int64(12289), e.statPath("/mnt/sparse").Size)
			assert.Equal(t, int64(32), e.statPath("/mnt/sparse").Blocks)
			assert.Equal(t, int64(0), e.statPath("/mnt/empty").Blocks)
		}},
		{name: "st_blksize is 4096", check: func(t *testing.T, e *env) {
			e.withTmpfs()
			e.create("/mnt/f", "x")
			assert.Equal(t, int32(4096), e.statPath("/mnt/f").Blksize)
			assert.Equal(t, int32(4096), e.statPath("/mnt").Blksize)
		}},
		{name: "other ioctls on files give ENOTTY", check: func(t *testing.T, e *env) {
			e.withTmpfs()
			fd := e.open("/mnt/f", netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
			assert.Equal(t, netbsd.ENOTTY, e.errno(netbsd.SYS_ioctl, fd, netbsd.TIOCGETA, e.buf(44)))
		}},
		{name: "an unlinked open file has st_nlink 0", check: func(t *testing.T, e *env) {
			e.withTmpfs()
			fd := e.open("/mnt/f", netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
			e.ok(netbsd.SYS_unlink, e.str("/mnt/f"))
			st, errno := e.stat(netbsd.SYS___fstat50, fd)
			require.Zero(t, errno)
			assert.Zero(t, st.Nlink)
		}},
	})
}

func TestRealRump4KernelRulesHoldOnEveryFileSystem(t *testing.T) {
	runFacts(t, []fact{
		{name: "a path component longer than 255 bytes is ENAMETOOLONG", check: func(t *testing.T, e *env) {
			e.onBoth(func(t *testing.T, e *env, dir string) {
				assert.Equal(t, uint64(3), e.open(dir+"/"+strings.Repeat("n", 255), netbsd.O_CREAT|netbsd.O_RDWR, 0o644))
				assert.Equal(t, netbsd.ENAMETOOLONG, e.errno(netbsd.SYS_open, e.str(dir+"/"+strings.Repeat("n", 256)), netbsd.O_CREAT|netbsd.O_RDWR, 0o644))
				e.ok(netbsd.SYS_close, 3)
			})
		}},
		{name: "a path of 1024 bytes or more is ENAMETOOLONG", check: func(t *testing.T, e *env) {
			e.onBoth(func(t *testing.T, e *env, dir string) {
				pad := strings.Repeat("/.", (1023-len(dir)-3)/2)
				require.Equal(t, 1023, len(dir+pad+"/xy"))
				assert.Equal(t, uint64(3), e.open(dir+pad+"/xy", netbsd.O_CREAT|netbsd.O_RDWR, 0o644), "1023 bytes")
				e.ok(netbsd.SYS_close, 3)
				assert.Equal(t, netbsd.ENAMETOOLONG, e.errno(netbsd.SYS_open, e.str(dir+pad+"/xyz"), 0, 0), "1024 bytes")
			})
		}},
		{name: "open(path/, O_CREAT) of a missing name with a trailing slash is ENOENT", check: func(t *testing.T, e *env) {
			e.onBoth(func(t *testing.T, e *env, dir string) {
				assert.Equal(t, netbsd.ENOENT, e.errno(netbsd.SYS_open, e.str(dir+"/new/"), netbsd.O_CREAT|netbsd.O_RDWR, 0o644))
			})
		}},
		{name: "open(symlink, O_NOFOLLOW) is EFTYPE (79)", check: func(t *testing.T, e *env) {
			e.onBoth(func(t *testing.T, e *env, dir string) {
				e.ok(netbsd.SYS_symlink, e.str("/dev/null"), e.str(dir+"/l"))
				assert.Equal(t, netbsd.Errno(79), e.errno(netbsd.SYS_open, e.str(dir+"/l"), netbsd.O_RDONLY|0x100, 0))
			})
		}},
		{name: "unlink(/), rename(/, ...) and rename(..., /) are EBUSY", check: func(t *testing.T, e *env) {
			e.create("/tmp/f", "")
			assert.Equal(t, netbsd.EBUSY, e.errno(netbsd.SYS_unlink, e.str("/")))
			assert.Equal(t, netbsd.EBUSY, e.errno(netbsd.SYS_rename, e.str("/"), e.str("/tmp/x")))
			assert.Equal(t, netbsd.EBUSY, e.errno(netbsd.SYS_rename, e.str("/tmp/f"), e.str("/")))
		}},
		{name: "fchdir works, and is ENOTDIR on a file", check: func(t *testing.T, e *env) {
			e.onBoth(func(t *testing.T, e *env, dir string) {
				e.ok(netbsd.SYS_mkdir, e.str(dir+"/d"), 0o755)
				d := e.open(dir+"/d", netbsd.O_RDONLY, 0)
				e.ok(netbsd.SYS_fchdir, d)
				e.create("here", "")
				e.statPath(dir + "/d/here")
				f := e.open(dir+"/d/here", netbsd.O_RDONLY, 0)
				assert.Equal(t, netbsd.ENOTDIR, e.errno(netbsd.SYS_fchdir, f))
				e.ok(netbsd.SYS_chdir, e.str("/"))
				e.ok(netbsd.SYS_close, d)
				e.ok(netbsd.SYS_close, f)
			})
		}},
		{name: "__getcwd with a short buffer walks buffer-length/2 components and can return a truncated path as success (NetBSD's bug)", check: func(t *testing.T, e *env) {
			e.onBoth(func(t *testing.T, e *env, dir string) {
				e.ok(netbsd.SYS_mkdir, e.str(dir+"/a"), 0o755)
				e.ok(netbsd.SYS_mkdir, e.str(dir+"/a/b"), 0o755)
				e.ok(netbsd.SYS_chdir, e.str(dir+"/a/b"))
				b := e.buf(16)
				r := e.call(netbsd.SYS___getcwd, b, 5)
				require.Zero(t, r.Errno)
				assert.Equal(t, "/a/b\x00", string(e.mem.Read(b, int(r.Retval[0]))), "the top component is missing")
				assert.Equal(t, netbsd.ERANGE, e.errno(netbsd.SYS___getcwd, b, 4), "one byte less: a name does not fit")
				r = e.call(netbsd.SYS___getcwd, b, 16)
				require.Zero(t, r.Errno)
				assert.Equal(t, dir+"/a/b\x00", string(e.mem.Read(b, int(r.Retval[0]))))
				e.ok(netbsd.SYS_chdir, e.str("/"))
			})
		}},
		{name: "truncate(missing, -1) is EINVAL and no COPYINSTR is sent for the path", check: func(t *testing.T, e *env) {
			mark := e.reqs.mark()
			assert.Equal(t, netbsd.EINVAL, e.errno(netbsd.SYS_truncate, e.str("/tmp/missing"), neg(-1)))
			assert.Zero(t, e.reqs.since(mark, sp.TypeCopyInStr))
		}},
		{name: "ftruncate(99, -1) is EINVAL", check: func(t *testing.T, e *env) {
			assert.Equal(t, netbsd.EINVAL, e.errno(netbsd.SYS_ftruncate, 99, neg(-1)))
			assert.Equal(t, netbsd.EBADF, e.errno(netbsd.SYS_ftruncate, 99, 0))
		}},
		{name: "a write to a full non-blocking pipe fails before the data is copied in", check: func(t *testing.T, e *env) {
			fds := e.buf(8)
			e.ok(netbsd.SYS_pipe2, fds, netbsd.O_NONBLOCK)
			w := uint64(e.cint(fds + 4))
			fill := e.bytes(bytes.Repeat([]byte("f"), netbsd.PIPE_SIZE))
			require.Equal(t, uint64(netbsd.PIPE_SIZE), e.ok(netbsd.SYS_write, w, fill, netbsd.PIPE_SIZE))
			mark := e.reqs.mark()
			assert.Equal(t, netbsd.EAGAIN, e.errno(netbsd.SYS_write, w, fill, 10))
			assert.Zero(t, e.reqs.since(mark, sp.TypeCopyIn))
		}},
		{name: "a write to a pipe without reader fails before the data is copied in", check: func(t *testing.T, e *env) {
			p := e.call(netbsd.SYS_pipe)
			e.ok(netbsd.SYS_close, p.Retval[0])
			mark := e.reqs.mark()
			assert.Equal(t, netbsd.EPIPE, e.errno(netbsd.SYS_write, p.Retval[1], e.bytes([]byte("data")), 4))
			assert.Zero(t, e.reqs.since(mark, sp.TypeCopyIn))
		}},
		{name: "link(missing, x) copies in only the first path", check: func(t *testing.T, e *env) {
			mark := e.reqs.mark()
			assert.Equal(t, netbsd.ENOENT, e.errno(netbsd.SYS_link, e.str("/tmp/missing"), e.str("/tmp/x")))
			assert.Equal(t, 1, e.reqs.since(mark, sp.TypeCopyInStr))
		}},
		{name: "ioctl(FIONREAD) on files gives the bytes left, on pipes the bytes buffered", check: func(t *testing.T, e *env) {
			e.create("/tmp/ten", "0123456789")
			fd := e.open("/tmp/ten", netbsd.O_RDONLY, 0)
			e.read(fd, 3)
			v, errno := e.ioctlInt(fd, netbsd.FIONREAD, -1)
			require.Zero(t, errno)
			assert.Equal(t, int32(7), v)
			p := e.call(netbsd.SYS_pipe)
			e.ok(netbsd.SYS_write, p.Retval[1], e.bytes([]byte("12345")), 5)
			v, errno = e.ioctlInt(p.Retval[0], netbsd.FIONREAD, -1)
			require.Zero(t, errno)
			assert.Equal(t, int32(5), v)
		}},
		{name: "ioctl(FIONBIO) sets O_NONBLOCK", check: func(t *testing.T, e *env) {
			fd := e.open("/tmp/f", netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
			p := e.call(netbsd.SYS_pipe)
			for _, d := range []uint64{fd, p.Retval[0]} {
				_, errno := e.ioctlInt(d, netbsd.FIONBIO, 1)
				require.Zero(t, errno)
				assert.Equal(t, uint64(netbsd.O_NONBLOCK), e.ok(netbsd.SYS_fcntl, d, netbsd.F_GETFL, 0)&netbsd.O_NONBLOCK)
				_, errno = e.ioctlInt(d, netbsd.FIONBIO, 0)
				require.Zero(t, errno)
				assert.Zero(t, e.ok(netbsd.SYS_fcntl, d, netbsd.F_GETFL, 0)&netbsd.O_NONBLOCK)
			}
			assert.Equal(t, netbsd.EAGAIN, func() netbsd.Errno {
				e.ioctlInt(p.Retval[0], netbsd.FIONBIO, 1)
				return e.errno(netbsd.SYS_read, p.Retval[0], e.buf(4), 4)
			}(), "and a read then does not block")
		}},
		{name: "ioctl on a bad fd is EBADF", check: func(t *testing.T, e *env) {
			assert.Equal(t, netbsd.EBADF, e.errno(netbsd.SYS_ioctl, 77, netbsd.FIONREAD, e.buf(4)))
		}},
		{name: "a non-blocking write of 100000 bytes to an empty pipe takes 65536", check: func(t *testing.T, e *env) {
			fds := e.buf(8)
			e.ok(netbsd.SYS_pipe2, fds, netbsd.O_NONBLOCK)
			assert.Equal(t, uint64(65536), e.ok(netbsd.SYS_write, uint64(e.cint(fds+4)), e.bytes(make([]byte, 100000)), 100000))
		}},
		{name: "pipe fstat: mode 010600, nlink 0, st_blksize 16384", check: func(t *testing.T, e *env) {
			p := e.call(netbsd.SYS_pipe)
			for _, fd := range p.Retval {
				st, errno := e.stat(netbsd.SYS___fstat50, fd)
				require.Zero(t, errno)
				assert.Equal(t, [3]int64{0o10600, 0, 16384}, [3]int64{int64(st.Mode), int64(st.Nlink), int64(st.Blksize)})
			}
		}},
		{name: "SIGPIPE on a write without reader comes as RAISE 13 with EPIPE; O_NOSIGPIPE gives EPIPE without the signal", check: func(t *testing.T, e *env) {
			p := e.call(netbsd.SYS_pipe)
			e.ok(netbsd.SYS_close, p.Retval[0])
			assert.Equal(t, netbsd.EPIPE, e.errno(netbsd.SYS_write, p.Retval[1], e.bytes([]byte("x")), 1))
			assert.Equal(t, []int32{13}, e.mem.Signals())
			fds := e.buf(8)
			e.ok(netbsd.SYS_pipe2, fds, netbsd.O_NOSIGPIPE)
			e.ok(netbsd.SYS_close, uint64(e.cint(fds)))
			assert.Equal(t, netbsd.EPIPE, e.errno(netbsd.SYS_write, uint64(e.cint(fds+4)), e.bytes([]byte("x")), 1))
			e.ok(netbsd.SYS_getpid)
			assert.Len(t, e.mem.Signals(), 1, "no second RAISE")
		}},
		{name: "a failed dup2 still has the target fd in retval[0]", check: func(t *testing.T, e *env) {
			r := e.call(netbsd.SYS_dup2, 0, 128)
			assert.Equal(t, netbsd.EBADF, r.Errno)
			assert.Equal(t, uint64(128), r.Retval[0])
		}},
		{name: "pipe2 leaves the write fd in retval[1]", check: func(t *testing.T, e *env) {
			fds := e.buf(8)
			r := e.call(netbsd.SYS_pipe2, fds, 0)
			require.Zero(t, r.Errno)
			assert.Equal(t, [2]uint64{0, uint64(e.cint(fds + 4))}, r.Retval)
		}},
		{name: "as non-root on a tmpfs the user owns: chown is EPERM, chmod 07777 on a file is EFTYPE, setuid(0) is EPERM", check: func(t *testing.T, e *env) {
			e.ok(netbsd.SYS_mkdir, e.str("/mnt"), 0o755)
			e.mountTmpfs("/mnt", 1000, 1000, 0o755)
			e.becomeUser(1000, 1000)
			e.create("/mnt/f", "")
			assert.Equal(t, uint32(1000), e.statPath("/mnt/f").UID, "the user owns what it makes on tmpfs")
			assert.Equal(t, netbsd.EPERM, e.errno(netbsd.SYS_chown, e.str("/mnt/f"), 0, uint64(0xffffffff)))
			assert.Equal(t, netbsd.EFTYPE, e.errno(netbsd.SYS_chmod, e.str("/mnt/f"), 0o7777))
			assert.Equal(t, netbsd.EPERM, e.errno(netbsd.SYS_setuid, 0))
			e.ok(netbsd.SYS_chmod, e.str("/mnt/f"), 0o6755)
			assert.Equal(t, uint32(netbsd.S_IFREG|0o6755), e.statPath("/mnt/f").Mode, "setuid and setgid bits are the owner's to set")
		}},
	})
}
