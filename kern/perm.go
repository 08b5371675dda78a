package kern

import (
	"slices"

	"github.com/rumpsprig/sprig/abi/netbsd"
)

// cred is a process's credentials: real, effective and saved ids and the
// supplementary groups (empty for every rump client). The effective ids
// decide access, as NetBSD's kauth does.
type cred struct {
	ruid, euid, svuid uint32
	rgid, egid, svgid uint32
	groups            []uint32 // never modified in place
}

func newCred(uid, gid uint32) cred {
	return cred{ruid: uid, euid: uid, svuid: uid, rgid: gid, egid: gid, svgid: gid}
}

// root reports the superuser, who passes every check kauth's default
// security model lets it pass.
func (c cred) root() bool { return c.euid == 0 }

// member reports whether gid is the effective group or a supplementary
// one.
func (c cred) member(gid uint32) bool { return c.egid == gid || slices.Contains(c.groups, gid) }

// Access bits, in the order of a mode's rwx triplet.
const (
	permX = 1
	permW = 2
	permR = 4
)

// may checks access want (a permR|permW|permX mask) to n the way
// NetBSD's genfs_can_access does: the owner's triplet for the owner, the
// group's for a member, the others' for the rest. Root may do anything
// except execute a file that no one may execute.
func (c cred) may(n *inode, want uint32) netbsd.Errno {
	if c.root() {
		if want&permX != 0 && !n.isDir() && n.mode&0o111 == 0 {
			return netbsd.EACCES
		}
		return 0
	}
	var granted uint32
	switch {
	case c.euid == n.uid:
		granted = n.mode >> 6 & 7
	case c.member(n.gid):
		granted = n.mode >> 3 & 7
	default:
		granted = n.mode & 7
	}
	if want&^granted != 0 {
		return netbsd.EACCES
	}
	return 0
}

// mayChange checks that an entry may be added to or removed from dir.
func (c cred) mayChange(dir *inode) netbsd.Errno {
	return c.may(dir, permW|permX)
}

// mayRemove checks that n may be unlinked from dir (or renamed away or
// replaced): write and search on dir and, where the file system honours
// the sticky bit, owning the entry or the directory.
func (c cred) mayRemove(dir, n *inode) netbsd.Errno {
	if e := c.mayChange(dir); e != 0 {
		return e
	}
	if dir.mnt.t.sticky && dir.mode&netbsd.S_ISVTX != 0 && !c.root() && c.euid != dir.uid && c.euid != n.uid {
		return netbsd.EPERM
	}
	return 0
}

// mayChmod is genfs_can_chmod: only the owner (or root) changes a mode;
// a non-root owner may not set the sticky bit on a non-directory
// (EFTYPE) nor the setgid bit for a group it is not in (EPERM).
func (c cred) mayChmod(n *inode, mode uint32) netbsd.Errno {
	if c.root() {
		return 0
	}
	if c.euid != n.uid {
		return netbsd.EPERM
	}
	if !n.isDir() && mode&netbsd.S_ISVTX != 0 {
		return netbsd.EFTYPE
	}
	if mode&netbsd.S_ISGID != 0 && !c.member(n.gid) {
		return netbsd.EPERM
	}
	return 0
}

// mayChown is genfs_can_chown: root may give a file to anyone; its owner
// may only change its group, to one it belongs to.
func (c cred) mayChown(n *inode, uid, gid uint32) netbsd.Errno {
	if c.root() {
		return 0
	}
	if c.euid != n.uid || uid != n.uid {
		return netbsd.EPERM
	}
	if gid == n.gid || c.member(gid) {
		return 0
	}
	return netbsd.EPERM
}

// mayChtimes is genfs_can_chtimes: the owner (or root) sets any times;
// with a NULL times pointer (set to now), write access suffices.
func (c cred) mayChtimes(n *inode, toNow bool) netbsd.Errno {
	if c.root() || c.euid == n.uid {
		return 0
	}
	if !toNow {
		return netbsd.EPERM
	}
	return c.may(n, permW)
}
