package kern

import (
	"context"
	"sync"
	"time"

	"github.com/rumpsprig/sprig/abi/netbsd"
)

// pipe is a one-way byte channel with a PIPE_SIZE buffer. Readers block
// until there are bytes or no writer is left (EOF); writers block until
// there is room, and fail with EPIPE once no reader is left. A blocked
// caller wakes when its context ends (the client went away, or the
// server shuts down) and answers EINTR, or the count it already moved.
type pipe struct {
	mu      sync.Mutex
	buf     []byte
	readers int
	writers int
	// wake is closed and replaced whenever the state changes, waking
	// every blocked caller to look again.
	wake chan struct{}

	ino                        uint64
	btime, atime, mtime, ctime time.Time
}

func newPipe(ino uint64, now time.Time) *pipe {
	return &pipe{readers: 1, writers: 1, wake: make(chan struct{}), ino: ino,
		btime: now, atime: now, mtime: now, ctime: now}
}

// changed wakes the waiters; p.mu is held.
func (p *pipe) changed() {
	close(p.wake)
	p.wake = make(chan struct{})
}

// wait releases p.mu until the state changes or ctx ends, and reports
// whether it may go on.
func (p *pipe) wait(ctx context.Context) bool {
	w := p.wake
	p.mu.Unlock()
	defer p.mu.Lock()
	select {
	case <-w:
		return true
	case <-ctx.Done():
		return false
	}
}

// read takes up to max bytes. No bytes and no writer left is EOF (an
// empty result and no error).
func (p *pipe) read(ctx context.Context, max int, nonblock bool, now func() time.Time) ([]byte, netbsd.Errno) {
	if max <= 0 {
		return nil, 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.buf) == 0 {
		if p.writers == 0 {
			return nil, 0
		}
		if nonblock {
			return nil, netbsd.EAGAIN
		}
		if !p.wait(ctx) {
			return nil, netbsd.EINTR
		}
	}
	n := min(max, len(p.buf))
	out := append([]byte(nil), p.buf[:n]...)
	p.buf = append(p.buf[:0], p.buf[n:]...)
	p.atime = now()
	p.changed()
	return out, 0
}

// write puts data in the pipe and returns how much went in. Writes of at
// most PIPE_BUF bytes go in whole or not at all, so they never
// interleave with other writers; longer ones may be split. A
// non-blocking write that cannot move anything answers EAGAIN.
func (p *pipe) write(ctx context.Context, data []byte, nonblock bool, now func() time.Time) (int, netbsd.Errno) {
	p.mu.Lock()
	defer p.mu.Unlock()
	done := 0
	for {
		if p.readers == 0 {
			if done > 0 {
				return done, 0
			}
			return 0, netbsd.EPIPE
		}
		if done == len(data) {
			return done, 0
		}
		room := netbsd.PIPE_SIZE - len(p.buf)
		left := len(data) - done
		if left <= netbsd.PIPE_BUF && room < left {
			room = 0 // an atomic write waits for all its room
		}
		if room > 0 {
			n := min(room, left)
			p.buf = append(p.buf, data[done:done+n]...)
			done += n
			t := now()
			p.mtime, p.ctime = t, t
			p.changed()
			continue
		}
		if nonblock {
			if done > 0 {
				return done, 0
			}
			return 0, netbsd.EAGAIN
		}
		if !p.wait(ctx) {
			if done > 0 {
				return done, 0
			}
			return 0, netbsd.EINTR
		}
	}
}

// closeEnd closes one end: the last writer gives readers EOF, the last
// reader gives writers EPIPE.
func (p *pipe) closeEnd(write bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if write {
		p.writers--
	} else {
		p.readers--
		p.buf = nil
	}
	p.changed()
}

// stat fills a struct stat for a pipe end as NetBSD's pipe_stat does: a
// FIFO owned by the caller, st_size the bytes waiting, st_blocks 1 when
// any are, st_blksize the buffer size, st_ctim the creation time; st_dev,
// st_ino, st_nlink, st_rdev, st_flags and st_gen are left 0.
func (p *pipe) stat(c cred) netbsd.Stat {
	p.mu.Lock()
	defer p.mu.Unlock()
	size := int64(len(p.buf))
	var blocks int64
	if size > 0 {
		blocks = 1
	}
	return netbsd.Stat{
		Mode:     netbsd.S_IFIFO | 0o600,
		UID:      c.uid,
		GID:      c.gid,
		Atim:     timespec(p.atime),
		Mtim:     timespec(p.mtime),
		Ctim:     timespec(p.btime),
		Birthtim: timespec(p.btime),
		Size:     size,
		Blocks:   blocks,
		Blksize:  netbsd.PIPE_SIZE,
	}
}
