package sp

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A budget never lends more than its limit, and a release wakes every
// acquire waiting for room: goroutines that each need more than half the
// limit take turns without any of them waiting for ever.
func TestABudgetLendsAtMostItsLimitAndWakesItsWaiters(t *testing.T) {
	const limit, need, workers, rounds = 10, 7, 8, 300
	b := newBudget(limit)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// The budget starts full, so every worker's first acquire waits for
	// the release below.
	require.True(t, b.tryAcquire(limit))
	var held, most atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				if err := b.acquire(ctx, need); err != nil {
					errs <- err
					return
				}
				h := held.Add(need)
				for m := most.Load(); h > m && !most.CompareAndSwap(m, h); m = most.Load() {
				}
				held.Add(-need)
				b.release(need)
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	b.release(limit)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err, "an acquire waited until the test's deadline: a release did not wake it")
	}
	assert.LessOrEqual(t, most.Load(), int64(limit), "more lent than the limit")
	assert.Zero(t, b.inUse())
}

func TestABudgetRefusesWhatDoesNotFit(t *testing.T) {
	b := newBudget(10)
	require.True(t, b.tryAcquire(6))
	assert.False(t, b.tryAcquire(5), "6 + 5 > 10")
	require.True(t, b.tryAcquire(4), "6 + 4 fits exactly")
	assert.Equal(t, int64(10), b.inUse())

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, b.acquire(ctx, 1), context.DeadlineExceeded, "a full budget makes acquire wait until its context ends")

	b.release(10)
	assert.Zero(t, b.inUse())
	assert.Panics(t, func() { b.release(1) }, "releasing more than was held")
}
