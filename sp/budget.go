package sp

import (
	"context"
	"sync"
)

// budget bounds the bytes of received frames a server holds at once: one
// per connection and one for the whole server. A frame is counted from
// the moment its body is about to be allocated until the syscall it
// belongs to (a queued SYSCALL) or the kernel request it answers (a
// COPYIN reply) has taken it, so no client can make the server hold more
// than its share, and nothing is allocated before the budget allows it.
type budget struct {
	mu    sync.Mutex
	used  int64
	limit int64
	freed chan struct{} // made by a waiter, closed by the next release
}

func newBudget(limit int64) *budget { return &budget{limit: limit} }

// tryAcquire takes n bytes if they fit now.
func (b *budget) tryAcquire(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.limit {
		return false
	}
	b.used += n
	return true
}

// acquire takes n bytes, waiting for them until ctx ends. n must not
// exceed the limit (the server's configuration guarantees it).
func (b *budget) acquire(ctx context.Context, n int64) error {
	for {
		b.mu.Lock()
		if b.used+n <= b.limit {
			b.used += n
			b.mu.Unlock()
			return nil
		}
		if b.freed == nil {
			b.freed = make(chan struct{})
		}
		freed := b.freed
		b.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (b *budget) release(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	if b.used < 0 {
		panic("sp: budget released more than it held")
	}
	if b.freed != nil {
		close(b.freed)
		b.freed = nil
	}
	b.mu.Unlock()
}

func (b *budget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

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
