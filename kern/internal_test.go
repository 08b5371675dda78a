package kern

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

func TestRforkFlagsChooseTheChildsDescriptorTable(t *testing.T) {
	cases := []struct {
		name         string
		flag         rforkFlag
		childHasFD   bool
		parentKeepFD bool // after the child closes it
	}{
		{"flag 2 (RFCFDG) gives a clean table", rforkCleanFDs, false, true},
		{"flag 1 (RFFDG) gives a copy sharing the open file", rforkCopyFDs, true, true},
		{"flag 0 shares the table itself", rforkShareFDs, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, err := New(DefaultConfig())
			require.NoError(t, err)
			sp1, err := k.NewProcess(context.Background(), sp.ClientInfo{ABI: abi.MustLookup("amd64")})
			require.NoError(t, err)
			parent := sp1.(*Process)
			p := newPipe(timespec(time.Now()))
			f := newPipeFile(k.fs, p, false, 0)
			fd, e := parent.fds.install(f, 0, 128, false)
			require.Zero(t, e)

			child, err := k.rfork(parent, tc.flag, sp.ClientInfo{}, false)
			require.NoError(t, err)
			assert.Equal(t, parent.pid, child.PPid())
			assert.Equal(t, parent.cred, child.cred, "a non-guest child keeps its parent's credentials")
			got, e := child.fds.get(fd)
			if !tc.childHasFD {
				assert.Equal(t, netbsd.EBADF, e)
				return
			}
			require.Zero(t, e)
			assert.Same(t, f, got, "the descriptor refers to the parent's open file")
			got.release()
			closed, e := child.fds.remove(fd)
			require.Zero(t, e)
			closed.release()
			kept, e := parent.fds.get(fd)
			assert.Equal(t, tc.parentKeepFD, e == 0)
			if kept != nil {
				kept.release()
			}
			child.Exit()
			parent.Exit()
			p.mu.Lock()
			defer p.mu.Unlock()
			assert.Zero(t, p.readers, "after both exits the pipe end is closed once")
		})
	}
}

func TestExecRenamesAndExitIsIdempotent(t *testing.T) {
	k, err := New(DefaultConfig())
	require.NoError(t, err)
	sp1, err := k.NewProcess(context.Background(), sp.ClientInfo{Name: "first", ABI: abi.MustLookup("mips")})
	require.NoError(t, err)
	p := sp1.(*Process)
	assert.Equal(t, "first", p.Name())
	require.NoError(t, p.Exec(context.Background(), "second"))
	assert.Equal(t, "second", p.Name())
	assert.Equal(t, 2, k.Processes())
	p.Exit()
	p.Exit()
	assert.Equal(t, 1, k.Processes())
	assert.Error(t, p.Exec(context.Background(), "third"), "an exited process cannot exec")
	_, err = p.Fork(context.Background())
	assert.Error(t, err, "nor fork")
}

func TestPermissionChecksFollowVaccess(t *testing.T) {
	user := newCred(1000, 100)
	file := func(mode, uid, gid uint32) *inode {
		return &inode{mode: netbsd.S_IFREG | mode, uid: uid, gid: gid}
	}
	cases := []struct {
		name string
		c    cred
		n    *inode
		want uint32
		ok   bool
	}{
		{"the owner uses the owner's bits", user, file(0o400, 1000, 0), permR, true},
		{"the owner does not fall back to the group's", user, file(0o070, 1000, 100), permR, false},
		{"a group member uses the group's bits", user, file(0o040, 0, 100), permR, true},
		{"others use the other bits", user, file(0o004, 0, 0), permR, true},
		{"write needs w", user, file(0o444, 1000, 0), permW, false},
		{"root reads anything", newCred(0, 0), file(0, 1000, 0), permR | permW, true},
		{"root executes only what someone may", newCred(0, 0), file(0o644, 1000, 0), permX, false},
		{"root executes with any x bit", newCred(0, 0), file(0o001, 1000, 0), permX, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.ok, tc.c.may(tc.n, tc.want) == 0)
		})
	}
}

func TestStickyDirectoriesLimitRemovalToOwners(t *testing.T) {
	onTmpfs := &mount{t: tmpfs}
	sticky := &inode{mnt: onTmpfs, mode: netbsd.S_IFDIR | netbsd.S_ISVTX | 0o777}
	plain := &inode{mnt: onTmpfs, mode: netbsd.S_IFDIR | 0o777}
	mine := &inode{mnt: onTmpfs, mode: netbsd.S_IFREG | 0o644, uid: 1000}
	theirs := &inode{mnt: onTmpfs, mode: netbsd.S_IFREG | 0o666, uid: 2000}
	onRumpfs := &inode{mnt: &mount{t: rumpfs}, mode: sticky.mode}
	user := newCred(1000, 1000)
	cases := []struct {
		name  string
		c     cred
		dir   *inode
		n     *inode
		errno netbsd.Errno
	}{
		{"a user removes their own entry", user, sticky, mine, 0},
		{"not someone else's", user, sticky, theirs, netbsd.EPERM},
		{"unless they own the directory", user, &inode{mnt: onTmpfs, mode: sticky.mode, uid: 1000}, theirs, 0},
		{"root removes anything", newCred(0, 0), sticky, theirs, 0},
		{"rumpfs ignores the sticky bit", user, onRumpfs, theirs, 0},
		{"without the sticky bit, write access suffices", user, plain, theirs, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.errno, tc.c.mayRemove(tc.dir, tc.n))
		})
	}
}

func TestPageStorageKeepsHolesFree(t *testing.T) {
	cfg := DefaultConfig()
	fs := newFileSystem(&cfg, time.Now)
	n := fs.newInode(fs.root, netbsd.S_IFREG|0o644, 0, 0)
	require.Zero(t, fs.writeAt(n, 5<<30, []byte("far")))
	assert.Equal(t, int64(4096), fs.used, "one page for three bytes 5 GiB out")
	assert.Equal(t, []byte{0, 0, 'f', 'a', 'r'}, fs.readAt(n, 5<<30-2, 10))
	require.Zero(t, fs.truncate(n, 5<<30+1))
	assert.Equal(t, []byte{'f'}, fs.readAt(n, 5<<30, 3), "truncated inside the page")
	require.Zero(t, fs.truncate(n, 5<<30+3))
	assert.Equal(t, []byte{'f', 0, 0}, fs.readAt(n, 5<<30, 3), "the cut bytes come back as zeros")
	require.Zero(t, fs.truncate(n, 0))
	assert.Zero(t, fs.used)
}
