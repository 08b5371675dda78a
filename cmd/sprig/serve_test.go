package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/sptest"
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
	assert.Equal(t, "RUMPSP-0.4-NetBSD-7.99.34/i386\n", c.Banner().Line(), "--hide-abi sends the C banner, of rump_server's release")
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
		{"serve", "--url", "unix:///tmp/x", "--ext", "fork"},
	} {
		code, _, errOut := sprig(t, args...)
		assert.Equal(t, exitUsage, code, "%v: %s", args, errOut)
	}
}

// serve on tcp port 0 logs the port it got, and --trace and --debug name
// the syscalls.
func TestServeSaysItsPortAndTracesSyscallsByName(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--url", "tcp://127.0.0.1:0", "--trace", "--debug"}, &out, &errOut)
	}()
	port := regexp.MustCompile(`msg=serving url=tcp://127\.0\.0\.1:([0-9]+) `)
	var m []string
	require.Eventually(t, func() bool { m = port.FindStringSubmatch(errOut.String()); return m != nil }, 5*time.Second, 10*time.Millisecond)
	require.NotEqual(t, "0", m[1], "the port the system chose, not 0")

	c, err := sp.Dial(ctx, "tcp://127.0.0.1:"+m[1], sp.DefaultClientConfig(abi.MustLookup("amd64")))
	require.NoError(t, err)
	require.NoError(t, c.HandshakeGuest(ctx))
	_, err = c.Syscall(ctx, netbsd.SYS_getpid)
	require.NoError(t, err)
	c.Close()
	cancel()
	require.Equal(t, exitOK, <-done, errOut.String())
	logs := errOut.String()
	assert.Regexp(t, `(?m)^#1 amd64 → getpid\(\) = 2, 1$`, logs, "--trace: strace-like, headed by connection and ABI")
	assert.Regexp(t, `msg=frame conn=1 dir=received class=REQ type=SYSCALL reqno=[0-9]+ len=24 syscall=getpid`, logs, "--debug names the syscall")
}

func TestServeRumpNCPUIsLibrumpusers(t *testing.T) {
	for env, want := range map[string]int{"": 0, "3": 3, "host": runtime.NumCPU()} {
		got, err := rumpNCPU(env)
		require.NoError(t, err, env)
		assert.Equal(t, want, got, "RUMP_NCPU=%q", env)
	}
	_, err := rumpNCPU("many")
	assert.Error(t, err)
}

// TestServeWithNoFlagsServesAFaithfulCClientAsRumpServerDoes starts
// 'sprig serve' with no flags at all (the URL from $RUMP_SERVER, as
// rump clients find their server) as a process of its own, and talks to
// it as a C client linked with librumpclient would: its first open is
// descriptor 3, it runs as root, and it can make, write, read back and
// stat a file at "/"; what it writes to descriptor 1 appears on the
// server's standard output.
func TestServeWithNoFlagsServesAFaithfulCClientAsRumpServerDoes(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "rump.sock")
	url := "unix://" + sock
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = append(os.Environ(), beSprigEnv+"=1", "RUMP_SERVER="+url)
	var out, errOut lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
	})

	d := abi.MustLookup(hostABIName())
	mem := sptest.NewMemory(0x10000, 1<<20)
	cfg := sp.DefaultClientConfig(d)
	cfg.Faithful, cfg.Memory = true, mem
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var c *sp.Client
	require.Eventually(t, func() bool {
		var err error
		c, err = sp.Dial(ctx, url, cfg)
		return err == nil
	}, 10*time.Second, 10*time.Millisecond, "the server listens; stderr:\n%s", &errOut)
	defer c.Close()
	require.NoError(t, c.HandshakeGuest(ctx))
	call := func(num netbsd.Sysno, args ...any) sp.Result {
		t.Helper()
		r, err := c.Syscall(ctx, num, args...)
		require.NoError(t, err, "%s", num)
		return r
	}

	r := call(netbsd.SYS_getuid)
	assert.Equal(t, [2]uint64{0, 0}, r.Retval, "clients run as root")
	r = call(netbsd.SYS_open, mem.AllocString("/hello.txt"), netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
	require.NoError(t, r.Err(), "creating a file at /")
	assert.Equal(t, int64(3), r.Int(), "the first open is 3: the console holds 0-2")
	fd := uint64(r.Int())
	msg := []byte("hello, rump")
	r = call(netbsd.SYS_write, fd, mem.Alloc(len(msg), msg), len(msg))
	require.NoError(t, r.Err())
	assert.Equal(t, int64(len(msg)), r.Int())
	buf := mem.Alloc(64, nil)
	r = call(netbsd.SYS_pread, fd, buf, 64, 0)
	require.NoError(t, r.Err())
	assert.Equal(t, msg, mem.Read(buf, int(r.Int())), "the bytes read back")
	l := netbsd.LayoutsFor(d).Stat
	sb := mem.Alloc(l.Size, nil)
	require.NoError(t, call(netbsd.SYS___fstat50, fd, sb).Err())
	var st netbsd.Stat
	require.NoError(t, l.Decode(mem.Read(sb, l.Size), &st))
	assert.Equal(t, uint32(netbsd.S_IFREG|0o644), st.Mode)
	assert.Equal(t, int64(len(msg)), st.Size)
	assert.Zero(t, st.UID, "owned by root")
	line := []byte("a line on the rump console\n")
	require.NoError(t, call(netbsd.SYS_write, 1, mem.Alloc(len(line), line), len(line)).Err())
	require.NoError(t, call(netbsd.SYS_close, fd).Err())
	c.Close()

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-exited:
		require.NoError(t, err, "sprig serve exits 0 on SIGTERM; stderr:\n%s", &errOut)
	case <-time.After(10 * time.Second):
		t.Fatal("sprig serve did not stop on SIGTERM")
	}
	assert.Equal(t, string(line), out.String(), "the console writes to the server's standard output")
	assert.Contains(t, errOut.String(), "guest handshake")
}

func TestServeOffersPreloadedCopyinUnlessToldNot(t *testing.T) {
	for _, tc := range []struct {
		flags  []string
		banner string
	}{
		{nil, "RUMPSP-0.4-NetBSD-7.99.34/amd64 abi=amd64 preload=69632\n"},
		{[]string{"--max-preload", "4096"}, "RUMPSP-0.4-NetBSD-7.99.34/amd64 abi=amd64 preload=4096\n"},
		{[]string{"--max-preload", "0"}, "RUMPSP-0.4-NetBSD-7.99.34/amd64 abi=amd64\n"},
	} {
		t.Run(fmt.Sprint(tc.flags), func(t *testing.T) {
			url := "unix://" + filepath.Join(t.TempDir(), "rump.sock")
			ctx, cancel := context.WithCancel(context.Background())
			var out, errOut lockedBuffer
			done := make(chan int, 1)
			go func() {
				done <- run(ctx, append([]string{"serve", "--url", url, "--abi", "amd64"}, tc.flags...), &out, &errOut)
			}()
			cfg := sp.DefaultClientConfig(abi.MustLookup("amd64"))
			cfg.Preload = true
			var c *sp.Client
			require.Eventually(t, func() bool {
				var err error
				c, err = sp.Dial(context.Background(), url, cfg)
				return err == nil
			}, 5*time.Second, 10*time.Millisecond)
			assert.Equal(t, tc.banner, c.Banner().Line())
			assert.Equal(t, c.Banner().Preload > 0, c.Preloads())
			c.Close()
			cancel()
			assert.Equal(t, exitOK, <-done, errOut.String())
		})
	}
}
