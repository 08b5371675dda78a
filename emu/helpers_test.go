package emu

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/kern"
	"github.com/rumpsprig/sprig/sp"
)

// runDir holds what one test run builds outside the cache (sprig
// binaries with test-only link settings); TestMain removes it.
var runDir string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "sprig-emu-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	runDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	flagAll   = flag.Bool("emu.all", false, "emu: build every target and run it against a server of every ABI")
	flagCache = flag.String("emu.cache", "", "emu: cache directory for built clients (default: the user cache)")
)

func buildConfig() BuildConfig {
	cfg := DefaultBuildConfig()
	if *flagCache != "" {
		cfg.CacheDir = *flagCache
	}
	return cfg
}

// usable returns the target called name, or skips the test saying which
// tool this host lacks.
func usable(t testing.TB, name string) Target {
	t.Helper()
	tg, err := LookupTarget(name)
	require.NoError(t, err)
	if err := tg.Check(); err != nil {
		t.Skipf("emulated column: %v (install the cross compiler and qemu-user-static)", err)
	}
	return tg
}

// builds caches binaries across the tests of one run; a build that
// several parallel tests need runs once.
var builds sync.Map // key → *onceBuild

type onceBuild struct {
	once sync.Once
	b    *Binary
	err  error
}

// build builds tg's program once per test run. extra perturbs the build:
// -D defines for a C client, -X settings for a Go runner.
func build(t testing.TB, tg Target, extra ...string) *Binary {
	t.Helper()
	key := tg.Name + "\x00" + strings.Join(extra, "\x00")
	v, _ := builds.LoadOrStore(key, &onceBuild{})
	ob := v.(*onceBuild)
	ob.once.Do(func() {
		cfg := buildConfig()
		if tg.Program == GoRunner {
			cfg.LinkerX = extra
		} else {
			cfg.Defines = extra
		}
		ob.b, ob.err = Build(context.Background(), tg, cfg)
	})
	require.NoError(t, ob.err)
	return ob.b
}

// startServer runs an in-process sprig server of ABI d (kern behind sp)
// on a unix socket in a temporary directory and returns its URL.
func startServer(t testing.TB, d *abi.Descriptor) string {
	t.Helper()
	return startServerVersion(t, d, sp.Version04)
}

// startServerVersion is startServer speaking protocol era v.
func startServerVersion(t testing.TB, d *abi.Descriptor, v sp.Version) string {
	t.Helper()
	ctx := context.Background()
	kcfg := kern.DefaultConfig()
	kcfg.ABI = d
	k, err := kern.New(kcfg)
	require.NoError(t, err)
	scfg := sp.DefaultServerConfig(d)
	scfg.OSRelease = kcfg.OSRelease // the banner and kern.osrelease agree
	scfg.Version = v
	srv, err := sp.NewServer(k, scfg)
	require.NoError(t, err)
	u, err := sp.ParseURL("unix://" + filepath.Join(t.TempDir(), "s"))
	require.NoError(t, err)
	ln, err := u.Listen(ctx)
	require.NoError(t, err)
	go srv.Serve(ln)
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	})
	return u.String()
}

// fakeServer listens on a unix socket and hands every connection to
// serve, after writing an amd64 0.4 banner. It stands for servers that
// misbehave on purpose.
func fakeServer(t testing.TB, serve func(c net.Conn)) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f")
	ln, err := net.Listen("unix", path)
	require.NoError(t, err)
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(20 * time.Second))
				if _, err := c.Write([]byte("RUMPSP-0.4-NetBSD-7.99.34/amd64\n")); err == nil {
					serve(c)
				}
			}()
		}
	}()
	return "unix://" + path
}

// namesOf lists the targets of program p, in Targets order.
func namesOf(p Program) []string {
	var out []string
	for _, tg := range Targets() {
		if tg.Program == p {
			out = append(out, tg.Name)
		}
	}
	return out
}

// table renders outcomes as rows of scenario: outcome, for the log.
func table(title string, rows map[string]map[string]string, cols []string) string {
	var names []string
	for n := range rows {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%-14s", title, "scenario")
	for _, c := range cols {
		fmt.Fprintf(&b, " %-16s", c)
	}
	b.WriteString("\n")
	for _, n := range names {
		fmt.Fprintf(&b, "%-14s", n)
		for _, c := range cols {
			v := rows[n][c]
			if v == "" {
				v = "-"
			}
			fmt.Fprintf(&b, " %-16s", v)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// expectedNames are the scenarios the C client must run: the wasm
// guests' (the manifest's, fork-child included) and efault, the
// destructive one issue 11 splits off from errors.
func expectedNames() []string {
	var out []string
	for _, s := range guestapi.Manifest() {
		out = append(out, s.Name)
	}
	if _, ok := guestapi.LookupScenario("efault"); !ok {
		out = append(out, "efault")
	}
	return out
}
