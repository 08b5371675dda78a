package predict_test

import (
	"fmt"
	"github.com/rumpsprig/sprig/rig"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/rig/predict"
)

func ExampleScenario() {
	i386, arm := abi.MustLookup("i386"), abi.MustLookup("arm")
	for _, name := range []string{"file-io", "stat"} {
		v, _ := predict.ScenarioByName(i386, arm, rig.ModeNative, name)
		fmt.Printf("%s: pass=%v (%s)\n", name, v.Pass, v.Reason)
	}
	v, _ := predict.ScenarioByName(i386, arm, rig.ModeServerTranslates, "stat")
	fmt.Printf("stat, server-translates: pass=%v\n", v.Pass)
	// Output:
	// file-io: pass=true (both ABIs agree on byte order, rsp_sysresp, the arguments of 8 syscalls and rsp_copydata)
	// stat: pass=false (struct stat: st_ino at 12 vs 16)
	// stat, server-translates: pass=true
}

func ExampleCompare() {
	for _, pair := range [][2]string{{"amd64", "riscv64"}, {"i386", "amd64"}, {"amd64", "mips"}} {
		diffs := predict.Compare(abi.MustLookup(pair[0]), abi.MustLookup(pair[1]))
		if len(diffs) == 0 {
			fmt.Printf("%s ↔ %s: identical\n", pair[0], pair[1])
			continue
		}
		fmt.Printf("%s ↔ %s: %d differences, first %s\n", pair[0], pair[1], len(diffs), diffs[0])
	}
	// Output:
	// amd64 ↔ riscv64: identical
	// i386 ↔ amd64: 30 differences, first rsp_sysresp: rsys_retval[0] at 4 (4 bytes) vs 8 (8 bytes)
	// amd64 ↔ mips: 1 differences, first byte order: little vs big-endian, so even the frame header's length is unreadable
}
