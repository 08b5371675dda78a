package kern

import (
	"strings"

	"github.com/rumpsprig/sprig/abi/netbsd"
)

// found is what a path lookup ends at.
type found struct {
	// dir is the directory that holds the last component; nil when the
	// path names the root by slashes alone ("/").
	dir *inode
	// name is the last component as written: a name, "." or "..", or
	// "" for "/".
	name string
	// node is what the path names, nil when the last component does not
	// exist (a create may then make it in dir).
	node *inode
	// slash reports a trailing slash, which demands a directory.
	slash bool
}

// isDots reports a last component that names a directory relative to
// itself, which no create, remove or rename may use.
func (r found) isDots() bool { return r.name == "." || r.name == ".." || r.name == "" }

// isRoot reports the path "/" (or one made of slashes and links to it),
// which namei refuses to delete or rename (EBUSY) and to create (EEXIST).
func (r found) isRoot() bool { return r.name == "" }

// covering returns what a lookup that reaches n really enters: the root
// of the file system mounted on n (and on that, and so on), or n.
func covering(n *inode) *inode {
	for n.mountedHere != nil {
		n = n.mountedHere.root
	}
	return n
}

// parentOf returns the directory ".." names from cur, as NetBSD's namei
// finds it: the root stays put; from the root of a mounted file system,
// ".." is looked up in the directory it covers. nil when cur has been
// removed.
func (fs *fileSystem) parentOf(cur *inode) *inode {
	root := fs.root.root
	for cur != root && cur.isMountRoot() {
		cur = cur.mnt.covered
	}
	if cur == root {
		return root
	}
	if cur.dir.parent == nil {
		return nil
	}
	return covering(cur.dir.parent)
}

// namei resolves path for credentials c starting at cwd, the way NetBSD's
// namei does: search permission on every directory passed, at most
// MAXSYMLINKS symbolic links, ENAMETOOLONG for a component longer than
// KERNEL_NAME_MAX or a link expansion reaching PATH_MAX, and the roots of
// mounted file systems in place of the directories they cover. follow
// says whether a symbolic link in the last component is followed; a
// trailing slash always follows it. The caller holds fs.mu.
func (fs *fileSystem) namei(c cred, cwd *inode, path string, follow bool) (found, netbsd.Errno) {
	if path == "" {
		return found{}, netbsd.ENOENT
	}
	if len(path) >= netbsd.PATH_MAX {
		return found{}, netbsd.ENAMETOOLONG
	}
	cur := cwd
	if path[0] == '/' {
		cur = fs.root.root
	}
	rest, links := path, 0
	for {
		rest = strings.TrimLeft(rest, "/")
		if rest == "" {
			// Only slashes were left: the path named cur, which
			// only happens for the root (path "/" or a link to it).
			return found{node: cur, slash: true}, 0
		}
		comp, after, hasSlash := strings.Cut(rest, "/")
		tail := strings.TrimLeft(after, "/")
		last := tail == ""
		slash := last && hasSlash
		if len(comp) > netbsd.KERNEL_NAME_MAX {
			return found{}, netbsd.ENAMETOOLONG
		}
		if !cur.isDir() {
			return found{}, netbsd.ENOTDIR
		}
		if e := c.may(cur, permX); e != 0 {
			return found{}, e
		}
		var next *inode
		switch comp {
		case ".":
			next = cur
		case "..":
			next = fs.parentOf(cur)
			if next == nil { // cur was removed
				return found{}, netbsd.ENOENT
			}
		default:
			if next = cur.dir.lookup(comp); next != nil {
				next = covering(next)
			}
		}
		if next == nil {
			if !last {
				return found{}, netbsd.ENOENT
			}
			return found{dir: cur, name: comp, slash: slash}, 0
		}
		if next.isLink() && (!last || follow || slash) {
			if links++; links > netbsd.MAXSYMLINKS {
				return found{}, netbsd.ELOOP
			}
			if next.target == "" {
				return found{}, netbsd.ENOENT
			}
			remain := tail
			if slash {
				remain = "/"
			}
			if len(next.target)+len(remain)+1 >= netbsd.PATH_MAX {
				return found{}, netbsd.ENAMETOOLONG
			}
			if next.target[0] == '/' {
				cur = fs.root.root
			}
			rest = next.target
			if remain != "" {
				rest += "/" + remain
			}
			continue
		}
		if last {
			if slash && !next.isDir() {
				return found{}, netbsd.ENOTDIR
			}
			return found{dir: cur, name: comp, node: next, slash: slash}, 0
		}
		cur, rest = next, tail
	}
}

// tree is the file system as one path syscall sees it: fs.mu is held,
// and the credentials, cwd and umask are the process's as they were just
// before the lock was taken. All of a syscall's lookups go through one
// tree, so they see the file system in a single state.
type tree struct {
	fs    *fileSystem
	cr    cred
	cwd   *inode
	umask uint32
}

// lockTree takes the process's cwd, umask and credentials, then fs.mu;
// the caller gives the lock back with unlock. Paths are copied in before
// this, as a copy-in waits for the client, which must not happen under
// fs.mu.
func (c *call) lockTree() tree {
	cwd, umask, cr := c.p.snapshot()
	c.fs.mu.Lock()
	return tree{fs: c.fs, cr: cr, cwd: cwd, umask: umask}
}

func (t tree) unlock() { t.fs.mu.Unlock() }

// namei resolves path from the process's cwd with its credentials (see
// fileSystem.namei).
func (t tree) namei(path string, follow bool) (found, netbsd.Errno) {
	return t.fs.namei(t.cr, t.cwd, path, follow)
}

// existing resolves a path that must name something: a missing last
// component is ENOENT.
func (t tree) existing(path string, follow bool) (found, netbsd.Errno) {
	r, e := t.namei(path, follow)
	if e == 0 && r.node == nil {
		e = netbsd.ENOENT
	}
	return r, e
}

// deleting resolves the path of an entry about to be removed or renamed
// away: "/" is EBUSY, as NetBSD's namei answers DELETE and RENAME
// lookups of it.
func (t tree) deleting(path string) (found, netbsd.Errno) {
	r, e := t.existing(path, false)
	if e == 0 && r.isRoot() {
		e = netbsd.EBUSY
	}
	return r, e
}

// creating resolves the path of an entry about to be made, without
// following a final symbolic link, and checks that it may be made: the
// name must be free (EEXIST, "/" included), a trailing slash is only for
// a directory (ENOENT otherwise, as namei's REQUIREDIR without
// CREATEDIR), its directory must not have been removed (ENOENT, unless
// the file system lets removed directories live) and the process must be
// allowed to change that directory.
func (t tree) creating(path string, dir bool) (found, netbsd.Errno) {
	r, e := t.namei(path, false)
	switch {
	case e != 0:
		return r, e
	case r.node != nil:
		return r, netbsd.EEXIST
	case r.slash && !dir:
		return r, netbsd.ENOENT
	}
	if e := r.dir.mnt.mayCreateNode(); e != 0 {
		return r, e
	}
	return r, t.mayCreateIn(r.dir)
}

// mayCreateIn checks that a new entry may go into dir.
func (t tree) mayCreateIn(dir *inode) netbsd.Errno {
	if dir.nlink == 0 && !dir.mnt.t.removedDirLives {
		return netbsd.ENOENT
	}
	return t.cr.mayChange(dir)
}

// getcwd builds the path of directory n into a buffer of length bytes as
// NetBSD's getcwd_common does: walking up at most length/2 directories,
// checking search permission on n and read and search on each one above,
// stepping from the root of a mounted file system to the directory it
// covers, and answering ERANGE when the next name does not fit. Its
// limit counts directories, not bytes, so a deep path of short names
// that would fit can stop early and come back cut at the top, as a
// success: NetBSD's bug, reproduced. ENOENT when n has been removed.
// The result includes the NUL.
func (fs *fileSystem) getcwd(c cred, n *inode, length int) ([]byte, netbsd.Errno) {
	buf := make([]byte, length)
	bp := length - 1 // buf[bp:] is the path so far; the NUL is last
	root := fs.root.root
	if n == root {
		bp--
		buf[bp] = '/'
		return buf[bp:], 0
	}
	want := uint32(permX)
	limit := length / 2
	for cur := n; cur != root && limit > 0; limit-- {
		if !cur.isDir() {
			return nil, netbsd.ENOTDIR
		}
		if e := c.may(cur, want); e != 0 {
			return nil, e
		}
		want = permR | permX
		for cur != root && cur.isMountRoot() {
			cur = cur.mnt.covered
		}
		if cur == root {
			break
		}
		parent := cur.dir.parent
		if parent == nil {
			return nil, netbsd.ENOENT
		}
		name, ok := parent.dir.nameOf(cur)
		if !ok {
			return nil, netbsd.ENOENT
		}
		if bp-len(name) <= 0 {
			return nil, netbsd.ERANGE
		}
		bp -= len(name)
		copy(buf[bp:], name)
		bp--
		buf[bp] = '/'
		cur = parent // a ".." lookup on a vnode does not cross mounts
	}
	return buf[bp:], 0
}
