package scenario

import (
	"fmt"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/guest/guestapi"
)

// statGuard is how many bytes past the client's struct stat each stat
// buffer has, pre-filled, to catch a server writing a bigger struct.
const statGuard = 32

// statLayout is struct stat in the client's own layout: what sits in its
// memory once a stat call returns, in every mode.
func (t *T) statLayout() *abi.Layout { return t.lay.Stat }

// statInto runs a stat-family call whose last argument is the buffer and
// decodes the result. It fails if the server wrote past the client's
// struct or left st_spare (which NetBSD zeroes) unwritten.
func (t *T) statInto(call netbsd.Sysno, first uint64) netbsd.Stat {
	l := t.statLayout()
	buf, b := t.alloc(l.Size+statGuard, guardFill)
	t.ok(call, first, buf)
	for i, c := range b[l.Size:] {
		if c != guardFill {
			t.finish(guestapi.Result{
				Status: guestapi.Fail, Layer: guestapi.LayerData,
				Detail: fmt.Sprintf("%s wrote past the client's %d-byte struct stat: byte %d is %#02x, not the guard %#02x",
					call, l.Size, l.Size+i, c, guardFill),
				Field: &guestapi.FieldMismatch{
					Struct: "stat", Path: fmt.Sprintf("(%d bytes past the end)", i),
					Expected: fmt.Sprintf("%#02x (unwritten)", guardFill), Got: fmt.Sprintf("%#02x", c),
					ClientOffset: l.Size + i, ClientSize: 1, ClientStructSize: l.Size,
				},
			})
		}
	}
	t.Check()
	var st netbsd.Stat
	if err := l.Decode(b[:l.Size], &st); err != nil {
		t.Fail(guestapi.LayerGuest, "decoding struct stat: %v", err)
	}
	t.statSane(call, l, b, st)
	return st
}

// statSane checks, member by member in memory order, what any struct
// stat from NetBSD satisfies whatever the file, so the first member a
// mismatched layout garbles is the one reported.
func (t *T) statSane(call netbsd.Sysno, l *abi.Layout, b []byte, st netbsd.Stat) {
	fail := func(path string, want string, got any) { t.FailFieldIn(call.String(), l, path, want, got) }
	switch st.Mode & netbsd.S_IFMT {
	case netbsd.S_IFREG, netbsd.S_IFDIR, netbsd.S_IFLNK, netbsd.S_IFIFO, netbsd.S_IFCHR, netbsd.S_IFBLK, netbsd.S_IFSOCK:
	default:
		fail("st_mode", "a file type in S_IFMT", fmt.Sprintf("%#o", st.Mode))
	}
	if st.Mode&^(netbsd.S_IFMT|0o7777) != 0 {
		fail("st_mode", "no bits outside S_IFMT|07777", fmt.Sprintf("%#o", st.Mode))
	}
	t.Check()
	// NetBSD leaves a pipe's st_ino and st_nlink 0.
	pipe := st.Mode&netbsd.S_IFMT == netbsd.S_IFIFO
	if (st.Ino == 0 && !pipe) || st.Ino >= 1<<32 {
		fail("st_ino", "a small nonzero inode number", st.Ino)
	}
	if (st.Nlink == 0 && !pipe) || st.Nlink > netbsd.LINK_MAX {
		fail("st_nlink", fmt.Sprintf("1..%d", netbsd.LINK_MAX), st.Nlink)
	}
	if st.UID >= 1<<24 {
		fail("st_uid", "a uid below 2^24", st.UID)
	}
	if st.GID >= 1<<24 {
		fail("st_gid", "a gid below 2^24", st.GID)
	}
	t.Check()
	for _, ts := range []struct {
		name string
		v    netbsd.Timespec
	}{{"st_atim", st.Atim}, {"st_mtim", st.Mtim}, {"st_ctim", st.Ctim}, {"st_birthtim", st.Birthtim}} {
		if ts.v.Sec < 0 || ts.v.Sec >= 1<<40 {
			fail(ts.name+".tv_sec", "a time since 1970", ts.v.Sec)
		}
		if ts.v.Nsec < 0 || ts.v.Nsec >= 1e9 {
			fail(ts.name+".tv_nsec", "0..999999999", ts.v.Nsec)
		}
		t.Check()
	}
	if st.Size < 0 {
		fail("st_size", ">= 0", st.Size)
	}
	if st.Blocks < 0 || st.Blocks > st.Size/512+64 {
		fail("st_blocks", fmt.Sprintf("0..%d for a %d-byte file", st.Size/512+64, st.Size), st.Blocks)
	}
	if st.Blksize <= 0 || st.Blksize&(st.Blksize-1) != 0 {
		fail("st_blksize", "a positive power of two", st.Blksize)
	}
	t.Check()
	for _, f := range []string{"st_spare[0]", "st_spare[1]"} {
		v, err := l.Uint(b, f)
		if err != nil {
			t.Fail(guestapi.LayerGuest, "reading %s: %v", f, err)
		}
		if v != 0 {
			fail(f, "0", fmt.Sprintf("%#x", v))
		}
		t.Check()
	}
}

// fstat runs __fstat50 on fd.
func (t *T) fstat(fd uint64) netbsd.Stat {
	return t.statInto(netbsd.SYS___fstat50, fd)
}

// statPath runs __stat50 or __lstat50 on path.
func (t *T) statPath(call netbsd.Sysno, path string) netbsd.Stat {
	return t.statInto(call, t.str(path))
}

// statField is one member of struct stat as a comparable value.
type statField struct {
	path string
	v    any
}

func statFields(s netbsd.Stat) []statField {
	ts := func(name string, v netbsd.Timespec) []statField {
		return []statField{{name + ".tv_sec", v.Sec}, {name + ".tv_nsec", v.Nsec}}
	}
	f := []statField{
		{"st_dev", s.Dev}, {"st_mode", fmt.Sprintf("%#o", s.Mode)}, {"st_ino", s.Ino},
		{"st_nlink", s.Nlink}, {"st_uid", s.UID}, {"st_gid", s.GID}, {"st_rdev", fmt.Sprintf("%#x", s.Rdev)},
	}
	f = append(f, ts("st_atim", s.Atim)...)
	f = append(f, ts("st_mtim", s.Mtim)...)
	f = append(f, ts("st_ctim", s.Ctim)...)
	f = append(f, ts("st_birthtim", s.Birthtim)...)
	return append(f, statField{"st_size", s.Size}, statField{"st_blocks", s.Blocks},
		statField{"st_blksize", s.Blksize}, statField{"st_flags", s.Flags}, statField{"st_gen", s.Gen})
}

// sameStat checks that two stats of one unchanged file agree member by
// member.
func (t *T) sameStat(call string, want, got netbsd.Stat) {
	w, g := statFields(want), statFields(got)
	for i := range w {
		if w[i].v != g[i].v {
			t.FailFieldIn(call+" (compared with __fstat50)", t.statLayout(), w[i].path, w[i].v, g[i].v)
		}
		t.Check()
	}
}

// scenarioStat checks every member of struct stat from __fstat50,
// __stat50 and __lstat50 of a file whose contents and mode are known,
// by what NetBSD guarantees on every file system (rumpfs included, which
// owns every node as root and counts one block per file).
func scenarioStat(t *T) {
	const size = 1000
	t.guest()
	euid := t.ok(netbsd.SYS_geteuid)[0]
	// NetBSD gives a new file its directory's group, not the creator's
	// (BSD semantics, every file system), so st_gid is the directory's.
	dir := t.statPath(netbsd.SYS___stat50, t.workdir())
	if dir.Mode&netbsd.S_IFMT != netbsd.S_IFDIR {
		t.FailFieldIn("__stat50 of the scenario's directory", t.statLayout(), "st_mode", "S_IFDIR", netbsd.FileTypeString(dir.Mode))
	}
	t.Check()
	t.ok(netbsd.SYS_umask, 0o22)
	expect(t, "umask(077) returns the previous mask", uint64(0o22), t.ok(netbsd.SYS_umask, 0o77)[0])
	expect(t, "umask(022) returns the previous mask", uint64(0o77), t.ok(netbsd.SYS_umask, 0o22)[0])

	path := t.path("f")
	fd := t.open(path, netbsd.O_CREAT|netbsd.O_RDWR, 0o666)
	t.write(fd, pattern(size, 3))
	now := time.Now().Unix()

	l := t.statLayout()
	st := t.fstat(fd)
	field := func(path string, want, got any) {
		if want != got {
			t.FailFieldIn("__fstat50", l, path, want, got)
		}
		t.Check()
	}
	if st.Ino == 0 {
		t.FailFieldIn("__fstat50", l, "st_ino", "nonzero", 0)
	}
	t.Check()
	field("st_mode", fmt.Sprintf("%#o", netbsd.S_IFREG|0o644), fmt.Sprintf("%#o", st.Mode))
	field("st_nlink", uint32(1), st.Nlink)
	if st.UID != uint32(euid) && st.UID != 0 {
		t.FailFieldIn("__fstat50", l, "st_uid", fmt.Sprintf("%d (the creator's euid) or 0 (rumpfs owns every node)", euid), st.UID)
	}
	t.Check()
	field("st_gid", dir.GID, st.GID)
	if st.Rdev != netbsd.NODEV && st.Rdev != 0 {
		t.FailFieldIn("__fstat50", l, "st_rdev", fmt.Sprintf("%#x (NODEV) or 0 for a regular file", netbsd.NODEV), fmt.Sprintf("%#x", st.Rdev))
	}
	t.Check()
	field("st_size", int64(size), st.Size)
	if st.Blksize <= 0 {
		t.FailFieldIn("__fstat50", l, "st_blksize", "> 0", st.Blksize)
	}
	t.Check()
	// st_blocks counts 512-byte units allocated: some, and at most the
	// data rounded up to whole st_blksize blocks (rumpfs reports 1 for
	// every file).
	hi := (int64(size) + int64(st.Blksize) - 1) / int64(st.Blksize) * int64(st.Blksize) / 512
	if st.Blocks < 1 || st.Blocks > hi {
		t.FailFieldIn("__fstat50", l, "st_blocks", fmt.Sprintf("1..%d for %d bytes in %d-byte blocks", hi, size, st.Blksize), st.Blocks)
	}
	t.Check()
	field("st_flags", uint32(0), st.Flags)
	for _, ts := range []struct {
		name string
		v    netbsd.Timespec
	}{{"st_atim", st.Atim}, {"st_mtim", st.Mtim}, {"st_ctim", st.Ctim}, {"st_birthtim", st.Birthtim}} {
		if ts.v.Nsec < 0 || ts.v.Nsec >= 1e9 {
			t.FailFieldIn("__fstat50", l, ts.name+".tv_nsec", "0..999999999", ts.v.Nsec)
		}
		t.Check()
		if d := ts.v.Sec - now; d < -86400 || d > 86400 {
			t.FailFieldIn("__fstat50", l, ts.name+".tv_sec", fmt.Sprintf("within a day of %d (the guest's clock)", now), ts.v.Sec)
		}
		t.Check()
		if ts.name != "st_birthtim" && before(ts.v, st.Birthtim) {
			t.FailFieldIn("__fstat50", l, ts.name, fmt.Sprintf("not before st_birthtim %d.%09d", st.Birthtim.Sec, st.Birthtim.Nsec),
				fmt.Sprintf("%d.%09d", ts.v.Sec, ts.v.Nsec))
		}
		t.Check()
	}

	t.sameStat("__stat50", st, t.statPath(netbsd.SYS___stat50, path))
	t.sameStat("__lstat50", st, t.statPath(netbsd.SYS___lstat50, path))

	t.ok(netbsd.SYS_close, fd)
	t.ok(netbsd.SYS_unlink, t.str(path))
	buf, _ := t.alloc(l.Size, guardFill)
	t.fails("__stat50 of the unlinked file", netbsd.ENOENT, netbsd.SYS___stat50, t.str(path), buf)
}

func before(a, b netbsd.Timespec) bool {
	return a.Sec < b.Sec || (a.Sec == b.Sec && a.Nsec < b.Nsec)
}
