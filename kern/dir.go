package kern

import "sort"

// dirData is what a directory holds: its entries in the order they were
// added, each with a cookie that getdents uses as the directory offset.
// Cookies 0 and 1 are "." and ".."; entries get 2, 3, ... and a cookie is
// never reused, so a reader part-way through a directory resumes at the
// right place while entries are added and removed.
type dirData struct {
	parent *inode // "..": the root's is itself; nil once removed
	ents   []*dirent
	byName map[string]*dirent
	next   int64
	bytes  int64 // st_size: the getdents records of every entry
	reclen func(int) int64
}

// dirent is one name in a directory.
type dirent struct {
	name   string
	node   *inode
	cookie int64
}

// The cookies of the two entries every directory lists first.
const (
	cookieDot    = 0
	cookieDotDot = 1
	cookieFirst  = 2
)

func newDirData(parent *inode, reclen func(int) int64) *dirData {
	return &dirData{parent: parent, byName: map[string]*dirent{}, next: cookieFirst,
		bytes: reclen(1) + reclen(2), reclen: reclen}
}

func (d *dirData) lookup(name string) *inode {
	if e := d.byName[name]; e != nil {
		return e.node
	}
	return nil
}

func (d *dirData) empty() bool { return len(d.ents) == 0 }

func (d *dirData) add(name string, n *inode) {
	e := &dirent{name: name, node: n, cookie: d.next}
	d.next++
	d.ents = append(d.ents, e)
	d.byName[name] = e
	d.bytes += d.reclen(len(name))
}

func (d *dirData) remove(name string) {
	e := d.byName[name]
	if e == nil {
		return
	}
	delete(d.byName, name)
	i := d.from(e.cookie)
	d.ents = append(d.ents[:i], d.ents[i+1:]...)
	d.bytes -= d.reclen(len(name))
}

// from returns the index of the first entry whose cookie is at least c.
func (d *dirData) from(c int64) int {
	return sort.Search(len(d.ents), func(i int) bool { return d.ents[i].cookie >= c })
}

// nameOf returns the name under which the directory holds n.
func (d *dirData) nameOf(n *inode) (string, bool) {
	for _, e := range d.ents {
		if e.node == n {
			return e.name, true
		}
	}
	return "", false
}

// linkNode enters n in directory dir under name, counting the link and
// stamping the times a new name moves.
func (fs *fileSystem) linkNode(dir *inode, name string, n *inode) {
	now := fs.now()
	dir.dir.add(name, n)
	n.nlink++
	dir.touch(now, touchM|touchC)
}

// linkDir enters a new, empty directory n in dir: n gets "." and "..",
// and dir one more link for n's "..".
func (fs *fileSystem) linkDir(dir *inode, name string, n *inode) {
	n.dir = newDirData(dir, fs.reclen)
	n.nlink = 1 // its own "."
	fs.linkNode(dir, name, n)
	dir.nlink++
}

// unlinkNode removes name from dir; the caller has checked it is there.
func (fs *fileSystem) unlinkNode(dir *inode, name string, n *inode) {
	now := fs.now()
	dir.dir.remove(name)
	dir.touch(now, touchM|touchC)
	if n.isDir() {
		// The directory's own "." and its entry in dir both go; dir
		// loses the link n's ".." held.
		n.nlink = 0
		n.dir.parent = nil
		dir.nlink--
	} else {
		n.nlink--
	}
	n.touch(now, touchC)
	fs.maybeFree(n)
}
