package sp

import (
	"math"
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
	pending map[uint64]*waiter
	awaited int   // pending waiters with no response yet
	err     error // set when the connection has ended
}

type waiter struct {
	ch        chan *Frame // buffered: deliver never blocks
	max       uint64      // the largest body the request may be answered with
	delivered bool        // ch holds the response, or held it
}

func newWaiters(first uint64) *waiters {
	w := &waiters{pending: map[uint64]*waiter{}}
	w.next.Store(first)
	return w
}

// number takes a request number for a request that expects no response.
func (w *waiters) number() uint64 { return w.next.Add(1) - 1 }

// add takes a request number and registers a waiter for its response.
func (w *waiters) add() (uint64, chan *Frame, error) { return w.addLimit(math.MaxUint64) }

// addLimit is add for a request whose answer carries at most max body
// bytes; a reader asks limit before it reads a response's body.
func (w *waiters) addLimit(max uint64) (uint64, chan *Frame, error) {
	wt := waiterPool.Get().(*waiter)
	wt.max, wt.delivered = max, false
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		waiterPool.Put(wt)
		return 0, nil, w.err
	}
	reqno := w.number()
	w.pending[reqno] = wt
	w.awaited++
	return reqno, wt.ch, nil
}

// waiterPool recycles waiters and their channels: a request's channel is
// done with once its waiter is removed (its owner reads it no more, and
// remove drains it), and a round trip otherwise allocated two objects
// for it. Waiters whose channel fail closed are never put back.
var waiterPool = sync.Pool{New: func() any { return &waiter{ch: make(chan *Frame, 1)} }}

// limit reports the largest body the response to reqno may have, and
// whether anybody waits for it.
func (w *waiters) limit(reqno uint64) (uint64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	wt, ok := w.pending[reqno]
	if !ok || wt.delivered {
		return 0, false
	}
	return wt.max, true
}

// waiting reports whether a response to reqno is still awaited: its
// waiter is registered and nothing came for it yet.
func (w *waiters) waiting(reqno uint64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	wt, ok := w.pending[reqno]
	return ok && !wt.delivered
}

// anyWaiting reports whether any response is still awaited.
func (w *waiters) anyWaiting() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.awaited > 0
}

// remove forgets a waiter that stopped waiting. It returns the response
// if one was delivered after the waiter stopped listening, so that its
// owner can account for it. The channel add returned must not be read
// after remove.
func (w *waiters) remove(reqno uint64) *Frame {
	w.mu.Lock()
	defer w.mu.Unlock()
	wt, ok := w.pending[reqno]
	delete(w.pending, reqno)
	if !ok {
		return nil
	}
	if !wt.delivered {
		w.awaited--
	}
	var late *Frame
	select {
	case late = <-wt.ch:
	default:
	}
	waiterPool.Put(wt)
	return late
}

// deliver hands f to its waiter; false when nobody waits for it (or
// its response came already). The waiter stays registered until it
// removes itself, so remove finds a response it did not take.
func (w *waiters) deliver(f *Frame) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	wt, ok := w.pending[f.Reqno]
	if !ok || wt.delivered {
		return false
	}
	wt.delivered = true
	w.awaited--
	wt.ch <- f
	return true
}

// fail ends the connection for every waiter, present and future: their
// channels close (after the response a channel may still hold) and
// failure returns err.
func (w *waiters) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
	for r, wt := range w.pending {
		close(wt.ch)
		delete(w.pending, r)
	}
	w.awaited = 0
}

// failure returns why the connection ended, or nil while it is alive.
func (w *waiters) failure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}
