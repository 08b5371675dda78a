package sp_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/sptest"
)

var rss = flag.Bool("sp.rss", false, "measure the server's peak RSS under the 16 MiB-body and 16 MiB-name attacks (in a child process)")

const rssSocketEnv = "SP_RSS_SOCKET"

// TestRSSChildServer is the server of TestMemoryPeakRSSAboveIdle, run in
// a child process so that its memory is its own: it serves on the socket
// named by $SP_RSS_SOCKET until its stdin closes.
func TestRSSChildServer(t *testing.T) {
	path := os.Getenv(rssSocketEnv)
	if path == "" {
		t.Skip("the child process of TestMemoryPeakRSSAboveIdle")
	}
	cfg := sp.DefaultServerConfig(mustABI("amd64"))
	cfg.HandshakeTimeout = time.Minute
	srv, err := sp.NewServer(sptest.NewKernel(), cfg)
	require.NoError(t, err)
	u, err := sp.ParseURL("unix://" + path)
	require.NoError(t, err)
	ln, err := u.Listen(context.Background())
	require.NoError(t, err)
	go srv.Serve(ln)
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
}

// procStatusKB reads one "Vm..." line of /proc/pid/status, in KiB.
func procStatusKB(t *testing.T, pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			require.NoError(t, err)
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// rssChild starts TestRSSChildServer and returns its URL and pid.
func rssChild(t *testing.T) (string, int) {
	path := filepath.Join(t.TempDir(), "rss.sock")
	cmd := exec.Command(os.Args[0], "-test.run=^TestRSSChildServer$", "-test.count=1")
	cmd.Env = append(os.Environ(), rssSocketEnv+"="+path)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "ready\n", line)
	go io.Copy(io.Discard, stdout)
	return "unix://" + path, cmd.Process.Pid
}

func TestMemoryPeakRSSAboveIdle(t *testing.T) {
	if !*rss {
		t.Skip("a measurement: run with -sp.rss")
	}
	attacks := []struct {
		name string
		run  func(t *testing.T, url string)
	}{
		{"100 writes with 16 MiB bodies whose COPYINs are never answered", func(t *testing.T, url string) {
			p, _ := dialWire(t, url)
			p.guest("bodies")
			r := p.syscall(netbsd.SYS_open, p.args(netbsd.SYS_open, 0x1000, netbsd.O_CREAT|netbsd.O_RDWR, 0), func(*sp.Frame) []byte { return []byte("/f\x00") })
			require.Zero(t, r.Errno)
			pad := make([]byte, mib16)
			for range 100 {
				p.send(netbsd.SYS_write, append(p.args(netbsd.SYS_write, r.Retval[0], 0x1000, 8), pad...))
			}
			p.conn.SetDeadline(time.Now().Add(time.Minute))
			for range 32 { // the first 32 run and ask; the rest wait in the queue
				f, err := p.fr.ReadFrame()
				require.NoError(t, err)
				require.Equal(t, sp.TypeCopyIn, f.Type)
			}
		}},
		{"32 connections with 16 MiB GUEST names", func(t *testing.T, url string) {
			name := append(make([]byte, mib16), 0)
			for i := range name[:len(name)-1] {
				name[i] = 'N'
			}
			for range 32 {
				p, _ := dialWire(t, url)
				p.conn.SetDeadline(time.Now().Add(time.Minute))
				reqno := p.write(sp.Header{Class: sp.ClassReq, Type: sp.TypeHandshake, U: uint32(sp.HandshakeGuest)}, name)
				f, err := p.fr.ReadFrame()
				require.NoError(t, err)
				require.Equal(t, reqno, f.Reqno)
			}
		}},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			url, pid := rssChild(t)
			time.Sleep(200 * time.Millisecond)
			idle := procStatusKB(t, pid, "VmRSS")
			idleHWM := procStatusKB(t, pid, "VmHWM")
			a.run(t, url)
			hwm := procStatusKB(t, pid, "VmHWM")
			t.Logf("%s: idle RSS %d KiB (HWM %d KiB), peak RSS %d KiB: %.1f MiB above idle",
				a.name, idle, idleHWM, hwm, float64(hwm-idle)/1024)
			assert.Less(t, hwm-idle, int64(64<<10), "KiB of peak RSS above idle")
		})
	}
}
