package sp

import (
	"bufio"
	"context"
	"errors"
	"os"
	"sync"
	"time"
)

// Who reads the server's frames. As in NetBSD's C client, a caller that
// has sent its request reads the connection itself until its reply
// comes, serving the server's requests and handing other callers their
// replies on the way; a reply so needs no hand-off between goroutines,
// which in Go compiled to wasm cost more than the server's whole work.
// When the caller leaves with calls still waiting, a goroutine of the
// client reads for them until none waits. A caller whose context can end
// leads only on a connection with read deadlines (net.Conn, the guest's
// host connection): its context's end sets the deadline, so it stops
// before the next frame's header is whole, and the part that came stays
// in the read buffer for the next reader. A frame whose header has come
// is read whole first. Elsewhere such callers leave the reading to the
// client's goroutine. A caller that finds nobody reading becomes the
// reader before it sends its request (leadFirst), so that its reply can
// reach nobody else and needs no waiter.

// readDeadliner is a connection whose reads can be cut short.
type readDeadliner interface{ SetReadDeadline(time.Time) error }

type reading struct {
	br       *bufio.Reader
	deadline readDeadliner // nil: reads cannot be cut short

	mu sync.Mutex
	// busy: somebody reads, a caller until its reply comes or the
	// client's goroutine while calls wait.
	busy  bool
	ended bool

	// The deadline set to stop a caller whose context ended: armed
	// while the caller waits for a frame to begin, never mid-frame.
	imu     sync.Mutex
	armed   *watch // the leading caller's context's watch while it may be stopped
	stopped bool   // a deadline is set
	// The watch on the last leading caller's context. Callers mostly
	// pass the same context call after call, so one context.AfterFunc
	// serves them all instead of one (two allocations) a call.
	watching *watch

	endOnce sync.Once
}

// leadFirst makes a caller about to send its request the reader, when
// nobody reads and it may read (see lead): its reply then cannot reach
// anybody but itself. done is the caller's context's.
func (c *Client) leadFirst(done <-chan struct{}) bool {
	c.r.mu.Lock()
	ok := !c.r.busy && !c.r.ended && (done == nil || c.r.deadline != nil)
	c.r.busy = c.r.busy || ok
	c.r.mu.Unlock()
	return ok
}

// lead decides who reads for the caller whose reply comes in ch: true
// when the caller is to read itself. Otherwise somebody else already
// reads, or now does, or the reply has come (another goroutine read it
// into ch, whose length takes no lock to look at), or the connection
// has ended. done is the caller's context's.
func (c *Client) lead(done <-chan struct{}, ch chan *Frame) bool {
	// (No defers on this path: in Go compiled to wasm each is a call.)
	c.r.mu.Lock()
	if c.r.busy || c.r.ended || len(ch) > 0 {
		c.r.mu.Unlock()
		return false
	}
	c.r.busy = true
	if done == nil || c.r.deadline != nil {
		c.r.mu.Unlock()
		return true
	}
	go c.readBackground()
	c.r.mu.Unlock()
	return false
}

// release gives up a caller's reading, to the client's goroutine if
// calls still wait. The caller's context no longer stops any read.
func (c *Client) release() {
	c.disarmStop()
	c.releaseDisarmed()
}

// releaseDisarmed is release for a caller that disarmed its stop itself.
func (c *Client) releaseDisarmed() {
	c.r.mu.Lock()
	c.r.busy = !c.r.ended && c.w.anyWaiting()
	if c.r.busy {
		go c.readBackground()
	}
	c.r.mu.Unlock()
}

// readUntilAnswered reads frames until request reqno is answered, the
// connection ends (the request's channel is then closed) or ctx, whose
// Done is done, ends (the error). A reply it reads itself it returns,
// its waiter removed if registered: handing it over through the
// waiter's channel cost a tenth of a round trip in Go's wasm. A reply
// another goroutine read is in the channel. An unregistered request
// (onceLeading) has no waiter: its caller read from before it sent it,
// so the reply is its own. When ctx ends the caller is still the reader,
// to give up before it stops reading (giveUpReading).
func (c *Client) readUntilAnswered(ctx context.Context, done <-chan struct{}, reqno uint64, registered bool) (*Frame, error) {
	if done != nil {
		c.watchAndArm(ctx, done)
	}
	// once checked ctx just before; each frame that is not the answer
	// checks it again.
	for {
		// The header is peeked, not read: a deadline that stops the
		// caller in its middle loses none of it.
		p, err := c.r.br.Peek(HeaderSize)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() != nil {
				return nil, ctx.Err() // stopped before a whole header: what came stays buffered
			}
			c.end(cutShort(err, len(p)))
			return nil, nil
		}
		// A header has come: its frame is read whole, whatever ctx says now.
		token := c.disarmStop()
		f, err := c.fr.frameAt(p)
		if err != nil {
			c.end(err)
			return nil, nil
		}
		if f.Reqno == reqno && (f.Class == ClassResp || f.Class == ClassError) && (!registered || c.w.claim(reqno)) {
			c.releaseDisarmed() // disarmed before the frame was read
			return f, nil
		}
		c.handle(f)
		if c.ended() { // serving a request ended the connection
			c.releaseDisarmed()
			return nil, nil
		}
		c.armStop(token)
		if err := expired(ctx); err != nil {
			return nil, err
		}
	}
}

// ended reports whether the connection has ended.
func (c *Client) ended() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// readBackground reads for the waiting calls until none waits.
func (c *Client) readBackground() {
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			c.end(err)
			return
		}
		c.handle(f)
		c.r.mu.Lock()
		if !c.w.anyWaiting() {
			c.r.busy = false
			c.r.mu.Unlock()
			return
		}
		c.r.mu.Unlock()
	}
}

// watch is a context.AfterFunc on the contexts that end with done.
type watch struct {
	done <-chan struct{}
	stop func() bool
}

// watchAndArm lets the end of ctx, whose Done is done, cut the leading
// caller's wait for the next frame short. The watch is made now unless
// the last leading caller's context ends with the same channel.
func (c *Client) watchAndArm(ctx context.Context, done <-chan struct{}) {
	c.r.imu.Lock()
	w := c.r.watching
	if w == nil || w.done != done {
		if w != nil {
			w.stop()
		}
		w = &watch{done: done}
		w.stop = context.AfterFunc(ctx, func() { c.stopRead(w) })
		c.r.watching = w
	}
	c.r.armed = w
	c.r.imu.Unlock()
}

// unwatch drops the watch, when the connection ends.
func (c *Client) unwatch() {
	c.r.imu.Lock()
	defer c.r.imu.Unlock()
	if w := c.r.watching; w != nil {
		w.stop()
		c.r.watching = nil
	}
}

// armStop lets the end of the context watched by token cut the leading
// caller's wait for the next frame short.
func (c *Client) armStop(token *watch) {
	if token == nil {
		return
	}
	c.r.imu.Lock()
	c.r.armed = token
	c.r.imu.Unlock()
}

// disarmStop stops any cutting short and clears a deadline already set.
// It returns the token that was armed.
func (c *Client) disarmStop() *watch {
	c.r.imu.Lock()
	token := c.r.armed
	c.r.armed = nil
	if c.r.stopped {
		c.r.deadline.SetReadDeadline(time.Time{})
		c.r.stopped = false
	}
	c.r.imu.Unlock()
	return token
}

// stopRead runs when a watched context ends.
func (c *Client) stopRead(token *watch) {
	c.r.imu.Lock()
	defer c.r.imu.Unlock()
	if c.r.armed == token && c.r.deadline != nil {
		c.r.deadline.SetReadDeadline(time.Unix(1, 0))
		c.r.stopped = true
	}
}

// expired is ctx.Err, or DeadlineExceeded once ctx's deadline has passed
// though its timer has not fired yet. A caller that reads its own
// replies may never let Go's scheduler run (in a single-threaded wasm
// guest, when every reply comes at once), and timers fire only there.
func expired(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// time.Until reads only the monotonic clock (a deadline from
	// context.WithTimeout has its reading), one host call in wasm where
	// time.Now makes two.
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= 0 {
		return context.DeadlineExceeded
	}
	return nil
}
