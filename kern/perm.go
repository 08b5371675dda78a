package kern

import "github.com/rumpsprig/sprig/abi/netbsd"

// cred is a process's credentials. sprig gives each process one uid and
// one gid (real and effective alike) and no supplementary groups.
type cred struct {
	uid, gid uint32
}

func (c cred) root() bool { return c.uid == 0 }

// Access bits, in the order of a mode's rwx triplet.
const (
	permX = 1
	permW = 2
	permR = 4
)

// may checks access want (a permR|permW|permX mask) to n the way
// NetBSD's generic vaccess does: the owner's triplet for the owner, the
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
	case c.uid == n.uid:
		granted = n.mode >> 6 & 7
	case c.gid == n.gid:
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
// replaced): write and search on dir and, in a sticky directory, owning
// the entry or the directory.
func (c cred) mayRemove(dir, n *inode) netbsd.Errno {
	if e := c.mayChange(dir); e != 0 {
		return e
	}
	if dir.mode&netbsd.S_ISVTX != 0 && !c.root() && c.uid != dir.uid && c.uid != n.uid {
		return netbsd.EPERM
	}
	return 0
}
