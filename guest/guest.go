// Package guest holds sprig's WebAssembly guest clients, built for
// GOOS=wasip1 and embedded here so that an installed sprig needs no Go
// toolchain to run them. The sources live in guest/scenarios (the
// scenario runner every `sprig run` uses); guest/README.md documents the
// "sprig" host module a guest imports, for users writing their own.
//
// Rebuild with `go generate ./guest/...`; a test fails when the committed
// binary differs from a fresh build by the same Go version.
package guest

import _ "embed"

//go:generate go run ./internal/build

// Scenarios is the compiled scenario guest (guest/scenarios).
//
//go:embed scenarios.wasm
var Scenarios []byte

// GoVersion is the Go release that built Scenarios; a fresh build is only
// byte-identical with the same release.
//
//go:embed scenarios.goversion
var GoVersion string
