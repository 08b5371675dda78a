package wasmhost

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dataWait is the wait of the tests whose data comes: long enough for a
// loaded machine to write within it (the guest asks for 20 ms).
const dataWait = 2 * time.Second

// recv's short wait (the guest's first wait for a reply): data that
// comes during it is returned, a wait with none ends with its timeout,
// an interrupt that came before it ends it at once, and the end of the
// stream is reported.
func TestAShortRecvWaitReturnsDataThatComesDuringIt(t *testing.T) {
	f := newPollFixture(t)
	peer := f.conn(7)
	hc := f.st.conns[0]
	go func() {
		time.Sleep(time.Millisecond)
		peer.Write([]byte("reply"))
	}()
	p := make([]byte, 16)
	n, err := hc.recvWait(p, dataWait)
	require.NoError(t, err, "the data came within the wait")
	assert.Equal(t, "reply", string(p[:n]))
}

func TestAShortRecvWaitWithNoDataEndsWithItsTimeout(t *testing.T) {
	f := newPollFixture(t)
	f.conn(7)
	hc := f.st.conns[0]
	start := time.Now()
	_, err := hc.recvWait(make([]byte, 16), 3*time.Millisecond)
	took := time.Since(start)
	assert.ErrorIs(t, err, errWouldBlock)
	assert.GreaterOrEqual(t, took, 2*time.Millisecond, "the wait ended before its timeout")
	assert.Less(t, took, time.Second, "the wait outlived its timeout by far")
}

func TestAnInterruptBeforeAShortRecvWaitEndsItAtOnce(t *testing.T) {
	f := newPollFixture(t)
	peer := f.conn(7)
	hc := f.st.conns[0]
	hc.interrupt()
	start := time.Now()
	_, err := hc.recvWait(make([]byte, 16), dataWait)
	assert.ErrorIs(t, err, errWouldBlock)
	assert.Less(t, time.Since(start), dataWait/2, "the interrupted wait waited")

	// The interrupt is spent: the next wait waits, and the deadline it
	// left does not fail the read.
	go func() {
		time.Sleep(time.Millisecond)
		peer.Write([]byte("late"))
	}()
	p := make([]byte, 16)
	n, err := hc.recvWait(p, dataWait)
	require.NoError(t, err)
	assert.Equal(t, "late", string(p[:n]))
}

func TestAShortRecvWaitReportsTheEndOfTheStream(t *testing.T) {
	f := newPollFixture(t)
	peer := f.conn(7)
	hc := f.st.conns[0]
	peer.Write([]byte("last"))
	peer.Close()
	p := make([]byte, 16)
	n, err := hc.recvWait(p, dataWait)
	require.NoError(t, err)
	assert.Equal(t, "last", string(p[:n]), "what came before the end is read first")
	_, err = hc.recvWait(p, dataWait)
	assert.ErrorIs(t, err, io.EOF)
}
