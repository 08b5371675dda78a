package kern

import (
	"sort"

	"github.com/rumpsprig/sprig/abi/netbsd"
)

// dirData is what a directory holds: its entries in the order they were
// added. Each entry has a sequence number, as tmpfs gives its entries for
// directory offsets: "." is 0, ".." 1, the end 2, and entries count up
// from 3 without reuse, so a tmpfs reader part-way through resumes at the
// entry it stopped before. rumpfs ignores them and uses list positions.
type dirData struct {
	parent *inode // "..": the root's is itself; nil once removed
	ents   []*dirent
	byName map[string]*dirent
	next   int64
}

// dirent is one name in a directory.
type dirent struct {
	name string
	node *inode
	seq  int64
}

// Directory offsets of tmpfs's listing (TMPFS_DIRSEQ_*).
const (
	seqDot    = 0
	seqDotDot = 1
	seqEOF    = 2
	seqFirst  = 3
)

func newDirData(parent *inode) *dirData {
	return &dirData{parent: parent, byName: map[string]*dirent{}, next: seqFirst}
}

func (d *dirData) lookup(name string) *inode {
	if e := d.byName[name]; e != nil {
		return e.node
	}
	return nil
}

func (d *dirData) empty() bool { return len(d.ents) == 0 }

func (d *dirData) add(name string, n *inode) {
	e := &dirent{name: name, node: n, seq: d.next}
	d.next++
	d.ents = append(d.ents, e)
	d.byName[name] = e
}

func (d *dirData) remove(name string) {
	e := d.byName[name]
	if e == nil {
		return
	}
	delete(d.byName, name)
	i := d.bySeq(e.seq)
	d.ents = append(d.ents[:i], d.ents[i+1:]...)
}

// bySeq returns the index of the entry with sequence number s, or the
// index where it would be.
func (d *dirData) bySeq(s int64) int {
	return sort.Search(len(d.ents), func(i int) bool { return d.ents[i].seq >= s })
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
	dir.dir.add(name, n)
	n.nlink++
	dir.touch(fs.now(), touchM|touchC)
}

// linkDir enters a new, empty directory n in dir: n gets "." and "..",
// and dir one more link for n's "..".
func (fs *fileSystem) linkDir(dir *inode, name string, n *inode) {
	n.dir = newDirData(dir)
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

// record is one struct dirent a listing returns.
type record struct {
	ino   uint64
	dtype uint8
	name  string
}

// reclen is the length of a getdents record for a name of n bytes:
// NetBSD's _DIRENT_RECLEN, the header up to d_name, the name, its NUL,
// padded to 8.
func reclen(nameOff, n int) int { return alignUp(nameOff+n+1, netbsd.DirentAlign) }

// readDir lists dir from offset off into at most count bytes, as its
// personality does, and returns the records and the offset to go on
// from; the caller holds fs.mu.
func (fs *fileSystem) readDir(dir *inode, off int64, count, nameOff int) ([]record, int64, netbsd.Errno) {
	t := dir.mnt.t
	if dir.nlink == 0 && !t.removedDirLives {
		return nil, off, 0 // removed: nothing left to list
	}
	if t.listingReads {
		defer dir.touch(fs.now(), touchA)
	}
	if t.newestFirst {
		recs, next := readDirNewestFirst(dir, off, count, nameOff)
		return recs, next, 0
	}
	return readDirBySeq(fs, dir, off, count, nameOff)
}

// readDirNewestFirst is rumpfs's listing: no "." or "..", newest entry
// first, the offset an index into that order. It reproduces rumpfs's
// arithmetic exactly: the index is a C unsigned int, and a record that
// does not fit steps it back one, so a buffer too small for the first
// record leaves the offset at 4294967295 (and the next call at the end),
// and one that fills up part-way makes the next call repeat the last
// record it returned.
func readDirNewestFirst(dir *inode, off int64, count, nameOff int) ([]record, int64) {
	n := int64(len(dir.dir.ents))
	at := func(i uint32) *dirent { return dir.dir.ents[n-1-int64(i)] }
	var i uint32
	for int64(i) < off && int64(i) < n {
		i++
	}
	if int64(i) >= n {
		return nil, int64(i)
	}
	var out []record
	resid := count
	for ; int64(i) < n && resid > 0; i++ {
		e := at(i)
		rl := reclen(nameOff, len(e.name))
		if resid < rl {
			i--
			break
		}
		out = append(out, record{ino: e.node.ino, dtype: e.node.dtype(), name: e.name})
		resid -= rl
	}
	return out, int64(i)
}

// readDirBySeq is tmpfs's listing: ".", "..", then entries oldest first;
// the offset is the sequence number of the next record (2 at the end). A
// record that does not fit ends the call there, offset unchanged; an
// offset naming no entry (it was removed, or lseek made it up) is EINVAL.
func readDirBySeq(fs *fileSystem, dir *inode, off int64, count, nameOff int) ([]record, int64, netbsd.Errno) {
	var out []record
	resid := count
	fits := func(name string) bool { return reclen(nameOff, len(name)) <= resid }
	emit := func(ino uint64, dtype uint8, name string) {
		out = append(out, record{ino: ino, dtype: dtype, name: name})
		resid -= reclen(nameOff, len(name))
	}
	if off == seqDot {
		if !fits(".") {
			return out, off, 0
		}
		emit(dir.ino, netbsd.DT_DIR, ".")
		off = seqDotDot
	}
	if off == seqDotDot {
		if !fits("..") {
			return out, off, 0
		}
		parent := dir.dir.parent
		if dir == dir.mnt.root {
			parent = dir // a tmpfs root is its own parent, as NetBSD's is
		}
		emit(parent.ino, netbsd.DT_DIR, "..")
		off = seqEOF
		if len(dir.dir.ents) > 0 {
			off = dir.dir.ents[0].seq
		}
	}
	if off == seqEOF {
		return out, off, 0
	}
	i := dir.dir.bySeq(off)
	if i == len(dir.dir.ents) || dir.dir.ents[i].seq != off {
		return out, off, netbsd.EINVAL
	}
	for ; i < len(dir.dir.ents) && resid > 0; i++ {
		e := dir.dir.ents[i]
		if !fits(e.name) {
			break
		}
		emit(e.node.ino, e.node.dtype(), e.name)
	}
	if i < len(dir.dir.ents) {
		return out, dir.dir.ents[i].seq, 0
	}
	return out, seqEOF, 0
}
