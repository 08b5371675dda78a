package proxy_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/sp"
)

// lockedBuffer collects a child process's output.
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

// startProcess runs bin with args until the test ends (SIGINT, then a
// wait), and waits for it to accept connections at url.
func startProcess(t *testing.T, url string, bin string, args ...string) *lockedBuffer {
	t.Helper()
	var out lockedBuffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Logf("%s %v: %v\n%s", filepath.Base(bin), args, err, out.String())
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Errorf("%s %v did not stop on SIGINT\n%s", filepath.Base(bin), args, out.String())
		}
	})
	u, err := sp.ParseURL(url)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		c, err := u.Dial(context.Background())
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 20*time.Second, 20*time.Millisecond, "%v never listened:\n%s", args, &out)
	return &out
}

// TestSeparateProcesses runs the server and the proxy as the sprig
// binary, each in a process of its own, as a user would: `sprig serve
// --c-compatible --abi amd64` and one `sprig proxy` per client ABI, with
// an i386 and a big-endian mips client in the test driving the mix.
func TestSeparateProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the sprig binary and runs it twice; skipped with -short")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH to build sprig with")
	}
	bin := filepath.Join(t.TempDir(), "sprig")
	build := exec.Command("go", "build", "-o", bin, "github.com/rumpsprig/sprig/cmd/sprig")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	dir := sockDir(t)
	srv := "unix://" + filepath.Join(dir, "srv.sock")
	srvLog := startProcess(t, srv, bin, "serve", "--c-compatible", "--abi", "amd64", "--url", srv)
	for _, client := range []string{"i386", "mips"} {
		t.Run(client, func(t *testing.T) {
			url := "unix://" + filepath.Join(dir, client+".sock")
			// No --server-abi: the C banner's machine word "amd64" names one ABI.
			prxLog := startProcess(t, url, bin, "proxy", "--listen", url, "--client-abi", client, "--upstream", srv)
			runMix(t, url, client, baseFor(client), nil)
			if t.Failed() {
				t.Logf("proxy:\n%s\nserver:\n%s", prxLog, srvLog)
			}
		})
	}
}
