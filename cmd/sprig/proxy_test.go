package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/emu"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/sptest"
)

func TestProxyTranslatesForAClientOfAnotherABIAndTraces(t *testing.T) {
	dir, err := os.MkdirTemp("", "spx")
	require.NoError(t, err)
	defer os.RemoveAll(dir)
	srv, prx := "unix://"+filepath.Join(dir, "s.sock"), "unix://"+filepath.Join(dir, "p.sock")
	ctx, cancel := context.WithCancel(context.Background())
	var srvOut, srvErr, out, errOut lockedBuffer
	served, proxied := make(chan int, 1), make(chan int, 1)
	go func() {
		served <- run(ctx, []string{"serve", "--url", srv, "--abi", "mips", "--c-compatible"}, &srvOut, &srvErr)
	}()
	require.Eventually(t, func() bool {
		u, _ := sp.ParseURL(srv)
		c, err := u.Dial(context.Background())
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 5*time.Second, 10*time.Millisecond)
	go func() {
		proxied <- run(ctx, []string{"proxy", "--listen", prx, "--client-abi", "amd64", "--upstream", srv,
			"--server-abi", "mips", "--trace"}, &out, &errOut)
	}()

	cfg := sp.DefaultClientConfig(abi.MustLookup("amd64"))
	mem := sptest.NewMemory(0x7ffe_bda2_e000, 1<<16)
	cfg.Memory, cfg.Faithful = mem, true
	var c *sp.Client
	require.Eventually(t, func() bool {
		c, err = sp.Dial(context.Background(), prx, cfg)
		return err == nil
	}, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, "RUMPSP-0.4-NetBSD-7.99.34/evbmips abi=amd64", c.Banner().String(), "the upstream's machine; the ABI the proxy speaks")
	require.NoError(t, c.HandshakeGuest(context.Background()))
	r, err := c.Syscall(context.Background(), netbsd.SYS_lseek, 99, 5<<30, netbsd.SEEK_SET)
	require.NoError(t, err)
	assert.Equal(t, netbsd.EBADF, r.Errno)
	r, err = c.Syscall(context.Background(), netbsd.SYS_open, mem.AllocString("/tmp/x"), netbsd.O_CREAT|netbsd.O_RDWR, 0o600)
	require.NoError(t, err)
	require.NoError(t, r.Err())
	c.Close()

	cancel()
	for _, ch := range []chan int{proxied, served} {
		select {
		case code := <-ch:
			assert.Equal(t, exitOK, code, errOut.String())
		case <-time.After(10 * time.Second):
			t.Fatal("a command did not stop after its context ended")
		}
	}
	trace := out.String()
	assert.Contains(t, trace, "client → proxy [amd64] REQ SYSCALL")
	assert.Contains(t, trace, "proxy → server [mips] REQ SYSCALL")
	assert.Contains(t, trace, "open path (string): client 0x7ffebda2e040 → window", "the 64-bit address got a window")
	assert.Contains(t, errOut.String(), "client connected")
	assert.Contains(t, errOut.String(), "client disconnected")
}

func TestProxyUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"proxy"},
		{"proxy", "--listen", "unix:///tmp/x", "--upstream", "unix:///tmp/y"},
		{"proxy", "--listen", "unix:///tmp/x", "--client-abi", "i386"},
		{"proxy", "--listen", "ftp://x", "--client-abi", "i386", "--upstream", "unix:///tmp/y"},
		{"proxy", "--listen", "unix:///tmp/x", "--client-abi", "vax", "--upstream", "unix:///tmp/y"},
		{"proxy", "--listen", "unix:///tmp/x", "--client-abi", "i386", "--upstream", "unix:///tmp/y", "--server-abi", "vax"},
		{"proxy", "--listen", "unix:///tmp/x", "--client-abi", "i386", "--upstream", "unix:///tmp/y", "--client-version", "9"},
		{"proxy", "--listen", "unix:///tmp/x", "--client-abi", "i386", "--upstream", "unix:///tmp/y", "extra"},
	} {
		code, _, errOut := sprig(t, args...)
		assert.Equal(t, exitUsage, code, "%v: %s", args, errOut)
		assert.Contains(t, errOut, "sprig proxy: ", args)
	}
}

// NetBSD's C client of i386 and of mips, as sprig's C reference client
// built by the cross compilers and run under qemu-user, reaches a C
// server of amd64 through sprig proxy: three processes besides the test,
// each as a user starts it, and every scenario passes.
func TestCClientsOfOtherMachinesPassEveryScenarioThroughTheProxy(t *testing.T) {
	dir, err := os.MkdirTemp("", "spx")
	require.NoError(t, err)
	defer os.RemoveAll(dir)
	srv := "unix://" + filepath.Join(dir, "s.sock")
	startServe(t, "--url", srv, "--abi", "amd64", "--c-compatible", "--ext", "all")
	for _, client := range []string{"i386", "mips"} {
		t.Run(client, func(t *testing.T) {
			tg, err := emu.LookupTarget(client)
			require.NoError(t, err)
			if err := tg.Check(); err != nil {
				t.Skipf("needs the %s cross compiler and qemu-user-static: %v", client, err)
			}
			b, err := emu.Build(context.Background(), tg, emu.DefaultBuildConfig())
			require.NoError(t, err)
			prx := "unix://" + filepath.Join(dir, client+".sock")
			startSprig(t, "msg=proxying", "proxy", "--listen", prx, "--client-abi", client, "--upstream", srv)
			run, err := b.Run(context.Background(), emu.DefaultRunConfig(prx))
			require.NoError(t, err, "stderr:\n%s", run.Stderr)
			names, _, err := b.Scenarios(context.Background())
			require.NoError(t, err)
			require.NotEmpty(t, run.Results)
			passed := 0
			for _, r := range run.Results {
				if assert.Equal(t, guestapi.Pass, r.Status, "%s %s: %s", client, r.Scenario, r.Detail) {
					passed++
				}
			}
			assert.GreaterOrEqual(t, len(run.Results), len(names)-1, "every scenario but the destructive one reported")
			// The control: the same client straight at the server fails,
			// so the proxy is what made it pass.
			direct, err := b.Run(context.Background(), emu.DefaultRunConfig(srv))
			require.NoError(t, err, "stderr:\n%s", direct.Stderr)
			failed := 0
			for _, r := range direct.Results {
				if r.Status == guestapi.Fail {
					failed++
				}
			}
			assert.Positive(t, failed, "the %s client without the proxy", client)
			t.Logf("%s C client (%s; %s) through sprig proxy to an amd64 C server: %d of %d passed in %v",
				client, run.Tools.Compiler, run.Tools.Emulator, passed, len(run.Results), run.Wall.Round(time.Millisecond))
		})
	}
}
