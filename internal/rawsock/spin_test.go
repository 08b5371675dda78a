//go:build unix

package rawsock_test

import (
	"net"
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
	s.SetSpinUnbounded(time.Minute) // the data, not the time, ends the poll
	buf := make([]byte, 8)

	s.SetSpinBackoff(4) // as after fruitless polls: one that finds data resets it
	writeWhen(t, b, "x", func() bool { return rawsock.Spinners().Load() == 1 })
	n, err := s.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Zero(t, s.SpinBackoff(), "the poll found the data")

	s.SetSpin(time.Millisecond)
	late := func() { // data once the Read sleeps, after any poll
		writeWhen(t, b, "y", func() bool { return rawsock.Sleepers().Load() == 1 })
		_, err := s.Read(buf)
		require.NoError(t, err)
	}
	late()
	assert.Equal(t, 1, s.SpinBackoff(), "the poll found nothing")
	assert.Equal(t, 1, s.SpinSkip(), "so the next Read does not poll")
	late()
	assert.Equal(t, 0, s.SpinSkip())
	assert.Equal(t, 1, s.SpinBackoff(), "a skipped poll is no fruitless one")
	late()
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
	s.SetSpinUnbounded(time.Minute)
	require.NoError(t, a.SetReadDeadline(time.Now().Add(2*time.Millisecond)))
	start := time.Now()
	_, err := s.Read(make([]byte, 8))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.Less(t, time.Since(start), 30*time.Second, "the deadline, not the poll, ended it")
	assert.Zero(t, s.SpinBackoff(), "the poll ended with the deadline, not empty-handed")
	assert.Zero(t, rawsock.Spinners().Load())

	rawsock.Spinners().Add(1) // another Read polls
	defer rawsock.Spinners().Add(-1)
	s.SetSpin(time.Millisecond)
	writeWhen(t, b, "x", func() bool { return rawsock.Sleepers().Load() == 1 })
	require.NoError(t, a.SetReadDeadline(time.Time{}))
	_, err = s.Read(make([]byte, 8))
	require.NoError(t, err)
	assert.Zero(t, s.SpinBackoff(), "it did not poll (a fruitless poll would count)")
	assert.Equal(t, int32(1), rawsock.Spinners().Load())
}

// writeWhen writes data to c from a goroutine of its own once cond holds
// (the Read under test polls, or sleeps), so that what the test shows
// does not hang on how soon a sleeping goroutine runs.
func writeWhen(t *testing.T, c net.Conn, data string, cond func() bool) {
	t.Helper()
	go func() {
		for deadline := time.Now().Add(10 * time.Second); !cond() && time.Now().Before(deadline); {
			runtime.Gosched()
		}
		c.Write([]byte(data))
	}()
}

// needCPUs skips a test of polling where nothing polls, and makes the
// test's Conns the only ones with data of late.
func needCPUs(t *testing.T) {
	rawsock.ForgetActivity()
	if runtime.NumCPU() < 2 {
		t.Skipf("the process may run on %d CPU: a Conn never polls there", runtime.NumCPU())
	}
}

// While a Read of another Conn in use, one that had data within
// ActiveWithin (or is new), waits in the netpoller, nobody polls: the
// poller's busy CPU would delay its wakeup. Beside a Conn that sleeps
// idle, or one in use that waits for nothing, a Read polls; a deadline
// that ends another's wait is no data.
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
	readLate := func(r *rawsock.Conn, w net.Conn) int { // data once r's Read sleeps too, after any poll
		writeWhen(t, w, "x", func() bool { return rawsock.Sleepers().Load() == 2 })
		_, err := r.Read(make([]byte, 8))
		require.NoError(t, err)
		return r.SpinBackoff()
	}
	sa.SetSpin(time.Millisecond)

	sc.ActiveAgo(rawsock.ActiveWithin) // no longer new
	wake(sleep())                      // sc in use: it had data just now
	slept := sleep()
	assert.Zero(t, readLate(sa, b), "it did not poll (a fruitless poll would count)")

	sc.ActiveAgo(rawsock.ActiveWithin) // as if sc had slept since then
	assert.Equal(t, 1, readLate(sa, b), "beside an idle Conn it polled (in vain)")
	wake(slept)

	sc.ActiveAgo(rawsock.ActiveWithin)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(time.Millisecond)))
	_, err := sc.Read(make([]byte, 8))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	require.NoError(t, c.SetReadDeadline(time.Time{}))
	slept = sleep()
	sa.SetSpinBackoff(0)
	sa.SetSpinSkip(0) // after the poll in vain
	assert.Equal(t, 1, readLate(sa, b), "a deadline is no data: sc is still idle")

	g, h := unixPair(t)
	sg := rawsock.New(g)
	sg.SetSpin(time.Millisecond)
	sa.ActiveAgo(rawsock.ActiveWithin)
	sg.ActiveAgo(rawsock.ActiveWithin)
	e, _ := unixPair(t)
	rawsock.New(e) // a new Conn, in use from the start
	assert.Zero(t, readLate(sg, h), "beside a new Conn it did not poll")
	wake(slept)
	assert.Zero(t, rawsock.Sleepers().Load())

	// sc had data just now but waits for none: a poll cannot keep it
	// waiting (and yields its CPU should it start to).
	writeWhen(t, b, "x", func() bool { return rawsock.Sleepers().Load() == 1 })
	sa.SetSpinBackoff(0)
	sa.SetSpinSkip(0)
	_, err = sa.Read(make([]byte, 8))
	require.NoError(t, err)
	assert.Equal(t, 1, sa.SpinBackoff(), "beside a Conn in use that waits for nothing it polled (in vain)")
}
