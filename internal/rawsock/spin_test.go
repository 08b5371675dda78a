//go:build unix

package rawsock_test

import (
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/internal/rawsock"
)

// A Read that polls reads what comes while it polls, and one whose poll
// found nothing makes the next Reads wait without polling, 1, 2, 4 … of
// them, until a poll finds data again.
func TestAPollingReadCatchesDataAndBacksOffWhenItFindsNone(t *testing.T) {
	needCPUs(t)
	a, b := unixPair(t)
	s := rawsock.New(a)
	s.SetSpin(200 * time.Millisecond)
	buf := make([]byte, 8)

	s.SetSpinBackoff(4) // as after fruitless polls: one that finds data resets it
	go func() {
		time.Sleep(5 * time.Millisecond)
		b.Write([]byte("x"))
	}()
	n, err := s.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Zero(t, s.SpinBackoff(), "the poll found the data")

	s.SetSpin(time.Millisecond)
	late := func(d time.Duration) {
		go func() {
			time.Sleep(d)
			b.Write([]byte("y"))
		}()
		_, err := s.Read(buf)
		require.NoError(t, err)
	}
	late(30 * time.Millisecond)
	assert.Equal(t, 1, s.SpinBackoff(), "the poll found nothing")
	assert.Equal(t, 1, s.SpinSkip(), "so the next Read does not poll")
	late(30 * time.Millisecond)
	assert.Equal(t, 0, s.SpinSkip())
	assert.Equal(t, 1, s.SpinBackoff(), "a skipped poll is no fruitless one")
	late(30 * time.Millisecond)
	assert.Equal(t, 2, s.SpinBackoff())
	assert.Equal(t, 2, s.SpinSkip())
	assert.Zero(t, rawsock.Spinners().Load(), "no Read polls now")
}

// Polling honours the read deadline, and only one Read of the process
// polls at a time.
func TestAPollingReadHonoursTheDeadlineAndPollsAlone(t *testing.T) {
	needCPUs(t)
	a, b := unixPair(t)
	s := rawsock.New(a)
	s.SetSpin(rawsock.MaxSpin)
	require.NoError(t, a.SetReadDeadline(time.Now().Add(2*time.Millisecond)))
	start := time.Now()
	_, err := s.Read(make([]byte, 8))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.Less(t, time.Since(start), rawsock.MaxSpin, "the deadline, not the poll, ended it")
	assert.Zero(t, s.SpinBackoff(), "the poll ended with the deadline, not empty-handed")
	assert.Zero(t, rawsock.Spinners().Load())

	rawsock.Spinners().Add(1) // another Read polls
	defer rawsock.Spinners().Add(-1)
	s.SetSpin(time.Millisecond)
	go func() {
		time.Sleep(30 * time.Millisecond)
		b.Write([]byte("x"))
	}()
	require.NoError(t, a.SetReadDeadline(time.Time{}))
	_, err = s.Read(make([]byte, 8))
	require.NoError(t, err)
	assert.Zero(t, s.SpinBackoff(), "it did not poll (a fruitless poll would count)")
	assert.Equal(t, int32(1), rawsock.Spinners().Load())
}

// needCPUs skips a test of polling where nothing polls.
func needCPUs(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skipf("the process may run on %d CPU: a Conn never polls there", runtime.NumCPU())
	}
}

// While another Conn of the process is in use, having woken from the
// netpoller within ActiveWithin, nobody polls: the poller's busy CPU would
// delay that one's next wakeup. Beside a Conn that sleeps idle, a Read
// polls.
func TestNobodyPollsBesideAConnInUse(t *testing.T) {
	needCPUs(t)
	a, b := unixPair(t)
	c, d := unixPair(t)
	sa, sc := rawsock.New(a), rawsock.New(c)
	sleep := func() chan error {
		slept := make(chan error, 1)
		go func() {
			_, err := sc.Read(make([]byte, 8))
			slept <- err
		}()
		require.Eventually(t, func() bool { return rawsock.Sleepers().Load() == 1 }, 5*time.Second, time.Millisecond)
		return slept
	}
	wake := func(slept chan error) {
		_, err := d.Write([]byte("y"))
		require.NoError(t, err)
		require.NoError(t, <-slept)
	}
	readLate := func() {
		go func() {
			time.Sleep(5 * time.Millisecond) // past the poll
			b.Write([]byte("x"))
		}()
		_, err := sa.Read(make([]byte, 8))
		require.NoError(t, err)
	}
	sa.SetSpin(time.Millisecond)

	wake(sleep()) // sc in use: it woke just now
	slept := sleep()
	readLate()
	assert.Zero(t, sa.SpinBackoff(), "it did not poll (a fruitless poll would count)")

	sc.Woke(time.Now().Add(-rawsock.ActiveWithin)) // as if sc had slept since then
	readLate()
	assert.Equal(t, 1, sa.SpinBackoff(), "beside an idle Conn it polled (in vain)")
	wake(slept)
	assert.Zero(t, rawsock.Sleepers().Load())
}
