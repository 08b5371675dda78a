package bench_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/kern"
	"github.com/rumpsprig/sprig/rig/bench"
	"github.com/rumpsprig/sprig/sp"
)

// TestMain lets the test binary be the bench's children: the floor's peer
// and, standing in for `sprig serve` (which lives in package main), a
// sprig server with kern's default kernel.
func TestMain(m *testing.M) {
	switch os.Getenv(bench.EnvChild) {
	case bench.RolePeer:
		os.Exit(bench.RunPeer())
	case bench.RoleServe:
		os.Exit(serveForTest(os.Args[1:]))
	}
	code := m.Run()
	closeShared()
	os.Exit(code)
}

// serveForTest is `sprig serve --url URL` with its defaults.
func serveForTest(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	url := fs.String("url", "", "")
	fs.String("profile", "", "")
	if len(args) == 0 || args[0] != "serve" || fs.Parse(args[1:]) != nil {
		fmt.Fprintln(os.Stderr, "test server: want serve --url URL, got", args)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d := abi.MustLookup("amd64")
	kcfg := kern.DefaultConfig()
	kcfg.ABI = d
	k, err := kern.New(kcfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	scfg := sp.DefaultServerConfig(d)
	scfg.OSRelease = k.Config().OSRelease
	scfg.ReadSpin = sp.DefaultReadSpin // as sprig serve's --read-spin
	srv, err := sp.NewServer(k, scfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	u, err := sp.ParseURL(*url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ln, err := u.Listen(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go srv.Serve(ln)
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	return 0
}

// The benchmarks share one session: its peer and server processes start
// once, on first use.
var (
	sharedOnce sync.Once
	shared     *bench.Session
	sharedErr  error
)

func session(tb testing.TB) *bench.Session {
	tb.Helper()
	sharedOnce.Do(func() {
		cfg := bench.DefaultConfig()
		if url := os.Getenv("SPRIG_BENCH_SERVER"); url != "" {
			cfg.Server = url // benchmark another server: the same figures, its numbers
		}
		shared, sharedErr = bench.Start(context.Background(), cfg)
	})
	if sharedErr != nil {
		tb.Fatal(sharedErr)
	}
	return shared
}

func closeShared() {
	if shared != nil {
		shared.Close()
	}
}
