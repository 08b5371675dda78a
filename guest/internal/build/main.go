// Command build compiles the guest programs to WebAssembly, reproducibly
// (-trimpath, no build IDs), and records the Go release that built them.
// It runs from `go generate ./guest/...` in the guest directory.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

func main() {
	out := "scenarios.wasm"
	if len(os.Args) > 1 {
		out = os.Args[1]
	}
	if err := Build("./scenarios", out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if len(os.Args) <= 1 {
		if err := os.WriteFile("scenarios.goversion", []byte(runtime.Version()+"\n"), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

// Build compiles pkg for wasip1 into out.
func Build(pkg, out string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build %s: %w", pkg, err)
	}
	if strings.TrimSpace(out) == "" {
		return fmt.Errorf("no output file")
	}
	return nil
}
