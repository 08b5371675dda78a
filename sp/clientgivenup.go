package sp

import (
	"errors"
	"sync"

	"github.com/rumpsprig/sprig/sp/internal/xlate"
)

// Calls whose callers gave up (their context ended) while the server
// still runs them, in client-translates mode. The server's late copies
// for such a call are found by address only, so the call's regions stay
// until its late reply comes or the connection ends: forgotten at once,
// they would leave those copies to any other call in flight whose region
// covers the address, which would take them for its own typed data.
type givenUp struct {
	mu    sync.Mutex
	calls map[uint64]*xlate.Call // by request number
	// The last replies nobody waited for, as reqno+1: one may come
	// between its caller giving up and the call being kept here.
	late  [16]uint64
	nlate int
	ended bool
}

// maxGivenUp bounds the calls kept for a server that answers none of
// them; past it a call given up on is forgotten at once, as before.
const maxGivenUp = 64

// givenUpError is a caller's context error for request reqno, sent and
// not answered when the caller gave up.
type givenUpError struct {
	reqno uint64
	err   error
}

func (e *givenUpError) Error() string { return e.err.Error() }
func (e *givenUpError) Unwrap() error { return e.err }

// gaveUp is the error for a caller that gives up on request reqno with
// err; answered says its reply came all the same.
func (c *Client) gaveUp(reqno uint64, answered bool, err error) error {
	if c.xs == nil || answered {
		return err
	}
	return &givenUpError{reqno: reqno, err: err}
}

// abandon forgets call, whose round trip failed with err: at once, unless
// err says the server may still be running it.
func (c *Client) abandon(call *xlate.Call, err error) {
	var gu *givenUpError
	if !errors.As(err, &gu) || !c.gone.keep(gu.reqno, call) {
		call.Abort()
	}
}

// keep holds call until the reply to reqno comes; false when it cannot
// (the reply came already, the connection ended, or too many are held).
func (g *givenUp) keep(reqno uint64, call *xlate.Call) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ended || len(g.calls) >= maxGivenUp {
		return false
	}
	for _, n := range g.late {
		if n == reqno+1 {
			return false
		}
	}
	if g.calls == nil {
		g.calls = map[uint64]*xlate.Call{}
	}
	g.calls[reqno] = call
	return true
}

// answered takes a reply nobody waited for: true when it ends a call
// given up on, whose regions go now.
func (g *givenUp) answered(reqno uint64) bool {
	g.mu.Lock()
	call := g.calls[reqno]
	delete(g.calls, reqno)
	if call == nil {
		g.late[g.nlate%len(g.late)] = reqno + 1
		g.nlate++
	}
	g.mu.Unlock()
	if call != nil {
		call.Abort()
	}
	return call != nil
}

// end forgets every call held, as the connection ends.
func (g *givenUp) end() {
	g.mu.Lock()
	calls := g.calls
	g.calls, g.ended = nil, true
	g.mu.Unlock()
	for _, call := range calls {
		call.Abort()
	}
}
