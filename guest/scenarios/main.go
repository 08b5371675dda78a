//go:build wasip1

// Command scenarios is sprig's guest client: the scenario suite (package
// guest/scenario) as a WebAssembly program of a simulated machine, run
// under wazero. The host supplies the configuration, the socket, the
// report channel and fork children through the "sprig" host module
// (guest/README.md).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/guest/internal/host"
	"github.com/rumpsprig/sprig/guest/scenario"
	"github.com/rumpsprig/sprig/internal/flatmem"
)

func main() {
	cfg, err := host.Config()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(scenario.ExitBroken)
	}
	os.Exit(scenario.Main(cfg, hostEnv{}))
}

// hostEnv is the scenario environment the host module provides.
type hostEnv struct{}

func (hostEnv) Dial(ctx context.Context, url string) (io.ReadWriteCloser, error) {
	return host.Dial(url)
}

func (hostEnv) NewMemory(size int) *flatmem.Memory { return host.NewMemory(size) }

func (hostEnv) Report(r guestapi.Result) error {
	if err := host.Report(r); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return err
	}
	return nil
}

func (hostEnv) Spawn(ctx context.Context, cfg *guestapi.Config) (scenario.Child, error) {
	i, err := host.Spawn(cfg)
	if err != nil {
		return nil, err
	}
	return instance{i}, nil
}

type instance struct{ i *host.Instance }

// Wait polls in short waits: a host call stops every goroutine of the
// guest, including the one serving the parent's connection.
func (c instance) Wait(ctx context.Context) (int, error) {
	for {
		code, err := c.i.Wait(20)
		switch {
		case err == nil:
			return code, nil
		case !errors.Is(err, host.ErrTimeout):
			return 0, err
		case ctx.Err() != nil:
			return 0, ctx.Err()
		}
		time.Sleep(time.Millisecond)
	}
}
