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

// namei resolves path for credentials c starting at cwd, the way NetBSD's
// namei does: search permission on every directory passed, at most
// MAXSYMLINKS symbolic links, ENAMETOOLONG for a component longer than
// NAME_MAX or a link expansion reaching PATH_MAX. follow says whether a
// symbolic link in the last component is followed; a trailing slash
// always follows it. The caller holds fs.mu.
func (fs *fileSystem) namei(c cred, cwd *inode, path string, follow bool) (found, netbsd.Errno) {
	if path == "" {
		return found{}, netbsd.ENOENT
	}
	if len(path) >= netbsd.PATH_MAX {
		return found{}, netbsd.ENAMETOOLONG
	}
	cur := cwd
	if path[0] == '/' {
		cur = fs.root
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
		if len(comp) > netbsd.NAME_MAX {
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
			next = cur.dir.parent
			if next == nil { // cur was removed
				return found{}, netbsd.ENOENT
			}
		default:
			next = cur.dir.lookup(comp)
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
				cur = fs.root
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

// lockTree takes the process's cwd and umask, then fs.mu; the caller
// gives the lock back with unlock. Paths are copied in before this, as a
// copy-in waits for the client, which must not happen under fs.mu.
func (c *call) lockTree() tree {
	cwd, umask := c.p.snapshot()
	c.fs.mu.Lock()
	return tree{fs: c.fs, cr: c.p.cred, cwd: cwd, umask: umask}
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

// creating resolves the path of an entry about to be made, without
// following a final symbolic link, and checks that it may be made: the
// name must be free (EEXIST), its directory must not have been removed
// (ENOENT), and the process must be allowed to change that directory.
func (t tree) creating(path string) (found, netbsd.Errno) {
	r, e := t.namei(path, false)
	switch {
	case e != 0:
		return r, e
	case r.node != nil:
		return r, netbsd.EEXIST
	case r.dir.nlink == 0:
		return r, netbsd.ENOENT
	}
	return r, t.cr.mayChange(r.dir)
}

// pathOf returns the absolute path of directory n for __getcwd, checking
// search permission on n and read and search permission on each
// directory above it, as NetBSD's getcwd does when it walks up. ENOENT
// when n has been removed.
func (fs *fileSystem) pathOf(c cred, n *inode) (string, netbsd.Errno) {
	if n == fs.root {
		return "/", 0
	}
	var parts []string
	want := uint32(permX)
	for cur := n; cur != fs.root; {
		if e := c.may(cur, want); e != 0 {
			return "", e
		}
		want = permR | permX
		parent := cur.dir.parent
		if parent == nil {
			return "", netbsd.ENOENT
		}
		name, ok := parent.dir.nameOf(cur)
		if !ok {
			return "", netbsd.ENOENT
		}
		parts = append(parts, name)
		cur = parent
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(parts[i])
	}
	return b.String(), 0
}
