package kern

import (
	"sync"

	"github.com/rumpsprig/sprig/abi/netbsd"
)

// fdTable maps a process's descriptor numbers to open files. Processes
// forked with rfork flag 0 share one table; users counts them, and the
// last one to exit closes what is left.
type fdTable struct {
	mu    sync.Mutex
	slots []fdSlot
	users int
}

// fdSlot is one descriptor. A reserved slot is taken by an open still in
// progress: not free, not yet usable.
type fdSlot struct {
	f        *file
	cloexec  bool
	reserved bool
}

func (s fdSlot) free() bool { return s.f == nil && !s.reserved }

func newFDTable() *fdTable { return &fdTable{users: 1} }

// share returns t for one more process.
func (t *fdTable) share() *fdTable {
	t.mu.Lock()
	t.users++
	t.mu.Unlock()
	return t
}

// copy returns a new table whose descriptors refer to the same files as
// t's (fork): offsets and status flags stay shared, close-on-exec is
// copied.
func (t *fdTable) copy() *fdTable {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := &fdTable{users: 1, slots: make([]fdSlot, len(t.slots))}
	for i, s := range t.slots {
		if s.f != nil {
			c.slots[i] = fdSlot{f: s.f.hold(), cloexec: s.cloexec}
		}
	}
	return c
}

// get returns the file at fd with a reference the caller releases.
func (t *fdTable) get(fd int) (*file, netbsd.Errno) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.isOpen(fd) {
		return nil, netbsd.EBADF
	}
	return t.slots[fd].f.hold(), 0
}

// isOpen reports whether fd refers to an open file; t.mu is held.
func (t *fdTable) isOpen(fd int) bool {
	return fd >= 0 && fd < len(t.slots) && t.slots[fd].f != nil
}

// lowest finds the lowest free descriptor at or above from and below
// limit, growing the table if needed; t.mu is held.
func (t *fdTable) lowest(from, limit int) (int, netbsd.Errno) {
	for fd := from; fd < limit; fd++ {
		if fd >= len(t.slots) {
			t.slots = append(t.slots, make([]fdSlot, fd+1-len(t.slots))...)
		}
		if t.slots[fd].free() {
			return fd, 0
		}
	}
	return -1, netbsd.EMFILE
}

// install puts f (whose reference the table takes over) at the lowest
// free descriptor at or above from.
func (t *fdTable) install(f *file, from, limit int, cloexec bool) (int, netbsd.Errno) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fd, e := t.lowest(from, limit)
	if e != 0 {
		return -1, e
	}
	t.slots[fd] = fdSlot{f: f, cloexec: cloexec}
	return fd, 0
}

// reserve takes the lowest free descriptor for an open that may still
// fail, so EMFILE comes before any file is created, as in NetBSD.
func (t *fdTable) reserve(limit int) (int, netbsd.Errno) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fd, e := t.lowest(0, limit)
	if e != 0 {
		return -1, e
	}
	t.slots[fd].reserved = true
	return fd, 0
}

// fill completes a reservation with f, or with nil gives it back.
func (t *fdTable) fill(fd int, f *file, cloexec bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.slots[fd] = fdSlot{f: f, cloexec: cloexec}
}

// remove empties fd and returns its file for the caller to release.
func (t *fdTable) remove(fd int) (*file, netbsd.Errno) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.isOpen(fd) {
		return nil, netbsd.EBADF
	}
	f := t.slots[fd].f
	t.slots[fd] = fdSlot{}
	return f, 0
}

// dup2 makes to refer to from's file (close-on-exec clear) and returns
// the file to was using, if any, for the caller to release.
func (t *fdTable) dup2(from, to, limit int) (old *file, e netbsd.Errno) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.isOpen(from) {
		return nil, netbsd.EBADF
	}
	if to < 0 || to >= limit {
		return nil, netbsd.EBADF
	}
	if from == to {
		return nil, 0
	}
	if to >= len(t.slots) {
		t.slots = append(t.slots, make([]fdSlot, to+1-len(t.slots))...)
	}
	if t.slots[to].reserved {
		return nil, netbsd.EBADF // an open is filling it right now
	}
	old = t.slots[to].f
	t.slots[to] = fdSlot{f: t.slots[from].f.hold()}
	return old, 0
}

// cloexec reports fd's close-on-exec flag.
func (t *fdTable) cloexec(fd int) (bool, netbsd.Errno) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.isOpen(fd) {
		return false, netbsd.EBADF
	}
	return t.slots[fd].cloexec, 0
}

func (t *fdTable) setCloexec(fd int, on bool) netbsd.Errno {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.isOpen(fd) {
		return netbsd.EBADF
	}
	t.slots[fd].cloexec = on
	return 0
}

// takeCloexec empties the close-on-exec descriptors (exec).
func (t *fdTable) takeCloexec() []*file {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*file
	for i, s := range t.slots {
		if s.f != nil && s.cloexec {
			out = append(out, s.f)
			t.slots[i] = fdSlot{}
		}
	}
	return out
}

// leave drops one user; the last takes every file for the caller to
// release (exit).
func (t *fdTable) leave() []*file {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.users--; t.users > 0 {
		return nil
	}
	var out []*file
	for i, s := range t.slots {
		if s.f != nil {
			out = append(out, s.f)
		}
		t.slots[i] = fdSlot{}
	}
	return out
}

func releaseAll(files []*file) {
	for _, f := range files {
		f.release()
	}
}
