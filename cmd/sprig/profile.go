package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
)

// startProfile starts a CPU profile written to dir/cpu.pprof; the stop
// function it returns ends it and writes the allocations since the start
// of the program to dir/allocs.pprof (go tool pprof reads both).
func startProfile(dir string) (stop func() error, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cpu, err := os.Create(filepath.Join(dir, "cpu.pprof"))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		cpu.Close()
		return nil, fmt.Errorf("starting the CPU profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		errs := []error{cpu.Close()}
		allocs, err := os.Create(filepath.Join(dir, "allocs.pprof"))
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		errs = append(errs, pprof.Lookup("allocs").WriteTo(allocs, 0), allocs.Close())
		return errors.Join(errs...)
	}, nil
}
