package kern_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
)

func TestMountChecksAsDoSysMountAndTmpfsMount(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		e.ok(netbsd.SYS_mkdir, e.str("/mnt"), 0o755)
		e.create("/tmp/file", "")
		good, n := e.tmpfsArgs(netbsd.TmpfsArgs{Version: 1, RootMode: 0o755})
		badVersion, _ := e.tmpfsArgs(netbsd.TmpfsArgs{Version: 2, RootMode: 0o755})
		cases := []struct {
			name        string
			typ, path   string
			flags       uint64
			data        uint64
			dataLen     uint64
			errno       netbsd.Errno
			copyInStrs  int
			afterUserOf bool
		}{
			{"a missing directory is ENOENT, before the type is read", "tmpfs", "/nowhere", 0, good, uint64(n), netbsd.ENOENT, 1, false},
			{"an unknown type is ENODEV", "nfs", "/mnt", 0, good, uint64(n), netbsd.ENODEV, 2, false},
			{"rumpfs is ENODEV: sprig mounts only tmpfs", "rumpfs", "/mnt", 0, good, uint64(n), netbsd.ENODEV, 2, false},
			{"a type name of 32 bytes or more is ENODEV", strings.Repeat("t", 32), "/mnt", 0, good, uint64(n), netbsd.ENODEV, 2, false},
			{"MNT_UPDATE is EOPNOTSUPP", "tmpfs", "/mnt", netbsd.MNT_UPDATE, good, uint64(n), netbsd.EOPNOTSUPP, 1, false},
			{"MNT_RDONLY is EOPNOTSUPP", "tmpfs", "/mnt", netbsd.MNT_RDONLY, good, uint64(n), netbsd.EOPNOTSUPP, 1, false},
			{"data_len past VFS_MAX_MOUNT_DATA is EINVAL", "tmpfs", "/mnt", 0, good, 8193, netbsd.EINVAL, 2, false},
			{"no data is EINVAL", "tmpfs", "/mnt", 0, 0, 0, netbsd.EINVAL, 2, false},
			{"a version other than 1 is EINVAL", "tmpfs", "/mnt", 0, badVersion, uint64(n), netbsd.EINVAL, 2, false},
			{"a file is ENOTDIR", "tmpfs", "/tmp/file", 0, good, uint64(n), netbsd.ENOTDIR, 2, false},
			{"a user may not mount: EPERM", "tmpfs", "/mnt", 0, good, uint64(n), netbsd.EPERM, 2, true},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				if tc.afterUserOf {
					e.ok(netbsd.SYS_seteuid, user)
					defer e.ok(netbsd.SYS_seteuid, 0)
				}
				mark := e.reqs.mark()
				assert.Equal(t, tc.errno, e.errno(netbsd.SYS___mount50, e.str(tc.typ), e.str(tc.path), tc.flags, tc.data, tc.dataLen))
				assert.Equal(t, tc.copyInStrs, e.reqs.since(mark, 3 /* COPYINSTR */), "paths copied in")
			})
		}
		assert.Equal(t, uint64(0), e.ok(netbsd.SYS___mount50, e.str("tmpfs"), e.str("/mnt"), netbsd.MNT_NOSUID|netbsd.MNT_NODEV, good, 0),
			"data_len 0 means a whole struct tmpfs_args; MNT_NOSUID and MNT_NODEV are accepted")
		assert.Equal(t, uint32(0o755|netbsd.S_IFDIR), e.statPath("/mnt").Mode)
	})
}

func TestAMountedTmpfsStandsInForItsDirectory(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		e.ok(netbsd.SYS_mkdir, e.str("/tmp/under"), 0o755)
		e.create("/tmp/under/hidden", "rumpfs")
		below := e.statPath("/tmp/under")
		e.mountTmpfs("/tmp/under", 0, 0, 0o777)
		above := e.statPath("/tmp/under")
		assert.NotEqual(t, below.Ino, above.Ino, "the tmpfs root answers for the directory")
		_, errno := e.stat(netbsd.SYS___stat50, e.str("/tmp/under/hidden"))
		assert.Equal(t, netbsd.ENOENT, errno, "the covered directory's files are hidden")
		e.create("/tmp/under/new", "tmpfs")
		e.ok(netbsd.SYS_chdir, e.str("/tmp/under"))
		assert.Equal(t, e.statPath("/tmp").Ino, e.statPath("..").Ino, ".. from the tmpfs root is the covered directory's parent")
		b := e.buf(64)
		r := e.call(netbsd.SYS___getcwd, b, 64)
		require.Zero(t, r.Errno)
		assert.Equal(t, "/tmp/under\x00", string(e.mem.Read(b, int(r.Retval[0]))), "getcwd steps over the mount")
		e.ok(netbsd.SYS_chdir, e.str("/"))

		e.mountTmpfs("/tmp/under", 0, 0, 0o700)
		assert.Equal(t, uint32(netbsd.S_IFDIR|0o700), e.statPath("/tmp/under").Mode, "a second mount stacks on the first's root")
		e.ok(netbsd.SYS_unmount, e.str("/tmp/under"), 0)
		assert.Equal(t, "tmpfs", e.read(e.open("/tmp/under/new", netbsd.O_RDONLY, 0), 16), "the first is back")
		e.ok(netbsd.SYS_close, 3)
		e.ok(netbsd.SYS_unmount, e.str("/tmp/under"), 0)
		assert.Equal(t, "rumpfs", e.read(e.open("/tmp/under/hidden", netbsd.O_RDONLY, 0), 16), "and then the covered directory")
		assert.Equal(t, below.Ino, e.statPath("/tmp/under").Ino)
	})
}

func TestUnmountIsEBUSYWhileTheFileSystemIsInUse(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		e.ok(netbsd.SYS_mkdir, e.str("/mnt"), 0o755)
		e.mountTmpfs("/mnt", 0, 0, 0o755)
		e.ok(netbsd.SYS_mkdir, e.str("/mnt/d"), 0o755)
		e.create("/mnt/f", "")
		unmount := func() netbsd.Errno { return e.errno(netbsd.SYS_unmount, e.str("/mnt"), 0) }
		steps := []struct {
			name  string
			do    func(e *env)
			errno netbsd.Errno
		}{
			{"a working directory inside holds it", func(e *env) { e.ok(netbsd.SYS_chdir, e.str("/mnt/d")) }, netbsd.EBUSY},
			{"the root file system is EINVAL", func(e *env) {
				assert.Equal(t, netbsd.EINVAL, e.errno(netbsd.SYS_unmount, e.str("/"), 0))
			}, netbsd.EBUSY},
			{"a directory that is no mount's root is EINVAL", func(e *env) {
				assert.Equal(t, netbsd.EINVAL, e.errno(netbsd.SYS_unmount, e.str("/mnt/d"), 0))
			}, netbsd.EBUSY},
			{"a user may not unmount: EPERM", func(e *env) {
				e.ok(netbsd.SYS_seteuid, user)
				assert.Equal(t, netbsd.EPERM, unmount())
				e.ok(netbsd.SYS_seteuid, 0)
			}, netbsd.EBUSY},
			{"MNT_FORCE does not help", func(e *env) {
				assert.Equal(t, netbsd.EBUSY, e.errno(netbsd.SYS_unmount, e.str("/mnt"), netbsd.MNT_FORCE))
			}, netbsd.EBUSY},
			{"an open file holds it", func(e *env) {
				e.ok(netbsd.SYS_chdir, e.str("/"))
				e.open("/mnt/f", netbsd.O_RDONLY, 0)
			}, netbsd.EBUSY},
			{"a file system mounted inside holds it", func(e *env) {
				e.ok(netbsd.SYS_close, 3)
				e.mountTmpfs("/mnt/d", 0, 0, 0o755)
			}, netbsd.EBUSY},
			{"with nothing in use it goes", func(e *env) { e.ok(netbsd.SYS_unmount, e.str("/mnt/d"), 0) }, 0},
		}
		for _, s := range steps {
			t.Run(s.name, func(t *testing.T) {
				e := e.with(t)
				s.do(e)
				require.Equal(t, s.errno, unmount())
			})
		}
		assert.Equal(t, uint32(2), e.statPath("/mnt").Nlink, "/mnt is the rumpfs directory again")
		assert.Empty(t, e.listing("/mnt"))
	})
}

func TestATmpfsKeepsItsSizeAndNodeLimits(t *testing.T) {
	forEachSetup(t, nil, func(t *testing.T, e *env) {
		e.ok(netbsd.SYS_mkdir, e.str("/mnt"), 0o755)
		data, n := e.tmpfsArgs(netbsd.TmpfsArgs{Version: 1, SizeMax: 8192, NodesMax: 5, RootMode: 0o777})
		e.ok(netbsd.SYS___mount50, e.str("tmpfs"), e.str("/mnt"), 0, data, uint64(n))
		fd := e.open("/mnt/f", netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
		page := e.bytes(make([]byte, 4096))
		e.ok(netbsd.SYS_write, fd, page, 4096)
		e.ok(netbsd.SYS_write, fd, page, 4096)
		mark := e.reqs.mark()
		assert.Equal(t, netbsd.ENOSPC, e.errno(netbsd.SYS_write, fd, page, 1), "two pages fill an 8 KiB tmpfs")
		assert.Zero(t, e.reqs.since(mark, 2 /* COPYIN */), "the file system is sized before the data comes")
		e.create("/mnt/b", "")
		e.create("/mnt/c", "")
		e.ok(netbsd.SYS_mkdir, e.str("/mnt/d"), 0o755) // the root and four nodes
		assert.Equal(t, netbsd.ENOSPC, e.errno(netbsd.SYS_open, e.str("/mnt/e"), netbsd.O_CREAT|netbsd.O_RDWR, 0o644), "no sixth node")
		assert.Equal(t, netbsd.ENOSPC, e.errno(netbsd.SYS_mkdir, e.str("/mnt/e"), 0o755))
		e.ok(netbsd.SYS_unlink, e.str("/mnt/b"))
		e.create("/mnt/e", "")
		e.ok(netbsd.SYS_close, fd)
		e.ok(netbsd.SYS_unmount, e.str("/mnt"), 0)
		big := e.open("/tmp/big", netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
		assert.Equal(t, uint64(4096), e.ok(netbsd.SYS_write, big, page, 4096), "the unmounted tmpfs gave its space back")
	})
}
