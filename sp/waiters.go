package sp

import (
	"sync"
	"sync/atomic"
)

// waiters numbers one side's requests on a connection and hands each
// response to the goroutine waiting for it. Client and server both use
// one: the client for its syscalls and handshakes, the server for the
// kernel's COPYIN and ANONMMAP requests. Once the connection ends, every
// waiter wakes with the reason and new requests fail at once.
type waiters struct {
	next atomic.Uint64 // the next request number

	mu      sync.Mutex
	pending map[uint64]chan *Frame
	err     error // set when the connection has ended
}

func newWaiters(first uint64) *waiters {
	w := &waiters{pending: map[uint64]chan *Frame{}}
	w.next.Store(first)
	return w
}

// number takes a request number for a request that expects no response.
func (w *waiters) number() uint64 { return w.next.Add(1) - 1 }

// add takes a request number and registers a waiter for its response.
func (w *waiters) add() (uint64, chan *Frame, error) {
	ch := make(chan *Frame, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, nil, w.err
	}
	reqno := w.number()
	w.pending[reqno] = ch
	return reqno, ch, nil
}

// remove forgets a waiter that stopped waiting.
func (w *waiters) remove(reqno uint64) {
	w.mu.Lock()
	delete(w.pending, reqno)
	w.mu.Unlock()
}

// deliver hands f to its waiter; false when nobody waits for it.
func (w *waiters) deliver(f *Frame) bool {
	w.mu.Lock()
	ch, ok := w.pending[f.Reqno]
	delete(w.pending, f.Reqno)
	w.mu.Unlock()
	if ok {
		ch <- f
	}
	return ok
}

// fail ends the connection for every waiter, present and future: their
// channels close and failure returns err.
func (w *waiters) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
	for r, ch := range w.pending {
		close(ch)
		delete(w.pending, r)
	}
}

// failure returns why the connection ended, or nil while it is alive.
func (w *waiters) failure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}
