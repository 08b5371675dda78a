package main

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sprigBinary builds the sprig command once per test run, for tests that
// need it as a separate process, the way a user runs it.
var sprigBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "sprig-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "sprig")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// startServe runs `sprig serve` with args as a separate process until the
// test ends and returns once it listens (it logs "serving").
func startServe(t *testing.T, args ...string) {
	t.Helper()
	startSprig(t, "msg=serving", append([]string{"serve"}, args...)...)
}

// startSprig runs sprig with args as a separate process until the test
// ends (SIGINT, then a kill after 10 s) and returns once its stderr has a
// line containing ready.
func startSprig(t *testing.T, ready string, args ...string) {
	t.Helper()
	bin, err := sprigBinary()
	require.NoError(t, err)
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	up := make(chan struct{})
	var log strings.Builder
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stderr)
		seen := false
		for sc.Scan() {
			mu.Lock()
			log.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if !seen && strings.Contains(sc.Text(), ready) {
				seen = true
				close(up)
			}
		}
	}()
	select {
	case <-up:
	case <-time.After(20 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("sprig %v did not start:\n%s", args, log.String())
	}
}

// freeTCPPort returns a port nothing listens on right now.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestRunServerAgainstASeparateCCompatibleServe is the conformance run of
// issue 11: `sprig run --server` against `sprig serve --c-compatible`
// started as its own process, over unix and tcp, passes every scenario
// for a client of the server's ABI and for client-translates from i386,
// arm and mips. Scenarios that need sprig's kernel extension (kill,
// mmap) may be unsupported, saying why.
func TestRunServerAgainstASeparateCCompatibleServe(t *testing.T) {
	urls := map[string]string{
		"unix": "unix://" + filepath.Join(t.TempDir(), "rump.sock"),
		"tcp":  fmt.Sprintf("tcp://127.0.0.1:%d", freeTCPPort(t)),
	}
	for scheme, url := range urls {
		startServe(t, "--url", url, "--abi", "amd64", "--c-compatible")
		for _, client := range []struct{ abi, mode string }{
			{"", "native"}, {"i386", "client-translates"}, {"arm", "client-translates"}, {"mips", "client-translates"},
		} {
			name := scheme + "/" + client.mode + "/" + client.abi
			t.Run(name, func(t *testing.T) {
				args := []string{"run", "--server", url, "--mode", client.mode, "--format", "json"}
				if client.abi != "" {
					args = append(args, "--abi", client.abi)
				}
				code, out, errOut := sprig(t, args...)
				require.Equal(t, exitOK, code, "%s\n%s", out, errOut)
				var rep struct {
					Client, Server, URL string
					Counts              struct{ Pass, Fail, Unsupported, Error int }
					Results             []struct {
						Scenario, Status, Detail string
						Child                    *struct{ Scenario, Status string }
					}
				}
				require.NoError(t, json.Unmarshal([]byte(out), &rep))
				if client.abi == "" {
					assert.Equal(t, "amd64", rep.Client, "the default client ABI is the server's (from its banner)")
				}
				assert.Equal(t, url, rep.URL)
				seen := map[string]bool{}
				for _, r := range rep.Results {
					seen[r.Scenario] = true
					if r.Child != nil {
						seen[r.Child.Scenario] = r.Child.Status == "pass"
					}
					switch r.Status {
					case "pass":
					case "unsupported":
						assert.Contains(t, []string{"kill-raise", "mmap-anon"}, r.Scenario, "unsupported: %s", r.Detail)
						assert.Contains(t, r.Detail, "ENOSYS")
					default:
						t.Errorf("%s: %s: %s", r.Scenario, r.Status, r.Detail)
					}
				}
				assert.False(t, seen["efault"], "the destructive scenario runs only with --destructive")
				assert.True(t, seen["dirs"] && seen["fork-child"], "%v", seen)
				assert.Zero(t, rep.Counts.Fail+rep.Counts.Error, "%+v", rep.Counts)
			})
		}
	}
}

// TestRunServerReportFormats: a conformance run's three formats carry the
// same outcomes; --destructive adds efault; an unsupported scenario is a
// skipped JUnit testcase.
func TestRunServerReportFormats(t *testing.T) {
	url := "unix://" + filepath.Join(t.TempDir(), "rump.sock")
	startServe(t, "--url", url, "--abi", "mips", "--c-compatible")

	code, out, errOut := sprig(t, "run", "--server", url, "--destructive", "--scenario", "efault,getpid")
	require.Equal(t, exitOK, code, "%s\n%s", out, errOut)
	assert.Contains(t, out, "mips client → mips server at "+url)
	assert.Regexp(t, `(?m)^PASS  efault `, out)
	assert.Regexp(t, `(?m)^2 passed, 0 failed$`, out)

	code, out, _ = sprig(t, "run", "--server", url, "--scenario", "getpid", "--format", "junit")
	require.Equal(t, exitOK, code)
	var doc struct {
		Tests int `xml:"tests,attr"`
		Suite []struct {
			Cases []struct {
				Name string `xml:"name,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal([]byte(out), &doc), out)
	assert.Equal(t, 1, doc.Tests)
	require.Len(t, doc.Suite, 1)
	assert.Equal(t, "getpid", doc.Suite[0].Cases[0].Name)
}

// TestRunServerWithAnAmbiguousBannerNeedsServerABI: a C server's banner
// names only the machine word, which evbmips shares between byte orders;
// sprig says so and asks for --server-abi instead of guessing.
func TestRunServerWithAnAmbiguousBannerNeedsServerABI(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "c.sock")
	ln, err := net.Listen("unix", sock)
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("RUMPSP-0.4-NetBSD-7.99.34/evbarm64\n"))
			c.Close()
		}
	}()
	code, _, errOut := sprig(t, "run", "--server", "unix://"+sock)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, `machine "evbarm64" could be arm64 or aarch64eb`)
	assert.Contains(t, errOut, "--server-abi")
}

// sprig matrix --server runs every client ABI in every mode against one
// outside server, a column of the matrix: against a C-compatible serve
// without sprig's kernel extensions the scenarios needing them are
// unsupported, which judges nothing, and the run agrees with the theory.
func TestMatrixAgainstAnOutsideServer(t *testing.T) {
	dir := t.TempDir()
	cserver := "unix://" + filepath.Join(dir, "c.sock")
	startServe(t, "--url", cserver, "--abi", "amd64", "--c-compatible")
	args := []string{"matrix", "--server", cserver, "--abis", "amd64,i386,mips", "--scenario", "getpid,stat,kill-raise"}
	code, out, errOut := sprig(t, append(args, "--format", "json")...)
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	var rep struct {
		Server  string   `json:"server"`
		Servers []string `json:"servers"`
		Modes   []string `json:"modes"`
		Summary struct {
			Cells, Unsupported, Disagreements int
		} `json:"summary"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Equal(t, cserver, rep.Server)
	assert.Equal(t, []string{"amd64"}, rep.Servers, "the server's ABI, from its banner")
	assert.Equal(t, []string{"native", "client-translates"}, rep.Modes, "a C server does not honour declarations")
	assert.Equal(t, 6, rep.Summary.Cells)
	assert.Positive(t, rep.Summary.Unsupported, "kill-raise needs an extension the server lacks")
	assert.Zero(t, rep.Summary.Disagreements)

	code, out, _ = sprig(t, args...)
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "3 client ABIs × 2 modes against the amd64 server at "+cserver)
	assert.NotContains(t, out, "Verdict", "one column says nothing about every pair")

	code, _, errOut = sprig(t, "matrix", "--server", cserver, "--modes", "server-translates", "--scenario", "getpid")
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "server-translates needs a server that honours ABI declarations")

	sprigServer := "unix://" + filepath.Join(dir, "s.sock")
	startServe(t, "--url", sprigServer, "--abi", "mips", "--ext", "all")
	code, out, errOut = sprig(t, "matrix", "--server", sprigServer, "--abis", "amd64,mips", "--scenario", "getpid,kill-raise", "--format", "json")
	require.Equal(t, exitOK, code, "stderr:\n%s", errOut)
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Equal(t, []string{"native", "server-translates", "client-translates"}, rep.Modes, "a sprig server honours declarations")
	assert.Equal(t, []string{"mips"}, rep.Servers)
}
