package sp

import "github.com/rumpsprig/sprig/sp/internal/xlate"

// A translated call whose caller gave up (its context ended) may still
// run on the server, and the server's late copies for it are found by
// address only. So its regions stay until its late reply comes or the
// connection ends: forgotten at once, they would leave those copies to
// any other call in flight whose region covers the address, which would
// take them for its own typed data. The waiters keep such calls (abandon)
// under the lock their replies are delivered under, and a caller that
// was reading reads on until then (giveUpReading), so a reply either
// finds its caller's waiter or the call left behind.

// maxGivenUp bounds the calls kept for a server that answers none of
// them; past it a call given up on is forgotten at once.
const maxGivenUp = 64

// givenUpError is a caller's context error for a translated call the
// waiters kept: the caller must not forget the call itself.
type givenUpError struct{ err error }

func (e *givenUpError) Error() string { return e.err.Error() }
func (e *givenUpError) Unwrap() error { return e.err }

// giveUpReading is giveUp for a caller that was reading when its
// context ended: it stops reading only once the call is kept, since a
// reader that came in between would drop the late reply of a request
// without a waiter (onceLeading) before there was anything to find.
func (c *Client) giveUpReading(reqno uint64, call *xlate.Call, err error) error {
	err = c.giveUp(reqno, call, err)
	c.release()
	return err
}

// giveUp removes the waiter of request reqno, whose caller gave up with
// err, and returns the error for the caller. A translated call is kept
// until the request's reply comes, unless it came already.
func (c *Client) giveUp(reqno uint64, call *xlate.Call, err error) error {
	if call == nil {
		c.w.remove(reqno)
		return err
	}
	if !c.w.abandon(reqno, call.Abort) {
		return err
	}
	return &givenUpError{err}
}
