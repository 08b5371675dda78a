package matrix_test

import (
	"context"
	"fmt"
	"os"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/rig"
	"github.com/rumpsprig/sprig/rig/matrix"
)

func ExamplePredicted() {
	cfg := matrix.Config{
		ABIs:      []*abi.Descriptor{abi.MustLookup("i386"), abi.MustLookup("arm")},
		Modes:     []rig.Mode{rig.ModeNative},
		Scenarios: []string{"file-io", "stat"},
	}
	r, err := matrix.Predicted(cfg)
	if err != nil {
		panic(err)
	}
	for _, c := range r.Cells {
		fmt.Printf("%s→%s %d/%d", c.Client, c.Server, c.Passed, len(c.Results))
		for _, x := range c.Results {
			if x.Predicted != "pass" {
				fmt.Printf("  %s: %s", x.Scenario, x.Reason)
			}
		}
		fmt.Println()
	}
	// Output:
	// i386→i386 2/2
	// i386→arm 1/2  stat: struct stat: st_ino at 12 vs 16
	// arm→i386 1/2  stat: struct stat: st_ino at 16 vs 12
	// arm→arm 2/2
}

// Run a reduced matrix on the real guest and server and print the text
// report; sprig matrix does the same for every ABI.
func ExampleRun() {
	ctx := context.Background()
	r, err := rig.New(ctx, rig.Options{})
	if err != nil {
		panic(err)
	}
	defer r.Close(ctx)
	cfg := matrix.DefaultConfig()
	cfg.Scenarios = []string{"getpid", "stat"}
	rep, err := matrix.Run(ctx, r, cfg)
	if err != nil {
		panic(err)
	}
	rep.WriteText(os.Stdout, matrix.TextOptions{})
	if !rep.OK() {
		fmt.Println("observation and theory disagree")
	}
}
