package emu_test

import (
	"context"
	"fmt"

	"github.com/rumpsprig/sprig/emu"
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
