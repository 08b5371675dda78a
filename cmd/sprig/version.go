package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

var versionDoc = doc{
	path:  "sprig version",
	usage: "  sprig version\n",
	details: `Prints sprig's module version ("(devel)" for a build without one, such
as 'go run' in a source tree), the Go version it was built with, and its
GOOS/GOARCH.
`,
}

func versionCommand() *command {
	return &command{
		name:    "version",
		summary: "print sprig's version",
		doc:     versionDoc,
		run:     runVersion,
	}
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet(versionDoc.path)
	pos, done, code := parseFlags(fs, args, versionDoc, stdout, stderr)
	if done {
		return code
	}
	if len(pos) > 0 {
		return versionDoc.usageError(stderr, "unexpected argument %q", pos[0])
	}
	fmt.Fprintf(stdout, "sprig version %s %s %s/%s\n", moduleVersion(), goVersion(), runtime.GOOS, runtime.GOARCH)
	return exitOK
}

// moduleVersion is the main module's version from the build information,
// or "(devel)" when there is none.
func moduleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

func goVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.GoVersion != "" {
		return bi.GoVersion
	}
	return runtime.Version()
}
