package main

import (
	"bytes"
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// lockedBuffer is a bytes.Buffer the server's log can write from many
// goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestServeRunsAServerForOutsideClientsAndLogsThem(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "rump.sock")
	url := "unix://" + sock
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--url", url, "--abi", "i386", "--hide-abi"}, &out, &errOut)
	}()

	var c *sp.Client
	require.Eventually(t, func() bool {
		var err error
		c, err = sp.Dial(context.Background(), url, sp.DefaultClientConfig(abi.MustLookup("i386")))
		return err == nil
	}, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, "RUMPSP-0.4-NetBSD-9.3/i386\n", c.Banner().Line(), "--hide-abi sends the C banner")
	require.NoError(t, c.HandshakeGuest(context.Background()))
	r, err := c.Syscall(context.Background(), netbsd.SYS_getpid)
	require.NoError(t, err)
	assert.Equal(t, [2]uint64{2, 1}, r.Retval)
	c.Close()

	cancel()
	select {
	case code := <-done:
		assert.Equal(t, exitOK, code, errOut.String())
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop after its context ended")
	}
	logs := errOut.String()
	assert.Contains(t, logs, "client connected")
	assert.Contains(t, logs, "guest handshake")
	assert.Contains(t, logs, "client disconnected")
	assert.NoFileExists(t, sock, "the socket is removed on shutdown")
}

func TestServeUsageErrors(t *testing.T) {
	t.Setenv("RUMP_SERVER", "")
	for _, args := range [][]string{
		{"serve"},
		{"serve", "--url", "ftp://x"},
		{"serve", "--url", "unix:///tmp/x", "--abi", "vax"},
		{"serve", "--url", "unix:///tmp/x", "--version", "9"},
	} {
		code, _, errOut := sprig(t, args...)
		assert.Equal(t, exitUsage, code, "%v: %s", args, errOut)
	}
}
