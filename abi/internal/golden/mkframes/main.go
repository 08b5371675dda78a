// Command mkframes regenerates the compiler-made frame goldens:
// testdata/frames.c and testdata/frames/<abi>.json for every built-in
// descriptor whose cross compiler is on PATH. Run it as
//
//	go generate ./abi
//
// or from the abi directory as go run ./internal/golden/mkframes.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/internal/golden"
)

func main() {
	testdata := flag.String("testdata", "testdata", "the abi package's testdata directory")
	only := flag.String("abi", "", "comma-separated ABI names to regenerate (default: all built-ins)")
	flag.Parse()
	ds := abi.All()
	if *only != "" {
		ds = nil
		for _, n := range strings.Split(*only, ",") {
			d, err := abi.Lookup(strings.TrimSpace(n))
			if err != nil {
				fmt.Fprintln(os.Stderr, "mkframes:", err)
				os.Exit(2)
			}
			ds = append(ds, d)
		}
	}
	if err := golden.UpdateFrames(*testdata, ds, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "mkframes:", err)
		os.Exit(1)
	}
}
