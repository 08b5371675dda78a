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

	mu sync.Mutex
	// The pending waiters by request number: in the ring slot of their
	// number when it was free, else in more. Request numbers rise one
	// by one and few are pending at once, so the ring nearly always
	// answers, without hashing (a map cost a tenth of a round trip in
	// Go compiled to wasm).
	ring [waiterRing]*waiter
	more map[uint64]*waiter
	free []*waiter // removed waiters, for reuse
	// Pending waiters with no response yet: changed under mu, read
	// without it (anyWaiting, once per call).
	awaited atomic.Int64
	err     error // set when the connection has ended
	// Requests whose callers gave up but whose replies may still come,
	// with what to run when they do (abandon).
	abandoned map[uint64]func()
}

// waiterRing is the ring's size, a power of two.
const waiterRing = 64

// maxFreeWaiters bounds the waiters kept for reuse.
const maxFreeWaiters = 16

type waiter struct {
	reqno     uint64
	ch        chan *Frame // buffered: deliver never blocks
	max       uint64      // the largest body the request may be answered with
	room      []byte      // where the answer's body may be read, or nil (addLimit)
	delivered bool        // ch holds the response, or held it
}

func newWaiters(first uint64) *waiters {
	w := &waiters{}
	w.next.Store(first)
	return w
}

// get returns the waiter for reqno, or nil; w.mu is held.
func (w *waiters) get(reqno uint64) *waiter {
	if wt := w.ring[reqno%waiterRing]; wt != nil && wt.reqno == reqno {
		return wt
	}
	return w.more[reqno] // nil map: nil
}

// put registers wt under its number; w.mu is held.
func (w *waiters) put(wt *waiter) {
	if slot := &w.ring[wt.reqno%waiterRing]; *slot == nil {
		*slot = wt
		return
	}
	if w.more == nil {
		w.more = map[uint64]*waiter{}
	}
	w.more[wt.reqno] = wt
}

// del forgets the waiter for reqno and returns it, or nil; w.mu is held.
func (w *waiters) del(reqno uint64) *waiter {
	if slot := &w.ring[reqno%waiterRing]; *slot != nil && (*slot).reqno == reqno {
		wt := *slot
		*slot = nil
		return wt
	}
	wt := w.more[reqno]
	delete(w.more, reqno)
	return wt
}

// number takes a request number for a request that expects no response.
func (w *waiters) number() uint64 { return w.next.Add(1) - 1 }

// add takes a request number and registers a waiter for its response.
func (w *waiters) add() (uint64, chan *Frame, error) { return w.addLimit(math.MaxUint64, nil) }

// addLimit is add for a request whose answer carries at most max body
// bytes; a reader asks limit before it reads a response's body. room,
// when not nil, is where the reader may read that body: its owner lends
// it until the answer is delivered, and keeps off it if it stops
// waiting first (a reader may be filling it).
func (w *waiters) addLimit(max uint64, room []byte) (uint64, chan *Frame, error) {
	w.mu.Lock()
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		return 0, nil, err
	}
	// A waiter is reused once removed: its owner reads its channel no
	// more, and remove drains it. Waiters whose channel fail closed are
	// never reused.
	var wt *waiter
	if n := len(w.free); n > 0 {
		wt, w.free = w.free[n-1], w.free[:n-1]
	} else {
		wt = &waiter{ch: make(chan *Frame, 1)}
	}
	wt.reqno, wt.max, wt.room, wt.delivered = w.number(), max, room, false
	w.put(wt)
	w.awaited.Add(1)
	w.mu.Unlock()
	return wt.reqno, wt.ch, nil
}

// limit reports the largest body the response to reqno may have, the
// room its requester lent for it (nil: none), and whether anybody waits
// for it.
func (w *waiters) limit(reqno uint64) (uint64, []byte, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	wt := w.get(reqno)
	if wt == nil || wt.delivered {
		return 0, nil, false
	}
	return wt.max, wt.room, true
}

// anyWaiting reports whether any response is still awaited.
func (w *waiters) anyWaiting() bool { return w.awaited.Load() > 0 }

// remove forgets a waiter that stopped waiting. It returns the response
// if one was delivered after the waiter stopped listening, so that its
// owner can account for it. The channel add returned must not be read
// after remove.
func (w *waiters) remove(reqno uint64) *Frame {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.removeLocked(reqno)
}

// removeLocked is remove with w.mu held.
func (w *waiters) removeLocked(reqno uint64) *Frame {
	wt := w.del(reqno)
	if wt == nil {
		return nil
	}
	if !wt.delivered {
		w.awaited.Add(-1)
	}
	var late *Frame
	select {
	case late = <-wt.ch:
	default:
	}
	w.recycle(wt)
	return late
}

// recycle keeps a removed waiter, its channel empty, for reuse; w.mu is
// held.
func (w *waiters) recycle(wt *waiter) {
	wt.room = nil
	if len(w.free) < maxFreeWaiters {
		w.free = append(w.free, wt)
	}
}

// claim removes the waiter for reqno as its response arrives, for a
// reader that takes the response itself: what deliver and remove do,
// without the channel. False when nobody waits for it (or its response
// came already).
func (w *waiters) claim(reqno uint64) bool {
	w.mu.Lock()
	wt := w.get(reqno)
	if wt == nil || wt.delivered {
		w.mu.Unlock()
		return false
	}
	w.del(reqno)
	w.awaited.Add(-1)
	w.recycle(wt)
	w.mu.Unlock()
	return true
}

// deliver hands f to its waiter; false when nobody waits for it (or
// its response came already). The waiter stays registered until it
// removes itself, so remove finds a response it did not take. The
// response to a request given up on (abandon) runs its forget instead.
func (w *waiters) deliver(f *Frame) bool {
	w.mu.Lock()
	wt := w.get(f.Reqno)
	if wt == nil || wt.delivered {
		forget, ok := w.abandoned[f.Reqno]
		delete(w.abandoned, f.Reqno)
		w.mu.Unlock()
		if ok {
			forget()
		}
		return ok
	}
	wt.delivered = true
	w.awaited.Add(-1)
	wt.ch <- f
	w.mu.Unlock()
	return true
}

// abandon removes the waiter of reqno, whose owner gave up on it, as
// remove does; but while its response has yet to come it keeps forget,
// to run when the response comes (deliver) or the connection ends
// (fail), and returns true. False means forget is the caller's to run:
// the response came already, the connection has ended, or maxGivenUp
// requests are kept already.
func (w *waiters) abandon(reqno uint64, forget func()) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	// Its owner gave up without taking a response: one delivered is
	// still in the channel, and comes back as late.
	if late := w.removeLocked(reqno); late != nil || w.err != nil || len(w.abandoned) >= maxGivenUp {
		return false
	}
	if w.abandoned == nil {
		w.abandoned = map[uint64]func(){}
	}
	w.abandoned[reqno] = forget
	return true
}

// fail ends the connection for every waiter, present and future: their
// channels close (after the response a channel may still hold) and
// failure returns err.
func (w *waiters) fail(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	abandoned := w.abandoned
	w.abandoned = nil
	for i, wt := range w.ring {
		if wt != nil {
			close(wt.ch)
			w.ring[i] = nil
		}
	}
	for _, wt := range w.more {
		close(wt.ch)
	}
	w.more, w.free = nil, nil
	w.awaited.Store(0)
	w.mu.Unlock()
	for _, forget := range abandoned {
		forget()
	}
}

// failure returns why the connection ended, or nil while it is alive.
func (w *waiters) failure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}
