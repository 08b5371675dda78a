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
