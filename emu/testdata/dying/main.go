// Command dying dies the way $SPRIG_DIE says, for emu's tests of how a
// Go runner's death under qemu-user is classified (or, for "procs",
// says how many Ps its runtime has).
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	_ "unsafe" // for go:linkname
)

// throw is the runtime's own failed consistency check.
//
//go:linkname throw runtime.throw
func throw(s string)

func main() {
	switch os.Getenv("SPRIG_DIE") {
	case "throw":
		throw("wirep: already in go")
	case "panic":
		panic("a bug in the runner")
	case "deadlock":
		select {}
	case "recursion":
		debug.SetMaxStack(1 << 20) // overflow soon, even under qemu
		fmt.Println(recurse(1))
	case "procs":
		fmt.Fprintf(os.Stderr, "GOMAXPROCS=%d\n", runtime.GOMAXPROCS(0))
		os.Exit(3)
	case "signal":
		p, _ := os.FindProcess(os.Getpid())
		p.Signal(os.Kill)
		select {}
	}
}

func recurse(n int) int { return recurse(n+1) + n }
