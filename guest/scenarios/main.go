//go:build wasip1

// Command scenarios is sprig's guest client: a program of a simulated
// machine, run under wazero, that speaks sysproxy in its configured ABI
// and checks every reply against the values NetBSD must give. The host
// supplies the configuration, the socket and the report channel through
// the "sprig" host module (guest/README.md).
package main

import (
	"fmt"
	"os"

	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/guest/internal/host"
)

func main() {
	cfg, err := host.Config()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	var code int
	switch cfg.Role {
	case guestapi.RoleForkChild:
		code = runForkChild(cfg)
	default:
		code = runMain(cfg)
	}
	os.Exit(code)
}
