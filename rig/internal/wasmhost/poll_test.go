package wasmhost

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// memoryModule is the smallest wasm module with a memory: one page,
// exported as "memory". poll_oneoff needs nothing else of its caller.
var memoryModule = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
	0x05, 0x03, 0x01, 0x00, 0x01, // memory section: one memory, min 1 page
	0x07, 0x0a, 0x01, 0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00, // export "memory"
}

// pollFixture is an instance state with connections whose far ends the
// test holds, and a module whose memory the subscriptions live in.
type pollFixture struct {
	t   *testing.T
	mod api.Module
	st  *instanceState
	ctx context.Context
}

func newPollFixture(t *testing.T) *pollFixture {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	mod, err := rt.Instantiate(ctx, memoryModule)
	require.NoError(t, err)
	st := newInstanceState(&Run{}, nil)
	t.Cleanup(st.closeAll)
	return &pollFixture{t: t, mod: mod, st: st, ctx: withState(ctx, st)}
}

// conn adds a connection bound to wake descriptor fd and returns its peer.
func (f *pollFixture) conn(fd int32) net.Conn {
	ln, err := net.Listen("unix", filepath.Join(f.t.TempDir(), "s"))
	require.NoError(f.t, err)
	defer ln.Close()
	c, err := net.Dial("unix", ln.Addr().String())
	require.NoError(f.t, err)
	peer, err := ln.Accept()
	require.NoError(f.t, err)
	f.t.Cleanup(func() { peer.Close() })
	hc := newHostConn(c, 0)
	require.NotNil(f.t, hc.raw, "a unix socket reads without waiting through its descriptor")
	f.st.mu.Lock()
	h := f.st.nextConn
	f.st.nextConn++
	f.st.conns[h] = hc
	f.st.binds[fd] = hc
	f.st.mu.Unlock()
	return peer
}

type sub struct {
	userdata uint64
	typ      byte
	fd       int32         // read and write subscriptions
	timeout  time.Duration // clocks
}

type event struct {
	userdata uint64
	errno    uint16
	typ      byte
}

// poll writes subs at 0, runs poll_oneoff and returns its errno, the
// events and how long it took.
func (f *pollFixture) poll(ctx context.Context, subs ...sub) (uint32, []event, time.Duration) {
	mem := f.mod.Memory()
	for i, s := range subs {
		b := make([]byte, subscriptionSize)
		le.PutUint64(b[0:], s.userdata)
		b[8] = s.typ
		if s.typ == eventtypeClock {
			le.PutUint64(b[24:], uint64(s.timeout))
		} else {
			le.PutUint32(b[16:], uint32(s.fd))
		}
		require.True(f.t, mem.Write(uint32(i*subscriptionSize), b))
	}
	out := uint32(8192)
	start := time.Now()
	errno := pollErrno(ctx, f.mod, 0, out, uint32(len(subs)), 16384)
	took := time.Since(start)
	n, ok := mem.ReadUint32Le(16384)
	require.True(f.t, ok)
	var evs []event
	for i := range n {
		b, _ := mem.Read(out+i*eventSize, eventSize)
		evs = append(evs, event{userdata: le.Uint64(b), errno: le.Uint16(b[8:]), typ: b[10]})
	}
	return errno, evs, took
}

func clock(id uint64, d time.Duration) sub { return sub{userdata: id, typ: eventtypeClock, timeout: d} }
func readOf(id uint64, fd int32) sub       { return sub{userdata: id, typ: eventtypeFdRead, fd: fd} }

func TestPollWaitsUntilTheBoundConnectionIsReadable(t *testing.T) {
	f := newPollFixture(t)
	peer := f.conn(7)
	wrote := make(chan time.Time, 1)
	go func() {
		time.Sleep(30 * time.Millisecond)
		wrote <- time.Now()
		peer.Write([]byte("reply"))
	}()
	start := time.Now()
	errno, evs, _ := f.poll(f.ctx, clock(1, 10*time.Second), readOf(2, 7))
	returned := time.Now()
	require.Zero(t, errno)
	assert.Equal(t, []event{{userdata: 2, typ: eventtypeFdRead}}, evs, "the read subscription fires, not the clock")
	assert.True(t, returned.After(<-wrote), "poll returned before the data was written")
	assert.Less(t, returned.Sub(start), 5*time.Second, "poll waited for the clock despite the data")

	p := make([]byte, 16)
	n, err := f.st.conns[0].recv(p)
	require.NoError(t, err)
	assert.Equal(t, "reply", string(p[:n]), "recv hands out what the wait read ahead")
	_, err = f.st.conns[0].recv(p)
	assert.ErrorIs(t, err, errWouldBlock, "recv does not wait")
}

func TestPollWithoutAClockWaitsForDataAlone(t *testing.T) {
	// Go asks for no clock when no timer is pending: only data can end the wait.
	f := newPollFixture(t)
	peer := f.conn(4)
	wrote := make(chan time.Time, 1)
	go func() {
		time.Sleep(20 * time.Millisecond)
		wrote <- time.Now()
		peer.Write([]byte{1})
	}()
	errno, evs, _ := f.poll(f.ctx, readOf(9, 4))
	returned := time.Now()
	require.Zero(t, errno)
	assert.Equal(t, []event{{userdata: 9, typ: eventtypeFdRead}}, evs)
	assert.True(t, returned.After(<-wrote), "poll returned before the data was written")
}

func TestPollEndsWithTheClockWhenNoDataComes(t *testing.T) {
	f := newPollFixture(t)
	f.conn(5)
	errno, evs, took := f.poll(f.ctx, clock(3, 40*time.Millisecond), readOf(4, 5))
	require.Zero(t, errno)
	assert.Equal(t, []event{{userdata: 3, typ: eventtypeClock}}, evs)
	assert.GreaterOrEqual(t, took, 40*time.Millisecond, "a timer is never early")
}

func TestPollWithAZeroTimeoutOnlyLooks(t *testing.T) {
	f := newPollFixture(t)
	peer := f.conn(5)
	errno, evs, took := f.poll(f.ctx, clock(1, 0), readOf(2, 5))
	require.Zero(t, errno)
	assert.Equal(t, []event{{userdata: 1, typ: eventtypeClock}}, evs, "nothing to read yet")
	assert.Less(t, took, time.Second)

	peer.Write([]byte("x"))
	require.Eventually(t, func() bool {
		_, evs, _ := f.poll(f.ctx, clock(1, 0), readOf(2, 5))
		return len(evs) == 1 && evs[0].userdata == 2
	}, 5*time.Second, time.Millisecond, "data already there is seen without waiting")
}

func TestPollOnTwoConnectionsWakesOnlyTheReadableOne(t *testing.T) {
	f := newPollFixture(t)
	first := f.conn(5)
	second := f.conn(6)
	go func() {
		time.Sleep(20 * time.Millisecond)
		second.Write([]byte("b"))
	}()
	errno, evs, took := f.poll(f.ctx, clock(1, 10*time.Second), readOf(2, 5), readOf(3, 6))
	require.Zero(t, errno)
	assert.Equal(t, []event{{userdata: 3, typ: eventtypeFdRead}}, evs)
	assert.Less(t, took, 5*time.Second)

	// The interrupted wait on the first connection left nothing behind:
	// no error, no stale deadline; it waits again, and its data wakes it.
	_, err := f.st.conns[0].recv(make([]byte, 4))
	assert.ErrorIs(t, err, errWouldBlock)
	go func() {
		time.Sleep(20 * time.Millisecond)
		first.Write([]byte("a"))
	}()
	errno, evs, _ = f.poll(f.ctx, clock(1, 10*time.Second), readOf(2, 5))
	require.Zero(t, errno)
	assert.Equal(t, []event{{userdata: 2, typ: eventtypeFdRead}}, evs)
}

func TestPollAnswersUnboundAndWriteSubscriptionsAtOnce(t *testing.T) {
	f := newPollFixture(t)
	errno, evs, took := f.poll(f.ctx, clock(1, 10*time.Second), readOf(2, 99), sub{userdata: 3, typ: eventtypeFdWrite, fd: 1})
	require.Zero(t, errno)
	assert.Equal(t, []event{{userdata: 2, typ: eventtypeFdRead}, {userdata: 3, typ: eventtypeFdWrite, errno: wasiNotsup}}, evs)
	assert.Less(t, took, 5*time.Second)
}

func TestPollEndsWhenTheInstanceStops(t *testing.T) {
	f := newPollFixture(t)
	f.conn(5)
	ctx, cancel := context.WithCancel(f.ctx)
	defer context.AfterFunc(ctx, f.st.stop)()
	go func() {
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()
	errno, evs, took := f.poll(ctx, readOf(2, 5))
	require.Zero(t, errno)
	assert.Empty(t, evs)
	assert.Less(t, took, 5*time.Second, "a stopped guest is not held in poll_oneoff")
}

func TestPollRejectsBadSubscriptions(t *testing.T) {
	f := newPollFixture(t)
	errno, _, _ := f.poll(f.ctx, sub{typ: 7})
	assert.Equal(t, uint32(wasiInval), errno)
	assert.Equal(t, uint32(wasiInval), pollErrno(f.ctx, f.mod, 0, 8192, 0, 16384), "no subscriptions")
	assert.Equal(t, uint32(wasiFault), pollErrno(f.ctx, f.mod, 65530, 8192, 1, 16384), "subscriptions past the end of memory")
}

func TestRecvWaitsEndAtTheGuestsNextKnownTimer(t *testing.T) {
	st := newInstanceState(&Run{}, nil)
	assert.Equal(t, time.Millisecond, st.recvWait(time.Millisecond), "no timer known: the wait asked for")
	st.setNextTimer(time.Now().Add(300 * time.Microsecond))
	assert.LessOrEqual(t, st.recvWait(time.Second), 300*time.Microsecond, "a recv must not hold up a timer the host knows")
	st.setNextTimer(time.Now().Add(-time.Second))
	assert.Equal(t, time.Millisecond, st.recvWait(time.Millisecond),
		"a timer time already past may be stale: a guest polling recv must still wait, not spin")
}

func TestPollTellsTheHostTheGuestsNextTimer(t *testing.T) {
	f := newPollFixture(t)
	// An unbound descriptor is ready at once, so these polls do not wait.
	f.poll(f.ctx, clock(1, 10*time.Second), readOf(2, 99))
	got := f.st.recvWait(time.Minute)
	assert.Greater(t, got, 9*time.Second)
	assert.LessOrEqual(t, got, 10*time.Second, "the clock of the last poll is the next timer")
	f.poll(f.ctx, readOf(2, 99)) // no clock: no timer pending
	assert.Equal(t, time.Minute, f.st.recvWait(time.Minute))
}
