package guest_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/guest"
)

// TestCommittedGuestIsAFreshBuild rebuilds the scenario guest the way
// `go generate` does and requires the committed bytes to match, so the
// embedded guest can never lag behind its sources.
func TestCommittedGuestIsAFreshBuild(t *testing.T) {
	built := strings.TrimSpace(guest.GoVersion)
	if built != runtime.Version() {
		msg := fmt.Sprintf("skipping: scenarios.wasm was built by %s and this is %s; only the same Go release rebuilds it byte for byte", built, runtime.Version())
		fmt.Println(msg)
		t.Skip(msg)
	}
	if testing.Short() {
		fmt.Println("skipping the guest rebuild in -short mode")
		t.Skip("-short")
	}
	out := filepath.Join(t.TempDir(), "scenarios.wasm")
	cmd := exec.Command("go", "run", "./internal/build", out)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Run())
	fresh, err := os.ReadFile(out)
	require.NoError(t, err)
	if !bytes.Equal(fresh, guest.Scenarios) {
		t.Fatalf("guest/scenarios.wasm is stale (committed sha256 %x, fresh build %x): run `go generate ./guest/...` and commit it",
			sha256.Sum256(guest.Scenarios), sha256.Sum256(fresh))
	}
}
