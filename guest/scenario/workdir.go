package scenario

import (
	"context"
	"fmt"
	"time"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/guest/guestapi"
)

// The base directory scenarios make their own directories in. NetBSD's
// rump_server and sprig's kernel both have a world-writable /tmp; a
// server without one gets them in "/".
var workBases = []string{"/tmp", ""}

// workdir returns the scenario's own directory, making it on first use:
// "/tmp/sprig-<scenario>-<pid>-<n>", a name no other scenario, process or
// earlier run uses. Whatever the scenario leaves in it is removed, with
// it, when the scenario ends.
func (t *T) workdir() string {
	if t.dir != "" {
		return t.dir
	}
	pid := t.getpid()
	// World-writable, so a non-root client can work in it even where the
	// file system gives every node to root whoever makes it (rumpfs).
	// (No defer for the umask: a failure in between must keep its own
	// report, and the connection ends with the scenario anyway.)
	old := t.ok(netbsd.SYS_umask, 0)[0]
	for _, base := range workBases {
		for n := range 8 {
			dir := fmt.Sprintf("%s/sprig-%s-%d-%d", base, t.name, pid, n)
			e, _ := t.try(netbsd.SYS_mkdir, t.str(dir), 0o777)
			switch e {
			case 0:
				t.Check()
				t.ok(netbsd.SYS_umask, old)
				t.dir = dir
				t.atEnd(func() { t.removeTree(dir) })
				return dir
			case netbsd.EEXIST:
				continue // left over from a run that died: try the next name
			case netbsd.ENOSYS:
				t.Unsupported("the server has no mkdir (ENOSYS)")
			}
			break // no such base: try the next
		}
	}
	t.Fail(guestapi.LayerData, "could not make a directory of the scenario's own in /tmp or /")
	return ""
}

// mkdirOpen makes a directory anyone may write in (so a non-root client
// can use it even where every node belongs to root, as on rumpfs).
func (t *T) mkdirOpen(path string) {
	old := t.ok(netbsd.SYS_umask, 0)[0]
	t.ok(netbsd.SYS_mkdir, t.str(path), 0o777)
	t.ok(netbsd.SYS_umask, old)
}

// path returns name inside the scenario's directory.
func (t *T) path(name string) string { return t.workdir() + "/" + name }

// tmpfs mounts a tmpfs on the scenario's directory, as a rump user does to
// get a file system with rename and link (NetBSD's rump root, rumpfs, has
// neither). It reports false, without failing the scenario, when the
// server cannot mount one (no __mount50, no tmpfs in the kernel, not
// root); any other failure fails it. The tmpfs is unmounted at the end.
func (t *T) tmpfs() bool {
	dir := t.workdir()
	if t.mounted {
		return true
	}
	l := t.lay.TmpfsArgs
	args, err := l.Encode(&netbsd.TmpfsArgs{Version: netbsd.TMPFS_ARGS_VERSION, RootMode: 0o755})
	if err != nil {
		t.Fail(guestapi.LayerGuest, "encoding struct tmpfs_args: %v", err)
	}
	e, _ := t.try(netbsd.SYS___mount50, t.str(netbsd.MOUNT_TMPFS), t.str(dir), 0, t.data(args), uint64(len(args)))
	switch e {
	case 0:
	case netbsd.ENOSYS, netbsd.EOPNOTSUPP, netbsd.ENODEV, netbsd.EPERM:
		return false
	default:
		t.FailValue(fmt.Sprintf("__mount50(%q, %q) of a %d-byte tmpfs_args errno", netbsd.MOUNT_TMPFS, dir, len(args)), "0", errName(e))
	}
	t.Check()
	t.mounted = true
	t.atEnd(func() { t.cleanupCall(netbsd.SYS_unmount, t.str(dir), 0) })
	return true
}

// cleanupCall runs a syscall of a clean-up: its result is ignored, and it
// gets a moment of its own if the scenario ran out of time.
func (t *T) cleanupCall(num netbsd.Sysno, args ...uint64) (netbsd.Errno, [2]uint64) {
	ctx := t.ctx
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), time.Second)
		defer cancel()
	}
	r, err := t.c.Syscall(ctx, num, anys(args)...)
	if err != nil {
		return netbsd.EIO, [2]uint64{}
	}
	return r.Errno, r.Retval
}

// removeTree removes dir and everything in it, best effort: a scenario
// that failed half-way must not leave its files on someone's server.
func (t *T) removeTree(dir string) {
	t.removeDepth(dir, 0)
}

func (t *T) removeDepth(dir string, depth int) {
	if depth > 4 {
		return
	}
	if e, _ := t.cleanupCall(netbsd.SYS_rmdir, t.str(dir)); e == 0 || e == netbsd.ENOENT {
		return
	}
	e, rv := t.cleanupCall(netbsd.SYS_open, t.str(dir), netbsd.O_RDONLY|netbsd.O_DIRECTORY, 0)
	if e != 0 {
		return
	}
	fd := rv[0]
	var names []string
	l := t.lay.Dirent
	buf, b := t.alloc(4096, 0)
	for range 16 {
		e, rv := t.cleanupCall(netbsd.SYS___getdents30, fd, buf, uint64(len(b)))
		if e != 0 || rv[0] == 0 || rv[0] > uint64(len(b)) {
			break
		}
		for off := 0; off < int(rv[0]); {
			var d netbsd.Dirent
			reclen, _ := l.Uint(b[off:], "d_reclen")
			if reclen == 0 || off+int(reclen) > int(rv[0]) || l.Decode(b[off:off+int(reclen)], &d) != nil {
				break
			}
			if d.Name != "." && d.Name != ".." {
				names = append(names, d.Name)
			}
			off += int(reclen)
		}
	}
	t.cleanupCall(netbsd.SYS_close, fd)
	for _, n := range names {
		p := dir + "/" + n
		if e, _ := t.cleanupCall(netbsd.SYS_unlink, t.str(p)); e != 0 {
			t.removeDepth(p, depth+1)
		}
	}
	t.cleanupCall(netbsd.SYS_rmdir, t.str(dir))
}
