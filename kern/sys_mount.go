package kern

import (
	"math"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// mountFlagsIgnored are the mount flags sprig accepts and does nothing
// with: they restrict what a file system's files may do (run, be
// set-id, be devices) or how it writes, none of which sprig models.
const mountFlagsIgnored = netbsd.MNT_SYNCHRONOUS | netbsd.MNT_NOEXEC | netbsd.MNT_NOSUID |
	netbsd.MNT_NODEV | netbsd.MNT_ASYNC | netbsd.MNT_NOCOREDUMP | netbsd.MNT_NOATIME | netbsd.MNT_FORCE

// __mount50(2): type, path, flags, data, data_len, in do_sys_mount's
// order: the path is copied in and looked up (following links); the type
// name is copied in (MFSNAMELEN bytes at most) and must be a file system
// this kernel has, which is only "tmpfs" (anything else, a name that
// does not copy in included, is ENODEV); data_len bytes of data are
// copied in (0 means sizeof(struct tmpfs_args); more than
// VFS_MAX_MOUNT_DATA is EINVAL); then only root may mount (EPERM), on a
// directory (ENOTDIR), and tmpfs_mount checks its arguments: at least a
// whole struct tmpfs_args (EINVAL), ta_version 1 (EINVAL). Mounting on
// a directory that already has a file system mounted on it mounts on
// that one's root, which the lookup reached, as NetBSD stacks mounts. Its
// root gets ta_root_uid, ta_root_gid and ta_root_mode; ta_size_max
// below a page means no limit of its own, ta_nodes_max of 3 or less
// means 3 plus one per KiB of size.
//
// Flags that ask to update, reload or read back a mount, or to mount
// read-only, are EOPNOTSUPP: sprig does not model them. Other flags are
// accepted and ignored (see mountFlagsIgnored).
func sysMount(c *call) sp.Result {
	flags := uint32(c.int(2))
	path, e := c.path(1)
	if e != 0 {
		return fail(e)
	}
	t := c.lockTree()
	_, e = t.existing(path, true)
	t.unlock()
	if e != 0 {
		return fail(e)
	}
	if flags&^mountFlagsIgnored != 0 {
		return fail(netbsd.EOPNOTSUPP)
	}
	typ, e := c.str(c.arg(0), netbsd.MFSNAMELEN)
	if e != 0 || typ != netbsd.MOUNT_TMPFS {
		return fail(netbsd.ENODEV) // mount_get_vfsops: no such type here
	}
	l := netbsd.LayoutsFor(c.abi()).TmpfsArgs
	dataAddr, dataLen := c.arg(3), c.arg(4)
	var args netbsd.TmpfsArgs
	haveArgs := false
	if dataAddr != 0 {
		if dataLen == 0 {
			dataLen = uint64(l.Size)
		}
		if dataLen > netbsd.VFS_MAX_MOUNT_DATA {
			return fail(netbsd.EINVAL)
		}
		b, e := c.copyIn(dataAddr, int(dataLen))
		if e != 0 {
			return fail(e)
		}
		if len(b) >= l.Size {
			if err := l.Decode(b[:l.Size], &args); err != nil {
				return fail(netbsd.EINVAL)
			}
			haveArgs = true
		}
	}
	t = c.lockTree()
	defer t.unlock()
	r, e := t.existing(path, true) // it may have changed while data came in
	if e != 0 {
		return fail(e)
	}
	n := r.node
	switch {
	case !t.cr.root():
		return fail(netbsd.EPERM)
	case !n.isDir():
		return fail(netbsd.ENOTDIR)
	case !haveArgs, args.Version != netbsd.TMPFS_ARGS_VERSION:
		return fail(netbsd.EINVAL)
	}
	m := t.fs.newMount(tmpfs, n, netbsd.S_IFDIR|args.RootMode&netbsd.ALLPERMS, args.RootUID, args.RootGID)
	if args.SizeMax >= t.fs.pageSize {
		m.sizeMax = args.SizeMax
	}
	switch {
	case args.NodesMax > 3:
		m.nodesMax = int64(min(args.NodesMax, math.MaxInt32))
	case m.sizeMax > 0:
		m.nodesMax = min(3+m.sizeMax/1024, math.MaxInt32)
	}
	n.mountedHere = m
	c.k.log.Debug("mount", "type", typ, "path", path, "pid", c.p.pid)
	return done(0)
}

// unmount(2): path, flags, as sys_unmount and dounmount: only root
// (EPERM); the root file system (EINVAL) and a directory that is not the
// root of a mounted file system (EINVAL) cannot be unmounted; a file
// system in use is EBUSY -- a file open on it, a process's working
// directory in it, or another file system mounted on one of its
// directories, as NetBSD's vflush refuses vnodes still referenced.
// MNT_FORCE, which would revoke those, is not modelled: it is EBUSY too.
func sysUnmount(c *call) sp.Result {
	path, e := c.path(0)
	if e != 0 {
		return fail(e)
	}
	t := c.lockTree()
	defer t.unlock()
	r, e := t.existing(path, true)
	switch {
	case e != 0:
		return fail(e)
	case !t.cr.root():
		return fail(netbsd.EPERM)
	case r.node == t.fs.root.root:
		return fail(netbsd.EINVAL)
	case !r.node.isMountRoot():
		return fail(netbsd.EINVAL)
	}
	m := r.node.mnt
	if c.k.mountBusy(m) {
		return fail(netbsd.EBUSY)
	}
	m.covered.mountedHere = nil
	t.fs.uncharge(m, m.used)
	c.k.log.Debug("unmount", "path", path, "pid", c.p.pid)
	return done(0)
}

// mountBusy reports whether m is in use; fs.mu is held, which keeps
// every cwd where it is while the processes are looked at.
func (k *Kernel) mountBusy(m *mount) bool {
	if m.opens > 0 || hasMounts(m.root) {
		return true
	}
	for _, p := range k.processes() {
		p.mu.Lock()
		inside := p.cwd != nil && p.cwd.mnt == m
		p.mu.Unlock()
		if inside {
			return true
		}
	}
	return false
}

// hasMounts reports whether a file system is mounted on dir or on a
// directory below it in its own file system.
func hasMounts(dir *inode) bool {
	if dir.mountedHere != nil {
		return true
	}
	for _, e := range dir.dir.ents {
		if e.node.isDir() && hasMounts(e.node) {
			return true
		}
	}
	return false
}
