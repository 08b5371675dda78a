package kern

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/rumpsprig/sprig/abi/netbsd"
)

// seed copies the configured host directory and tar file into the tree.
func (k *Kernel) seed() error {
	s := &seeder{fs: k.fs, uid: k.cfg.UID, gid: k.cfg.GID}
	if dir := k.cfg.SeedDir; dir != "" {
		if err := s.fromDir(dir); err != nil {
			return fmt.Errorf("kern: config: SeedDir %s: %w", dir, err)
		}
	}
	if file := k.cfg.SeedTar; file != "" {
		if err := s.fromTar(file); err != nil {
			return fmt.Errorf("kern: config: SeedTar %s: %w", file, err)
		}
	}
	if s.skipped > 0 {
		k.log.Info("seed: skipped entries that are not files, directories or links", "count", s.skipped)
	}
	return nil
}

// seeder enters host files into the tree with fixed ownership. It works
// before any client exists, but takes fs.mu all the same.
type seeder struct {
	fs       *fileSystem
	uid, gid uint32
	skipped  int
}

// node makes a node on the root file system owned by the seed's owner
// (not root's, as rumpfs would make it: the seed is sprig's, not a
// client's).
func (s *seeder) node(mode uint32) *inode {
	n := s.fs.newInode(s.fs.root, mode, 0, 0)
	n.uid, n.gid = s.uid, s.gid
	return n
}

// inTree turns a host or archive name into components below "/"; names
// climbing out with ".." stay inside.
func inTree(name string) []string {
	clean := strings.TrimPrefix(path.Clean("/"+filepath.ToSlash(name)), "/")
	if clean == "" {
		return nil
	}
	return strings.Split(clean, "/")
}

// parent walks to the directory that holds the last of comps, making
// missing directories on the way.
func (s *seeder) parent(comps []string) (*inode, error) {
	dir := s.fs.root.root
	for _, c := range comps[:len(comps)-1] {
		next := dir.dir.lookup(c)
		if next == nil {
			next = s.node(netbsd.S_IFDIR | 0o755)
			s.fs.linkDir(dir, c, next)
		}
		if !next.isDir() {
			return nil, fmt.Errorf("%s: not a directory", c)
		}
		dir = next
	}
	return dir, nil
}

// place enters n as the last of comps, replacing a non-directory there.
func (s *seeder) place(comps []string, n *inode) error {
	if len(comps) == 0 {
		return errors.New("cannot replace the root")
	}
	dir, err := s.parent(comps)
	if err != nil {
		return err
	}
	name := comps[len(comps)-1]
	if len(name) > netbsd.NAME_MAX {
		return fmt.Errorf("%s: name longer than %d bytes", name, netbsd.NAME_MAX)
	}
	if old := dir.dir.lookup(name); old != nil {
		if old.isDir() {
			return fmt.Errorf("%s: a directory is in the way", strings.Join(comps, "/"))
		}
		s.fs.unlinkNode(dir, name, old)
	}
	s.fs.linkNode(dir, name, n)
	return nil
}

func (s *seeder) mkdir(name string, perm uint32, mtime time.Time) error {
	comps := inTree(name)
	if len(comps) == 0 {
		return nil // the root exists
	}
	s.fs.mu.Lock()
	defer s.fs.mu.Unlock()
	dir, err := s.parent(comps)
	if err != nil {
		return err
	}
	last := comps[len(comps)-1]
	if old := dir.dir.lookup(last); old != nil {
		if !old.isDir() {
			return fmt.Errorf("%s: a file is in the way", name)
		}
		return nil // keep what is there, "/tmp" included
	}
	n := s.node(netbsd.S_IFDIR | perm)
	n.mtime, n.atime = timespec(mtime), timespec(mtime)
	s.fs.linkDir(dir, last, n)
	return nil
}

func (s *seeder) file(name string, perm uint32, mtime time.Time, r io.Reader) error {
	s.fs.mu.Lock()
	defer s.fs.mu.Unlock()
	n := s.node(netbsd.S_IFREG | perm)
	buf := make([]byte, 64<<10)
	var off int64
	for {
		m, err := r.Read(buf)
		if m > 0 {
			if e := s.fs.writeAt(n, off, buf[:m]); e != 0 {
				s.fs.maybeFree(n)
				return fmt.Errorf("%s: %w", name, e)
			}
			off += int64(m)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			s.fs.maybeFree(n)
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return s.placeNew(name, n, mtime)
}

func (s *seeder) symlink(name, target string, mtime time.Time) error {
	s.fs.mu.Lock()
	defer s.fs.mu.Unlock()
	if len(target) >= netbsd.PATH_MAX {
		return fmt.Errorf("%s: link target longer than %d bytes", name, netbsd.PATH_MAX-1)
	}
	if e := s.fs.charge(s.fs.root, int64(len(target))); e != 0 {
		return fmt.Errorf("%s: %w", name, e)
	}
	n := s.node(netbsd.S_IFLNK | 0o777)
	n.target = target
	return s.placeNew(name, n, mtime)
}

// placeNew stamps n, an inode just made for name, with mtime as its
// modification and access time and puts it at name; if it cannot be
// placed, n is freed again.
func (s *seeder) placeNew(name string, n *inode, mtime time.Time) error {
	n.mtime, n.atime = timespec(mtime), timespec(mtime)
	if err := s.place(inTree(name), n); err != nil {
		s.fs.maybeFree(n)
		return err
	}
	return nil
}

// hardlink makes name another link to the file target names (tar's
// TypeLink entries).
func (s *seeder) hardlink(name, target string) error {
	s.fs.mu.Lock()
	defer s.fs.mu.Unlock()
	n := s.fs.root.root
	for _, c := range inTree(target) {
		if !n.isDir() {
			n = nil
			break
		}
		if n = n.dir.lookup(c); n == nil {
			break
		}
	}
	if n == nil || n.isDir() {
		return fmt.Errorf("%s: hard link to %s, which is not a file here", name, target)
	}
	return s.place(inTree(name), n)
}

// permBits converts host permission bits, sticky, setuid and setgid
// included, to st_mode bits.
func permBits(m fs.FileMode) uint32 {
	p := uint32(m.Perm())
	if m&fs.ModeSticky != 0 {
		p |= netbsd.S_ISVTX
	}
	if m&fs.ModeSetuid != 0 {
		p |= netbsd.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		p |= netbsd.S_ISGID
	}
	return p
}

func (s *seeder) fromDir(root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return s.mkdir(rel, permBits(info.Mode()), info.ModTime())
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return s.symlink(rel, target, info.ModTime())
		case d.Type().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			return s.file(rel, permBits(info.Mode()), info.ModTime(), f)
		}
		s.skipped++
		return nil
	})
}

func (s *seeder) fromTar(file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return err
		}
		defer zr.Close()
		r = zr
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		perm := permBits(h.FileInfo().Mode())
		switch h.Typeflag {
		case tar.TypeDir:
			err = s.mkdir(h.Name, perm, h.ModTime)
		case tar.TypeReg:
			err = s.file(h.Name, perm, h.ModTime, tr)
		case tar.TypeSymlink:
			err = s.symlink(h.Name, h.Linkname, h.ModTime)
		case tar.TypeLink:
			err = s.hardlink(h.Name, h.Linkname)
		default:
			s.skipped++
		}
		if err != nil {
			return err
		}
	}
}
