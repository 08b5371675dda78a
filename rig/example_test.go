package rig_test

import (
	"context"
	"fmt"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/rig"
)

// Run the embedded guest as an arm client of an i386 server, in native
// mode: the two agree on every frame, but not on struct stat.
func Example() {
	ctx := context.Background()
	r, err := rig.New(ctx, rig.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close(ctx)
	rep, err := r.Run(ctx, rig.Pair{
		Client: abi.MustLookup("arm"), Server: abi.MustLookup("i386"), Mode: rig.ModeNative,
		Scenarios: []string{"file-io", "stat"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, res := range rep.Results {
		fmt.Println(res.Scenario, res.Status, res.Explanation != "")
	}
	// Output:
	// file-io pass false
	// stat fail true
}
