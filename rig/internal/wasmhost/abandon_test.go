package wasmhost

import (
	"context"
	"net"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/rumpsprig/sprig/guest/guestapi"
)

// wasmSpin is a guest whose _start loops, without a host call, until the
// first byte of its memory is set.
var wasmSpin = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
	0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: func() -> ()
	0x03, 0x02, 0x01, 0x00, // one function of that type
	0x05, 0x03, 0x01, 0x00, 0x01, // one page of memory
	0x07, 0x13, 0x02, 0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00, 0x06, '_', 's', 't', 'a', 'r', 't', 0x00, 0x00,
	0x0a, 0x0f, 0x01, 0x0d, 0x00, // code: no locals
	0x03, 0x40, // loop
	0x41, 0x00, 0x2d, 0x00, 0x00, 0x45, 0x0d, 0x00, // br_if 0 (mem[0] == 0)
	0x0b, 0x0b}

// noCollections turns Go's collector off until the test ends, for a test
// whose guest spins in compiled code: the collector cannot stop such a
// goroutine for its stop-the-world, so a collection would stall the
// whole test binary until the guest is released. Call it first, and
// release the guest in a cleanup registered after it.
func noCollections(t *testing.T) {
	old := debug.SetGCPercent(-1)
	t.Cleanup(func() { debug.SetGCPercent(old) })
}

// releaseAtEnd releases a spinning guest when the test ends, should it
// still run.
func releaseAtEnd(t *testing.T, mod api.Module) {
	t.Cleanup(func() {
		if !mod.IsClosed() {
			mod.Memory().WriteByte(0, 1)
		}
	})
}

// watchedRun is a Run of wasm on an engine of its own, closed when the
// test ends, that hands the test each instance as it starts.
func watchedRun(t *testing.T, wasm []byte, o Options) (*Run, <-chan api.Module) {
	ctx := context.Background()
	e, err := NewEngine(ctx, wasm, o)
	require.NoError(t, err)
	t.Cleanup(func() { e.Close(ctx) })
	mods := make(chan api.Module, 4)
	return &Run{Engine: e, started: func(m api.Module) { mods <- m }}, mods
}

// A guest compiled without termination checks that computes past its
// deadline is abandoned, not waited for forever; one compiled with them
// is stopped.
func TestAnInstanceComputingPastItsDeadlineIsAbandonedUnlessInterruptible(t *testing.T) {
	defer func(d time.Duration) { abandonAfter = d }(abandonAfter)
	noCollections(t)
	for _, interruptible := range []bool{false, true} {
		abandonAfter = 100 * time.Millisecond
		if interruptible {
			abandonAfter = 5 * time.Second // far longer than stopping takes
		}
		ctx := context.Background()
		run, mods := watchedRun(t, wasmSpin, Options{CacheDir: "-", Interruptible: interruptible})
		ictx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		ex := run.Instance(ictx, &guestapi.Config{})
		cancel()
		mod := <-mods
		releaseAtEnd(t, mod)
		require.ErrorIs(t, ex.Err, context.DeadlineExceeded, "interruptible %v", interruptible)
		if interruptible {
			assert.NotErrorIs(t, ex.Err, ErrAbandoned)
			assert.True(t, mod.IsClosed())
			continue
		}
		require.ErrorIs(t, ex.Err, ErrAbandoned)
		assert.False(t, mod.IsClosed(), "an abandoned instance keeps its memory while it runs")
		require.True(t, mod.Memory().WriteByte(0, 1), "release the guest")
		assert.Eventually(t, mod.IsClosed, 5*time.Second, 10*time.Millisecond, "the released guest returns and is closed")
	}
}

// wasmPollThenSpin waits an hour in poll_oneoff, then spins as wasmSpin.
var wasmPollThenSpin = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
	0x01, 0x0c, 0x02, 0x60, 0x00, 0x00, 0x60, 0x04, 0x7f, 0x7f, 0x7f, 0x7f, 0x01, 0x7f, // func(); func(i32 x4) i32
	0x02, 0x26, 0x01, 0x16, 'w', 'a', 's', 'i', '_', 's', 'n', 'a', 'p', 's', 'h', 'o', 't', '_', 'p', 'r', 'e', 'v', 'i', 'e', 'w', '1',
	0x0b, 'p', 'o', 'l', 'l', '_', 'o', 'n', 'e', 'o', 'f', 'f', 0x00, 0x01,
	0x03, 0x02, 0x01, 0x00,
	0x05, 0x03, 0x01, 0x00, 0x01,
	0x07, 0x13, 0x02, 0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00, 0x06, '_', 's', 't', 'a', 'r', 't', 0x00, 0x01,
	0x0a, 0x1c, 0x01, 0x1a, 0x00,
	0x41, 0x00, 0x41, 0xc0, 0x00, 0x41, 0x01, 0x41, 0x80, 0x01, 0x10, 0x00, 0x1a, // drop(poll_oneoff(0, 64, 1, 128))
	0x03, 0x40, 0x41, 0x00, 0x2d, 0x00, 0x00, 0x45, 0x0d, 0x00, 0x0b, 0x0b,
	// the subscription at 0: a monotonic clock (id 1 at 16), an hour from now (at 24)
	0x0b, 0x16, 0x01, 0x00, 0x41, 0x10, 0x0b, 0x10,
	0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa0, 0xb8, 0x30, 0x46, 0x03, 0x00, 0x00}

// Without termination checks, a guest waiting in a host call at its
// deadline is stopped there: it never gets back to its own code.
func TestAnInstanceWaitingInAHostCallStopsAtItsDeadline(t *testing.T) {
	defer func(d time.Duration) { abandonAfter = d }(abandonAfter)
	noCollections(t)
	abandonAfter = 5 * time.Second
	ctx := context.Background()
	run, mods := watchedRun(t, wasmPollThenSpin, Options{CacheDir: "-"})
	ictx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	ex := run.Instance(ictx, &guestapi.Config{})
	mod := <-mods
	releaseAtEnd(t, mod) // should it spin after all
	require.ErrorIs(t, ex.Err, context.DeadlineExceeded)
	assert.NotErrorIs(t, ex.Err, ErrAbandoned)
	assert.True(t, mod.IsClosed())
}

// A stop ends a send blocked on a server that does not read, so the
// instance reaches the end of its host call and exits.
func TestAStopEndsABlockedSend(t *testing.T) {
	client, server := net.Pipe() // a write waits for a read that never comes
	defer server.Close()
	st := newInstanceState(&Run{}, nil)
	st.conns[0] = newHostConn(client, 0)
	wrote := make(chan error, 1)
	go func() {
		_, err := st.conns[0].c.Write(make([]byte, 1<<20))
		wrote <- err
	}()
	time.Sleep(20 * time.Millisecond)
	st.stop()
	select {
	case err := <-wrote:
		assert.Error(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("the send is still blocked after the stop")
	}
	st.closeAll()
}

// A spawned instance stops with its parent's context, cancelled as well
// as past its deadline: the parent's Instance waits for its children, so
// a child that outlived a cancelled parent would hold the parent's
// caller until the child ended by itself (here, in an hour).
func TestASpawnedInstanceStopsWhenItsParentIsCancelled(t *testing.T) {
	noCollections(t)
	ctx := context.Background()
	run, mods := watchedRun(t, wasmPollThenSpin, Options{CacheDir: "-"})
	e := run.Engine
	// The parent is a host call's view of an instance: its state, and a
	// module whose memory holds the child's configuration.
	parent, err := e.rt.InstantiateWithConfig(ctx, wasmSpin, wazero.NewModuleConfig().WithName("parent").WithStartFunctions())
	require.NoError(t, err)
	defer parent.Close(ctx)
	cfg := []byte(`{"role":"fork-child"}`)
	require.True(t, parent.Memory().Write(8, cfg))
	st := newInstanceState(run, nil)
	pctx, cancel := context.WithCancel(ctx) // no deadline
	defer cancel()
	stack := []uint64{8, uint64(len(cfg))}
	hostSpawn(withState(pctx, st), parent, stack)
	require.GreaterOrEqual(t, api.DecodeI32(stack[0]), int32(0), "spawn answered errno %d", -api.DecodeI32(stack[0]))
	child := <-mods
	releaseAtEnd(t, child)            // should it get past its wait after all
	time.Sleep(20 * time.Millisecond) // into its hour in poll_oneoff
	cancel()
	ended := make(chan struct{})
	go func() {
		st.wait()
		close(ended)
	}()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the child still runs 5 s after its parent was cancelled")
	}
	assert.True(t, child.IsClosed())
}
