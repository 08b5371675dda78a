package emu

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A Go runner under qemu-user that dies inside the Go runtime is the
// emulator's doing (ErrEmulator, which the matrix runs again); one that
// dies of its own bug is not.
func TestOnlyTheRuntimesOwnDeathUnderQemuIsTheEmulators(t *testing.T) {
	tg := usable(t, "go-386")
	b := buildDying(t, tg)
	cfg := DefaultRunConfig("unix:///nonexistent")
	cfg.Timeout = 5 * time.Second
	for _, tc := range []struct {
		die       string
		emulators bool
	}{
		{"throw", true},
		{"signal", true},
		{"panic", false},
		{"deadlock", false},
		{"recursion", false},
	} {
		t.Run(tc.die, func(t *testing.T) {
			t.Setenv("SPRIG_DIE", tc.die)
			_, err := b.Run(context.Background(), cfg)
			require.Error(t, err)
			assert.Equal(t, tc.emulators, errors.Is(err, ErrEmulator), "%v", err)
		})
	}
}

// On i386 the runner runs on one P (see goRunEnv).
func TestTheI386GoRunnerRunsOnOneP(t *testing.T) {
	tg := usable(t, "go-386")
	t.Setenv("SPRIG_DIE", "procs")
	run, err := buildDying(t, tg).Run(context.Background(), DefaultRunConfig("unix:///nonexistent"))
	require.Error(t, err, "the program exits 3")
	require.NotNil(t, run)
	assert.Contains(t, run.Stderr, "GOMAXPROCS=1\n")
}

// buildDying builds testdata/dying for tg.
func buildDying(t *testing.T, tg Target) *Binary {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "dying")
	cmd := exec.Command("go", "build", "-o", bin, "./testdata/dying")
	cmd.Env = goBuildEnv(tg)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return &Binary{Target: tg, Path: bin}
}
