package emu_test

import (
	"context"
	"fmt"
	"slices"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/emu"
	"github.com/rumpsprig/sprig/sp"
)

// Build the C client for mips and run it under qemu against a server,
// printing each scenario's outcome. A missing compiler or qemu is an
// error that names the tool.
func Example() {
	ctx := context.Background()
	tg, _ := emu.LookupTarget("mips")
	if err := tg.Check(); err != nil {
		fmt.Println("emulated column:", err) // "mips: mips-linux-gnu-gcc not found"
		return
	}
	bin, err := emu.Build(ctx, tg, emu.DefaultBuildConfig())
	if err != nil {
		fmt.Println(err)
		return
	}
	qemu, _ := tg.QemuVersion(ctx)
	fmt.Println(bin.CompilerVersion, "/", qemu)
	run, err := bin.Run(ctx, emu.DefaultRunConfig("unix:///tmp/sprig.sock"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range run.Results {
		fmt.Println(r.Scenario, emu.Outcome(r), r.Detail)
	}
}

// Every program that can act as a client of sparc64 (its C client, and
// the Go runners of ppc64 and s390x speaking sparc64), each run against a
// server in client-translates mode where it can, with the tools that
// made the outcome.
func ExampleClientsOf() {
	ctx := context.Background()
	targets, _ := emu.ClientsOf("sparc64")
	for _, tg := range targets {
		if err := tg.Check(); err != nil {
			fmt.Println("emulated column:", err) // names the missing compiler or qemu
			continue
		}
		bin, err := emu.Build(ctx, tg, emu.DefaultBuildConfig())
		if err != nil {
			fmt.Println(err)
			continue
		}
		cfg := emu.DefaultRunConfig("unix:///tmp/sprig.sock")
		if slices.Contains(tg.Modes(), sp.ModeClientTranslates) {
			cfg.Mode, cfg.ServerABI = sp.ModeClientTranslates, abi.MustLookup("amd64")
		}
		run, err := bin.Run(ctx, cfg)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(tg.Name, tg.Program, run.Tools.Compiler, run.Tools.Emulator, len(run.Results))
	}
}
