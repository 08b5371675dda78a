package wasmhost

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero/api"

	"github.com/rumpsprig/sprig/guest/guestapi"
)

func TestTheCopyingFallbackKeepsItsBytes(t *testing.T) {
	m := &copyingMemory{buf: make([]byte, 0, 8)}
	b := m.Reallocate(4)
	copy(b, "abcd")
	assert.Equal(t, []byte("abcd\x00\x00\x00\x00\x00\x00"), m.Reallocate(10))
	m.Free()
}

// An instance stopped at its deadline frees its memory, whether wazero
// stopped it (termination checks) or its host call did; and an engine
// closed while an abandoned instance still runs keeps that instance's
// memory until it returns, then frees it.
func TestStoppedAndAbandonedInstancesFreeTheirMemory(t *testing.T) {
	defer func(d time.Duration) { abandonAfter = d }(abandonAfter)
	noCollections(t)
	abandonAfter = 5 * time.Second
	ctx := context.Background()
	before := liveReservations.Load()
	for _, interruptible := range []bool{false, true} {
		e, err := NewEngine(ctx, wasmPollThenSpin, Options{CacheDir: "-", Interruptible: interruptible})
		require.NoError(t, err)
		for range 3 {
			ictx, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
			ex := (&Run{Engine: e}).Instance(ictx, &guestapi.Config{})
			cancel()
			require.ErrorIs(t, ex.Err, context.DeadlineExceeded)
			require.NotErrorIs(t, ex.Err, ErrAbandoned, "interruptible %v", interruptible)
		}
		require.NoError(t, e.Close(ctx))
		assert.Equal(t, before, liveReservations.Load(), "interruptible %v: memory left behind", interruptible)
	}

	abandonAfter = 50 * time.Millisecond
	e, err := NewEngine(ctx, wasmSpin, Options{CacheDir: "-"})
	require.NoError(t, err)
	mods := make(chan api.Module, 1)
	ictx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	ex := (&Run{Engine: e, started: func(m api.Module) { mods <- m }}).Instance(ictx, &guestapi.Config{})
	require.ErrorIs(t, ex.Err, ErrAbandoned)
	mod := <-mods
	releaseAtEnd(t, mod)
	require.NoError(t, e.Close(ctx), "closing under a running guest")
	time.Sleep(20 * time.Millisecond) // the guest goes on reading its memory
	assert.Equal(t, before+1, liveReservations.Load(), "the abandoned instance keeps its memory")
	require.True(t, mod.Memory().WriteByte(0, 1), "release the guest")
	assert.Eventually(t, func() bool { return liveReservations.Load() == before }, 5*time.Second, 10*time.Millisecond,
		"the released guest's memory is freed, and the engine with it")
}
