package sp

import (
	"context"
	"sync"
	"sync/atomic"
)

// budget bounds the bytes of received frames a server holds at once: one
// per connection and one for the whole server. A frame is counted from
// the moment its body is about to be allocated until the syscall it
// belongs to (a queued SYSCALL) or the kernel request it answers (a
// COPYIN reply) has taken it, so no client can make the server hold more
// than its share, and nothing is allocated before the budget allows it.
type budget struct {
	used  atomic.Int64
	limit int64

	// Waiting: an acquire that found no room makes freed and sets
	// waiters; the next release closes freed. Taking and giving back
	// bytes is atomic and takes no lock, as every syscall does both,
	// twice (its connection's budget and the server's).
	mu      sync.Mutex
	freed   chan struct{}
	waiters atomic.Bool // freed is open
}

func newBudget(limit int64) *budget { return &budget{limit: limit} }

// tryAcquire takes n bytes if they fit now.
func (b *budget) tryAcquire(n int64) bool {
	for {
		used := b.used.Load()
		if used+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// acquire takes n bytes, waiting for them until ctx ends. n must not
// exceed the limit (the server's configuration guarantees it).
func (b *budget) acquire(ctx context.Context, n int64) error {
	for !b.tryAcquire(n) {
		b.mu.Lock()
		if b.freed == nil {
			b.freed = make(chan struct{})
		}
		freed := b.freed
		b.waiters.Store(true)
		b.mu.Unlock()
		// A release between the failed try and waiters' store did not
		// see the waiter: try again before waiting. (A release after it
		// sees waiters and closes freed.)
		if b.tryAcquire(n) {
			return nil
		}
		select {
		case <-freed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (b *budget) release(n int64) {
	if n == 0 {
		return
	}
	if b.used.Add(-n) < 0 {
		panic("sp: budget released more than it held")
	}
	if !b.waiters.Load() {
		return
	}
	b.mu.Lock()
	if b.freed != nil {
		close(b.freed)
		b.freed = nil
	}
	b.waiters.Store(false)
	b.mu.Unlock()
}

func (b *budget) inUse() int64 { return b.used.Load() }

// budgets is a connection's budget and the server's, taken together.
type budgets struct{ conn, srv *budget }

func (b budgets) tryAcquire(n int64) bool {
	if !b.conn.tryAcquire(n) {
		return false
	}
	if !b.srv.tryAcquire(n) {
		b.conn.release(n)
		return false
	}
	return true
}

func (b budgets) acquire(ctx context.Context, n int64) error {
	if err := b.conn.acquire(ctx, n); err != nil {
		return err
	}
	if err := b.srv.acquire(ctx, n); err != nil {
		b.conn.release(n)
		return err
	}
	return nil
}

func (b budgets) release(n int64) {
	b.srv.release(n)
	b.conn.release(n)
}
