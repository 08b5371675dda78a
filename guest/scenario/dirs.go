package scenario

import (
	"fmt"
	"sort"
	"strings"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/guest/guestapi"
)

// direntReclen is NetBSD's _DIRENT_RECLEN: the fixed part, the name and
// its NUL, rounded up to a multiple of 8.
func direntReclen(namlen int) int {
	return (13 + namlen + 1 + netbsd.DirentAlign - 1) &^ (netbsd.DirentAlign - 1)
}

// readDir reads a directory with __getdents30 until it returns 0 and
// checks every record's framing in the client's dirent layout.
func (t *T) readDir(fd uint64) []netbsd.Dirent {
	l := t.lay.Dirent
	const size = 4096
	buf, b := t.alloc(size, guardFill)
	var out []netbsd.Dirent
	for round := 0; ; round++ {
		if round == 16 {
			t.Fail(guestapi.LayerData, "__getdents30 still returning records after %d calls (%d entries)", round, len(out))
		}
		for i := range b {
			b[i] = guardFill
		}
		n := t.ok(netbsd.SYS___getdents30, fd, buf, size)[0]
		if n == 0 {
			return out
		}
		if n > size {
			t.FailValue("__getdents30 retval", fmt.Sprintf("<= %d", size), n)
		}
		t.untouched("__getdents30 buffer past the bytes returned", b[n:], guardFill)
		for off := 0; off < int(n); {
			rec := b[off:n]
			if len(rec) < l.Size {
				t.Fail(guestapi.LayerData, "dirent at byte %d: only %d bytes left of %d, a record needs %d", off, len(rec), n, l.Size)
			}
			reclen, _ := l.Uint(rec, "d_reclen")
			namlen, _ := l.Uint(rec, "d_namlen")
			if reclen%netbsd.DirentAlign != 0 || reclen < uint64(l.Size) || reclen > uint64(len(rec)) {
				t.FailFieldIn(fmt.Sprintf("__getdents30 record at byte %d", off), l, "d_reclen",
					fmt.Sprintf("a multiple of %d, %d..%d", netbsd.DirentAlign, l.Size, len(rec)), reclen)
			}
			t.Check()
			if namlen == 0 || int(namlen) > netbsd.NAME_MAX || int(reclen) != direntReclen(int(namlen)) {
				t.FailFieldIn(fmt.Sprintf("__getdents30 record at byte %d", off), l, "d_reclen",
					fmt.Sprintf("%d for d_namlen %d", direntReclen(int(namlen)), namlen), reclen)
			}
			t.Check()
			var d netbsd.Dirent
			if err := l.Decode(rec[:reclen], &d); err != nil {
				t.Fail(guestapi.LayerGuest, "decoding dirent: %v", err)
			}
			nameOff, _, _ := l.Field("d_name")
			if len(d.Name) != int(namlen) || rec[nameOff+int(namlen)] != 0 {
				t.FailFieldIn(fmt.Sprintf("__getdents30 record at byte %d", off), l, "d_namlen",
					fmt.Sprintf("%d (the length of %q)", len(d.Name), d.Name), namlen)
			}
			t.Check()
			out = append(out, d)
			off += int(reclen)
		}
	}
}

// scenarioGetdents lists a fresh directory holding three files. NetBSD
// lists "." and ".." on most file systems and not on rumpfs, and the
// order of entries is the file system's: both are accepted, every name
// must come once with its inode number and type.
func scenarioGetdents(t *T) {
	t.guest()
	dir := t.path("d")
	t.mkdirOpen(dir)
	// Name lengths chosen so the records need different padding.
	files := []string{"a", "bravo", "charlie-has-a-longer-name"}
	inos := map[string]uint64{}
	for _, f := range files {
		p := dir + "/" + f
		fd := t.open(p, netbsd.O_CREAT|netbsd.O_WRONLY, 0o644)
		t.ok(netbsd.SYS_close, fd)
		inos[f] = t.statPath(netbsd.SYS___stat50, p).Ino
	}
	inos[".."] = t.statPath(netbsd.SYS___stat50, t.workdir()).Ino

	fd := t.open(dir, netbsd.O_RDONLY|netbsd.O_DIRECTORY, 0)
	inos["."] = t.fstat(fd).Ino
	ents := t.readDir(fd)
	t.ok(netbsd.SYS_close, fd)

	l := t.lay.Dirent
	var got []string
	seen := map[string]bool{}
	for _, d := range ents {
		if seen[d.Name] {
			t.FailFieldIn("__getdents30", l, "d_name", "each name once", fmt.Sprintf("%q twice", d.Name))
		}
		seen[d.Name] = true
		if d.Name == "." || d.Name == ".." {
			continue
		}
		got = append(got, d.Name)
	}
	if seen["."] != seen[".."] {
		t.FailValue("__getdents30 names", `both "." and ".." or neither`, fmt.Sprintf(". %v, .. %v", seen["."], seen[".."]))
	}
	t.Check()
	for _, d := range ents {
		want, ok := inos[d.Name]
		if !ok {
			continue // reported below with the whole listing
		}
		if d.Fileno != want {
			t.FailFieldIn(fmt.Sprintf("__getdents30 entry %q", d.Name), l, "d_fileno", fmt.Sprintf("%d (its st_ino)", want), d.Fileno)
		}
		t.Check()
		typ := uint8(netbsd.DT_REG)
		if d.Name == "." || d.Name == ".." {
			typ = netbsd.DT_DIR
		}
		if d.Type != typ {
			t.FailFieldIn(fmt.Sprintf("__getdents30 entry %q", d.Name), l, "d_type", typ, d.Type)
		}
		t.Check()
	}
	sort.Strings(got)
	want := append([]string(nil), files...)
	sort.Strings(want)
	if strings.Join(got, "/") != strings.Join(want, "/") {
		t.FailValue("__getdents30 names (without . and ..)", strings.Join(want, " "), strings.Join(got, " "))
	}
	t.Check()

	for _, f := range files {
		t.ok(netbsd.SYS_unlink, t.str(dir+"/"+f))
	}
	t.ok(netbsd.SYS_rmdir, t.str(dir))
}

// scenarioDirs: mkdir, rename, link, unlink and rmdir, with NetBSD's
// errors for the cases that must fail. NetBSD's rump root (rumpfs) has
// neither rename nor link, so the scenario mounts a tmpfs on its
// directory first, as a rump user would.
func scenarioDirs(t *T) {
	t.guest()
	if !t.tmpfs() {
		probe := t.path("probe")
		t.ok(netbsd.SYS_mkdir, t.str(probe), 0o755)
		e, _ := t.try(netbsd.SYS_rename, t.str(probe), t.str(probe+"2"))
		if e == netbsd.EOPNOTSUPP || e == netbsd.ENOSYS {
			t.Unsupported("the file system has no rename (%s) and no tmpfs can be mounted", e)
		}
		t.cleanupCall(netbsd.SYS_rmdir, t.str(probe))
		t.cleanupCall(netbsd.SYS_rmdir, t.str(probe+"2"))
	}
	base := t.workdir()
	sub, sub2 := base+"/sub", base+"/sub2"
	f, g, h := sub+"/f", sub+"/g", sub+"/h"

	t.fails("mkdir of an existing directory", netbsd.EEXIST, netbsd.SYS_mkdir, t.str(base), 0o755)
	t.ok(netbsd.SYS_mkdir, t.str(sub), 0o700)
	st := t.statPath(netbsd.SYS___stat50, sub)
	if st.Mode&netbsd.S_IFMT != netbsd.S_IFDIR {
		t.FailFieldIn("__stat50 of a new directory", t.statLayout(), "st_mode", "S_IFDIR", netbsd.FileTypeString(st.Mode))
	}
	t.Check()

	fd := t.open(f, netbsd.O_CREAT|netbsd.O_WRONLY, 0o644)
	t.write(fd, []byte("dirs"))
	t.ok(netbsd.SYS_close, fd)
	ino := t.statPath(netbsd.SYS___stat50, f).Ino

	t.ok(netbsd.SYS_rename, t.str(f), t.str(g))
	t.fails("__stat50 of a renamed file's old name", netbsd.ENOENT, netbsd.SYS___stat50, t.str(f), t.statBuf())
	st = t.statPath(netbsd.SYS___stat50, g)
	if st.Ino != ino {
		t.FailFieldIn("__stat50 of the new name", t.statLayout(), "st_ino", ino, st.Ino)
	}
	t.Check()
	if st.Size != 4 {
		t.FailFieldIn("__stat50 of the new name", t.statLayout(), "st_size", 4, st.Size)
	}
	t.Check()

	t.ok(netbsd.SYS_link, t.str(g), t.str(h))
	st = t.statPath(netbsd.SYS___stat50, h)
	if st.Ino != ino || st.Nlink != 2 {
		t.FailFieldIn("__stat50 of a hard link", t.statLayout(), "st_nlink", fmt.Sprintf("2, inode %d", ino), fmt.Sprintf("%d, inode %d", st.Nlink, st.Ino))
	}
	t.Check()
	t.fails("link onto an existing name", netbsd.EEXIST, netbsd.SYS_link, t.str(g), t.str(h))
	t.ok(netbsd.SYS_unlink, t.str(h))

	t.fails("open of a path through a file", netbsd.ENOTDIR, netbsd.SYS_open, t.str(g+"/x"), netbsd.O_RDONLY, 0)
	t.fails("rmdir of a non-empty directory", netbsd.ENOTEMPTY, netbsd.SYS_rmdir, t.str(sub))
	t.fails("rmdir of a file", netbsd.ENOTDIR, netbsd.SYS_rmdir, t.str(g))
	t.fails("unlink of a directory", netbsd.EPERM, netbsd.SYS_unlink, t.str(sub))
	t.fails("rename of a directory into itself", netbsd.EINVAL, netbsd.SYS_rename, t.str(sub), t.str(sub+"/inside"))

	t.ok(netbsd.SYS_unlink, t.str(g))
	t.fails("unlink of an unlinked file", netbsd.ENOENT, netbsd.SYS_unlink, t.str(g))
	t.fails("__stat50 of an unlinked file", netbsd.ENOENT, netbsd.SYS___stat50, t.str(g), t.statBuf())

	t.ok(netbsd.SYS_rename, t.str(sub), t.str(sub2))
	t.fails("__stat50 of a renamed directory's old name", netbsd.ENOENT, netbsd.SYS___stat50, t.str(sub), t.statBuf())
	st = t.statPath(netbsd.SYS___stat50, sub2)
	if st.Mode != netbsd.S_IFDIR|0o700 {
		t.FailFieldIn("__stat50 of the renamed directory", t.statLayout(), "st_mode", fmt.Sprintf("%#o", netbsd.S_IFDIR|0o700), fmt.Sprintf("%#o", st.Mode))
	}
	t.Check()

	t.ok(netbsd.SYS_rmdir, t.str(sub2))
	t.fails("rmdir of a removed directory", netbsd.ENOENT, netbsd.SYS_rmdir, t.str(sub2))
	t.fails("__stat50 of a removed directory", netbsd.ENOENT, netbsd.SYS___stat50, t.str(sub2), t.statBuf())
}

// statBuf returns a buffer for a stat call that is expected to fail.
func (t *T) statBuf() uint64 {
	a, _ := t.alloc(t.statLayout().Size, guardFill)
	return a
}

// getcwd runs __getcwd into a fresh buffer of n bytes and returns the
// path, checking NetBSD's return value (the length with the NUL) and
// that nothing past the NUL was written.
func (t *T) getcwd(n int) string {
	buf, b := t.alloc(n, guardFill)
	rv := t.ok(netbsd.SYS___getcwd, buf, uint64(n))
	if rv[0] < 2 || rv[0] > uint64(n) {
		t.FailValue("__getcwd retval (length with NUL)", fmt.Sprintf("2..%d", n), rv[0])
	}
	l := int(rv[0])
	if b[l-1] != 0 {
		t.FailValue(fmt.Sprintf("__getcwd buffer[%d] (the NUL)", l-1), "0x00", fmt.Sprintf("%#02x", b[l-1]))
	}
	t.Check()
	t.untouched("__getcwd buffer past the NUL", b[l:], guardFill)
	return string(b[:l-1])
}

// scenarioCwd: chdir, __getcwd and a relative path after chdir.
func scenarioCwd(t *T) {
	t.guest()
	parent := t.workdir()
	dir := parent + "/d"
	t.mkdirOpen(dir)
	t.ok(netbsd.SYS_chdir, t.str(dir))
	t.atEnd(func() { t.cleanupCall(netbsd.SYS_chdir, t.str("/")) })
	expect(t, "__getcwd after chdir", dir, t.getcwd(256))
	// A buffer of fewer than 2 bytes is ERANGE whatever the path.
	t.fails("__getcwd into 1 byte", netbsd.ERANGE, netbsd.SYS___getcwd, t.data(make([]byte, 1)), 1)

	fd := t.open("rel", netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
	t.write(fd, []byte("relative"))
	t.ok(netbsd.SYS_close, fd)
	st := t.statPath(netbsd.SYS___stat50, dir+"/rel")
	if st.Size != 8 {
		t.FailFieldIn("__stat50 of the file made by a relative open", t.statLayout(), "st_size", 8, st.Size)
	}
	t.Check()

	t.fails("chdir to a missing directory", netbsd.ENOENT, netbsd.SYS_chdir, t.str("missing"))
	t.fails("chdir to a file", netbsd.ENOTDIR, netbsd.SYS_chdir, t.str("rel"))
	t.ok(netbsd.SYS_chdir, t.str(".."))
	expect(t, "__getcwd after chdir(\"..\")", parent, t.getcwd(256))

	t.ok(netbsd.SYS_unlink, t.str(dir+"/rel"))
	t.ok(netbsd.SYS_rmdir, t.str(dir))
}
