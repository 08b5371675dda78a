package sp

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp/internal/xlate"
)

// Waiters are recycled: a response delivered after its waiter stopped
// listening must come back from remove, never out of the next request's
// channel, and a channel closed by fail must not be handed out again.
func TestARecycledWaiterCarriesNothingOfItsLastRequest(t *testing.T) {
	w := newWaiters(1)
	for i := range 1000 {
		reqno, ch, err := w.add()
		require.NoError(t, err)
		require.True(t, w.waiting(reqno))
		require.True(t, w.anyWaiting())
		late := &Frame{Header: Header{Reqno: reqno, Class: ClassResp}}
		if i%2 == 0 {
			require.True(t, w.deliver(late))
			assert.False(t, w.waiting(reqno))
			assert.Same(t, late, w.remove(reqno), "the late response comes back from remove")
		} else {
			assert.Nil(t, w.remove(reqno))
		}
		assert.False(t, w.anyWaiting())
		select {
		case f := <-ch:
			require.FailNow(t, "a removed waiter's channel still holds a frame", "%v", f.Header)
		default:
		}
	}

	_, ch, err := w.add()
	require.NoError(t, err)
	w.fail(errors.New("gone"))
	_, ok := <-ch
	require.False(t, ok)
	_, _, err = w.add()
	require.Error(t, err)
	w2 := newWaiters(1)
	for range 100 {
		_, ch, err := w2.add()
		require.NoError(t, err)
		select {
		case _, ok := <-ch:
			require.True(t, ok, "a channel closed by fail was recycled")
			require.FailNow(t, "a new waiter's channel holds a frame")
		default:
		}
	}
}

// Many requests pending at once: more than the ring holds, so numbers
// share slots and overflow into the map. Each response must reach its
// own waiter whatever order they come in, a number nobody waits for must
// find nobody, and fail must close every channel, ring and overflow.
func TestManyPendingWaitersEachGetTheirOwnResponse(t *testing.T) {
	w := newWaiters(7)
	const n = 3*waiterRing + 5
	chans := map[uint64]chan *Frame{}
	var order []uint64
	for range n {
		reqno, ch, err := w.addLimit(uint64(100+len(order)), nil)
		require.NoError(t, err)
		chans[reqno] = ch
		order = append(order, reqno)
	}
	assert.NotEmpty(t, w.more, "the test must reach the overflow map")
	for i, reqno := range order {
		max, _, ok := w.limit(reqno)
		require.True(t, ok)
		assert.Equal(t, uint64(100+i), max, "limit of %d", reqno)
	}
	// Deliver from the back, and remove every third without a response.
	for i := len(order) - 1; i >= 0; i-- {
		reqno := order[i]
		if i%3 == 0 {
			assert.Nil(t, w.remove(reqno))
			assert.False(t, w.waiting(reqno))
			continue
		}
		f := &Frame{Header: Header{Reqno: reqno, Class: ClassResp}}
		require.True(t, w.deliver(f), "deliver %d", reqno)
		assert.False(t, w.deliver(f), "a second response to %d", reqno)
		got := <-chans[reqno]
		assert.Same(t, f, got, "waiter %d got another's response", reqno)
	}
	assert.False(t, w.deliver(&Frame{Header: Header{Reqno: order[len(order)-1] + waiterRing}}), "nobody waits for that number")
	assert.False(t, w.anyWaiting())

	// Add again on top of the delivered but not yet removed ones, then end.
	var live []chan *Frame
	for range waiterRing + 3 {
		_, ch, err := w.add()
		require.NoError(t, err)
		live = append(live, ch)
	}
	w.fail(errors.New("gone"))
	for i, ch := range live {
		select {
		case _, ok := <-ch:
			assert.False(t, ok, "channel %d", i)
		default:
			assert.Fail(t, "fail left a channel open", "channel %d", i)
		}
	}
}

// A reader that takes its own response claims its waiter: the waiter is
// gone at once (nothing awaited, later responses to it unwanted), only
// one claim or delivery succeeds, and its slot and waiter serve the
// requests after it, in the ring and in the overflow map.
func TestAClaimedWaiterIsGoneAndReused(t *testing.T) {
	w := newWaiters(1)
	first, _, err := w.add()
	require.NoError(t, err)
	require.True(t, w.claim(first))
	assert.False(t, w.waiting(first))
	assert.False(t, w.anyWaiting(), "a claimed response is no longer awaited")
	assert.False(t, w.claim(first), "a second claim")
	assert.False(t, w.deliver(&Frame{Header: Header{Reqno: first, Class: ClassResp}}), "a response after the claim")
	assert.Nil(t, w.remove(first), "removing a claimed waiter finds nothing")

	// A delivered response can no longer be claimed; its owner takes it
	// from the channel.
	second, ch, err := w.add()
	require.NoError(t, err)
	f := &Frame{Header: Header{Reqno: second, Class: ClassResp}}
	require.True(t, w.deliver(f))
	assert.False(t, w.claim(second), "claim after deliver")
	assert.Same(t, f, <-ch)
	w.remove(second)

	// Claims in the overflow map, out of order, leave the others waiting.
	var nos []uint64
	for range waiterRing + 2 {
		reqno, _, err := w.add()
		require.NoError(t, err)
		nos = append(nos, reqno)
	}
	require.NotEmpty(t, w.more, "the test must reach the overflow map")
	for i := len(nos) - 1; i >= 0; i-- {
		require.True(t, w.anyWaiting(), "waiters left before %d", nos[i])
		require.True(t, w.claim(nos[i]), "claim %d", nos[i])
	}
	assert.False(t, w.anyWaiting())
	assert.Empty(t, w.more)
	assert.NotEmpty(t, w.free, "claimed waiters are kept for reuse")
}

// The declaration is cached, but a descriptor changed since (or another
// one) must be declared as it is now.
func TestADeclarationFollowsItsDescriptor(t *testing.T) {
	d := abi.MustLookup("i386").Clone()
	first, err := guestBody(Version04, "p", d)
	require.NoError(t, err)
	again, err := guestBody(Version04, "p", d)
	require.NoError(t, err)
	assert.Equal(t, first, again)
	d.Long = abi.Scalar{Size: 8, Align: 8}
	changed, err := guestBody(Version04, "p", d)
	require.NoError(t, err)
	assert.NotEqual(t, first, changed, "a stale declaration of a changed descriptor")
	assert.Contains(t, string(changed), `"long":{"size":8,"align":8}`)
}

// A frame given back is where the next frame is read, and keeps the
// room a larger body needed for the next; a frame that is not the last
// one read, one too large to keep, or one a Trace hook saw is never
// reused.
func TestAFrameGivenBackIsReusedOnlyWhenNothingElseCanHoldIt(t *testing.T) {
	var wire bytes.Buffer
	send := NewFramer(nil, &wire, abi.MustLookup("amd64"))
	medium := smallBody + 16
	sizes := []int{48, 48, 48, maxReusedBody + 1, 48, medium, medium}
	for i, n := range sizes {
		require.NoError(t, send.WriteFrame(Header{Reqno: uint64(i), Class: ClassResp, Type: TypeSyscall}, bytes.Repeat([]byte{byte(i)}, n)))
	}
	fr := NewFramer(&wire, nil, abi.MustLookup("amd64"))
	read := func() *Frame {
		f, err := fr.ReadFrame()
		require.NoError(t, err)
		return f
	}
	f0 := read()
	f1 := read()
	fr.reuse(f0) // not the last one read
	f2 := read()
	assert.NotSame(t, f0, f2, "a frame read before the last one was reused")
	assert.Equal(t, bytes.Repeat([]byte{0}, 48), f0.Body, "the earlier frame changed")
	assert.NotSame(t, f1, f2)
	fr.reuse(f2)
	f3 := read() // too large to keep: made on its own
	assert.NotSame(t, f2, f3)
	assert.Equal(t, bytes.Repeat([]byte{2}, 48), f2.Body, "a large frame was read into the frame given back")
	fr.reuse(f3) // ignored: never kept
	f4 := read()
	assert.Same(t, f2, f4, "the frame given back was not reused")
	assert.Equal(t, uint64(4), f4.Reqno)
	assert.Equal(t, bytes.Repeat([]byte{4}, 48), f4.Body)
	fr.reuse(f4)
	f5 := read() // larger than a small body: in room the frame grows
	assert.Same(t, f2, f5)
	assert.Equal(t, bytes.Repeat([]byte{5}, medium), f5.Body)
	room := &f5.Body[0]
	fr.reuse(f5)
	f6 := read()
	assert.Same(t, f2, f6)
	assert.Same(t, room, &f6.Body[0], "the room the last body needed was not reused")
	assert.Equal(t, bytes.Repeat([]byte{6}, medium), f6.Body)

	// With a Trace hook, frames are never reused.
	wire.Reset()
	for i := range 2 {
		require.NoError(t, send.WriteFrame(Header{Reqno: uint64(i), Class: ClassResp, Type: TypeSyscall}, bytes.Repeat([]byte{byte(i)}, 48)))
	}
	var seen []*Frame
	fr.Trace = func(_ Direction, f *Frame) { seen = append(seen, f) }
	g0 := read()
	fr.reuse(g0)
	g1 := read()
	assert.NotSame(t, g0, g1, "a frame the hook saw was reused")
	assert.Equal(t, bytes.Repeat([]byte{0}, 48), seen[0].Body, "the hook's frame changed")
}

// waiting (for the tests) reports whether a response to reqno is still awaited: its
// waiter is registered and nothing came for it yet.
func (w *waiters) waiting(reqno uint64) bool {
	_, _, ok := w.limit(reqno)
	return ok
}

// A request given up on keeps what its late reply must end (here a
// translated call's regions) until that reply comes or the connection
// ends, under the lock replies are delivered under: a reply either finds
// its waiter or what was left behind, whenever it comes. Past maxGivenUp
// requests, or once the connection has ended, abandon keeps nothing.
func TestARequestGivenUpOnIsForgottenWhenItsReplyComes(t *testing.T) {
	xs := xlate.NewSession(xlate.NewPair(abi.MustLookup("mips"), abi.MustLookup("amd64")), xlate.DefaultConfig())
	begin := func() *xlate.Call {
		call, _, err := xs.Begin(context.Background(), nil, netbsd.SYS___fstat50, []uint64{3, 0x10000})
		require.NoError(t, err)
		return call
	}
	reply := func(reqno uint64) *Frame {
		return &Frame{Header: Header{Reqno: reqno, Class: ClassResp, Type: TypeSyscall}}
	}
	w := newWaiters(1)
	reqno, _, err := w.add()
	require.NoError(t, err)
	require.True(t, w.abandon(reqno, begin().Abort))
	assert.Equal(t, 1, xs.Regions())
	assert.False(t, w.anyWaiting(), "a request given up on is still awaited")
	assert.False(t, w.deliver(reply(reqno+100)), "a reply to another request was taken")
	assert.Equal(t, 1, xs.Regions())
	assert.True(t, w.deliver(reply(reqno)), "the late reply was not taken")
	assert.Zero(t, xs.Regions(), "the late reply left the call's regions")
	assert.False(t, w.deliver(reply(reqno)), "a second reply was taken")

	// The reply came before the caller gave up: nothing is kept.
	reqno, _, err = w.add()
	require.NoError(t, err)
	require.True(t, w.deliver(reply(reqno)))
	assert.False(t, w.abandon(reqno, begin().Abort), "a request whose reply came was kept")

	for range maxGivenUp {
		reqno, _, err := w.add()
		require.NoError(t, err)
		require.True(t, w.abandon(reqno, begin().Abort))
	}
	reqno, _, err = w.add()
	require.NoError(t, err)
	assert.False(t, w.abandon(reqno, begin().Abort), "more than maxGivenUp requests were kept")
	w.fail(errors.New("gone"))
	assert.Equal(t, 2, xs.Regions(), "only the two calls refused above are left to their callers")
}
