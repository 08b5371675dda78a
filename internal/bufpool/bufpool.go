// Package bufpool keeps a few buffers of one size for reuse. Unlike a
// sync.Pool it keeps them across garbage collections and never drops one
// at random (as sync.Pool does under the race detector), so that code
// reusing them allocates predictably; it keeps at most its bound, so a
// burst of use costs no memory afterwards beyond that. It is for large
// buffers that are used and given back within one call, not for objects.
package bufpool

import "sync"

// Pool is a bounded free list of buffers of Size bytes.
type Pool struct {
	size, max int
	mu        sync.Mutex
	free      [][]byte
}

// New returns a pool of buffers of size bytes that keeps at most max.
func New(size, max int) *Pool { return &Pool{size: size, max: max} }

// Size is the length of the pool's buffers.
func (p *Pool) Size() int { return p.size }

// Get returns a buffer of Size bytes, of unspecified content.
func (p *Pool) Get() []byte {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return b
	}
	p.mu.Unlock()
	return make([]byte, p.size)
}

// Put gives back a buffer Get returned (any slice of one: its capacity
// must be Size). Other slices are ignored, as are buffers past the bound.
func (p *Pool) Put(b []byte) {
	if cap(b) != p.size {
		return
	}
	p.mu.Lock()
	if len(p.free) < p.max {
		p.free = append(p.free, b[:p.size])
	}
	p.mu.Unlock()
}
