// Command mkgolden regenerates package abi's compiler ground truth for
// every built-in descriptor whose cross compiler is on PATH: the layout
// tables (testdata/layouts.c, testdata/golden/<abi>.json) and the
// compiler-made frames package sp's tests compare its codec with
// (testdata/frames.c, testdata/frames/<abi>.json). Run it as
//
//	go generate ./abi
//
// or from the abi directory as go run ./internal/golden/mkgolden.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/internal/golden"
)

func main() {
	testdata := flag.String("testdata", "testdata", "the abi package's testdata directory")
	only := flag.String("abi", "", "comma-separated ABI names to regenerate (default: all built-ins)")
	what := flag.String("what", "layouts,frames", "what to regenerate: layouts, frames or both")
	flag.Parse()
	ds := abi.All()
	if *only != "" {
		ds = nil
		for _, n := range strings.Split(*only, ",") {
			d, err := abi.Lookup(strings.TrimSpace(n))
			if err != nil {
				fmt.Fprintln(os.Stderr, "mkgolden:", err)
				os.Exit(2)
			}
			ds = append(ds, d)
		}
	}
	updates := map[string]func(string, []*abi.Descriptor, io.Writer) error{
		"layouts": golden.Update, "frames": golden.UpdateFrames,
	}
	for _, w := range strings.Split(*what, ",") {
		update, ok := updates[strings.TrimSpace(w)]
		if !ok {
			fmt.Fprintf(os.Stderr, "mkgolden: -what %q: want layouts, frames or both\n", w)
			os.Exit(2)
		}
		if err := update(*testdata, ds, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "mkgolden:", err)
			os.Exit(1)
		}
	}
}
