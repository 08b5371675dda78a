package kern

import (
	"context"
	"sync"

	"github.com/rumpsprig/sprig/abi/netbsd"
)

// pipe is a one-way byte channel with a PIPE_SIZE buffer that grows to
// BIG_PIPE_SIZE for a big write into an empty pipe, as NetBSD's does.
// Readers block until there are bytes or no writer is left (EOF); writers
// block until there is room, and fail with EPIPE once no reader is left.
// A writer copies its bytes in from the client only as room appears, so
// a write that cannot move anything (no reader, a full non-blocking
// pipe) fails without asking the client for its data. A blocked caller
// wakes when its context ends (the client went away, or the server shuts
// down) and answers EINTR, or the count it already moved.
type pipe struct {
	mu      sync.Mutex
	buf     []byte
	size    int // the buffer's capacity: PIPE_SIZE or BIG_PIPE_SIZE
	readers int
	writers int
	// wake is closed and replaced whenever the state changes, waking
	// every blocked caller to look again.
	wake chan struct{}
	// wlock is held by the one writer at work, as NetBSD's pipelock
	// keeps writes whole; a channel, so a waiting writer can give up.
	wlock chan struct{}

	btime, atime, mtime netbsd.Timespec
}

func newPipe(now netbsd.Timespec) *pipe {
	return &pipe{size: netbsd.PIPE_SIZE, readers: 1, writers: 1, wake: make(chan struct{}),
		wlock: make(chan struct{}, 1), btime: now, atime: now, mtime: now}
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
func (p *pipe) read(ctx context.Context, max int, nonblock bool, now func() netbsd.Timespec) ([]byte, netbsd.Errno) {
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

// write moves n bytes into the pipe, fetching each piece with copyIn as
// room for it appears, and returns how many went in. Writes of at most
// PIPE_BUF bytes go in whole or not at all, so they never interleave
// with other writers; longer ones may be split. A non-blocking write
// that cannot move anything answers EAGAIN; a copy-in that fails ends
// the write with its errno.
func (p *pipe) write(ctx context.Context, n int, nonblock bool, now func() netbsd.Timespec,
	copyIn func(n int) ([]byte, netbsd.Errno)) (int, netbsd.Errno) {
	select {
	case p.wlock <- struct{}{}:
	case <-ctx.Done():
		return 0, netbsd.EINTR
	}
	defer func() { <-p.wlock }()
	p.mu.Lock()
	defer p.mu.Unlock()
	if n > netbsd.PIPE_SIZE && p.size <= netbsd.PIPE_SIZE && len(p.buf) == 0 {
		p.size = netbsd.BIG_PIPE_SIZE // pipespace(wpipe, BIG_PIPE_SIZE)
	}
	done := 0
	for {
		if p.readers == 0 {
			return done, netbsd.EPIPE
		}
		if done == n {
			return done, 0
		}
		room := p.size - len(p.buf)
		left := n - done
		if left <= netbsd.PIPE_BUF && room < left {
			room = 0 // an atomic write waits for all its room
		}
		if room > 0 {
			// Only this writer adds bytes (wlock), so the room stays
			// while the client sends them.
			chunk := min(room, left)
			p.mu.Unlock()
			data, e := copyIn(chunk)
			p.mu.Lock()
			if e != 0 {
				return done, e
			}
			if p.readers == 0 {
				continue // the reader left meanwhile: EPIPE
			}
			p.buf = append(p.buf, data...)
			done += chunk
			t := now()
			p.mtime = t
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

// ioctl answers the ioctls pipe_ioctl serves for one end. NetBSD pairs
// two pipes; the bytes written to the write end wait in the read end's
// buffer, which is what the counts describe.
func (p *pipe) ioctl(cmd uint64, writeEnd bool) (int32, netbsd.Errno) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch cmd {
	case netbsd.FIONBIO, netbsd.FIOASYNC:
		return 0, 0
	case netbsd.FIONREAD:
		if writeEnd {
			return 0, 0
		}
		return int32(len(p.buf)), 0
	case netbsd.FIONWRITE:
		if !writeEnd || p.readers == 0 {
			return 0, 0
		}
		return int32(len(p.buf)), 0
	case netbsd.FIONSPACE:
		if !writeEnd || p.readers == 0 {
			return 0, 0
		}
		return int32(p.size - len(p.buf)), 0
	}
	return 0, netbsd.ENOTTY
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
		UID:      c.euid,
		GID:      c.egid,
		Atim:     p.atime,
		Mtim:     p.mtime,
		Ctim:     p.btime,
		Birthtim: p.btime,
		Size:     size,
		Blocks:   blocks,
		Blksize:  int32(p.size),
	}
}
