package matrix_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/emu"
	"github.com/rumpsprig/sprig/rig"
	"github.com/rumpsprig/sprig/rig/matrix"
)

// emulatedConfig is a small matrix of amd64 and i386, natively and with
// the client translating, with the i386 machine's two programs and the
// host's C client in its emulated column. It skips, saying why, on a host
// without i386's cross compiler or qemu.
func emulatedConfig(t *testing.T, abis ...*abi.Descriptor) matrix.Config {
	t.Helper()
	for _, n := range []string{"i386", "go-386", "amd64"} {
		tg, err := emu.LookupTarget(n)
		require.NoError(t, err)
		if err := tg.Check(); err != nil {
			t.Skipf("emulated column: %v (install gcc-i686-linux-gnu and qemu-user-static)", err)
		}
	}
	cfg := matrix.DefaultConfig()
	cfg.ABIs = abis
	cfg.Modes = []rig.Mode{rig.ModeNative, rig.ModeClientTranslates}
	cfg.Scenarios = []string{"getpid", "file-io", "stat", "getdents", "fork"}
	cfg.Emulated = &matrix.Emulation{Targets: []string{"amd64", "i386", "go-386"}, Build: emu.DefaultBuildConfig()}
	return cfg
}

func TestTheEmulatedColumnAgreesWithThePrediction(t *testing.T) {
	cfg := emulatedConfig(t, abi.MustLookup("amd64"), abi.MustLookup("i386"))
	rep, err := matrix.Run(context.Background(), newRig(t), cfg)
	require.NoError(t, err)
	var text bytes.Buffer
	require.NoError(t, rep.WriteText(&text, matrix.TextOptions{}))
	require.True(t, rep.OK(), "%s", text.String())

	// The C clients run natively (2 cells each), the Go runner in both
	// modes (4 cells).
	cells := map[string]int{}
	for _, e := range rep.Emulators {
		assert.Empty(t, e.Missing)
		assert.NotEmpty(t, e.Compiler, e.Target)
		cells[e.Target] = e.Cells
	}
	assert.Equal(t, map[string]int{"amd64": 2, "i386": 2, "go-386": 4}, cells)
	i386 := rep.Cell("native", "i386", "amd64")
	require.NotNil(t, i386)
	require.Len(t, i386.Emulated, 2, "the i386 C client and go-386")
	for _, run := range i386.Emulated {
		assert.Len(t, run.Results, len(cfg.Scenarios), run.Target)
		assert.Zero(t, run.Passed, "%s: only a native pair's handshake passes and none is run here", run.Target)
	}
	assert.Equal(t, 8, rep.Summary.Emulated.Runs)
	assert.Equal(t, 8*len(cfg.Scenarios), rep.Summary.Emulated.Results)
	assert.Contains(t, text.String(), "emulated: 8 runs by 3 programs in ")
	assert.Contains(t, text.String(), "qemu-i386", "the report names the emulator")

	// The JSON keeps the column.
	var js bytes.Buffer
	require.NoError(t, rep.WriteJSON(&js))
	back, err := matrix.ReadJSON(&js)
	require.NoError(t, err)
	assert.Equal(t, rep.Emulators, back.Emulators)
	assert.Equal(t, rep.Summary.Emulated, back.Summary.Emulated)
}

// A descriptor that is wrong about its machine fools the guest, the
// server and the prediction alike (they all use it), so the simulated
// column agrees; the real i386 machine in the emulated column does not.
func TestTheEmulatedColumnCatchesADescriptorWrongAboutItsMachine(t *testing.T) {
	wrong := abi.MustLookup("i386")
	wrong.LongLong.Align = 8 // i386 aligns int64 to 4 inside structs
	cfg := emulatedConfig(t, abi.MustLookup("amd64"), wrong)
	cfg.Modes = []rig.Mode{rig.ModeNative}
	rep, err := matrix.Run(context.Background(), newRig(t), cfg)
	require.NoError(t, err)
	require.True(t, rep.Disagrees(), "the perturbation must be caught")

	caught := map[string]bool{}
	for _, d := range rep.Disagreements() {
		require.NotNil(t, d.Emulated, "the simulated column cannot see it: %s", d.Headline())
		require.NotNil(t, d.Result, "%s: %v", d.Headline(), d.Lines())
		assert.Equal(t, "i386", d.Cell.Client, d.Headline())
		caught[d.Emulated.Target+" "+d.Cell.Server+" "+d.Result.Scenario] = true
	}
	assert.True(t, caught["i386 i386 stat"], "the real i386 C client's struct stat against the perturbed i386 server: %v", caught)
	var text bytes.Buffer
	require.NoError(t, rep.WriteText(&text, matrix.TextOptions{}))
	assert.Contains(t, text.String(), "[emulated i386] stat: observed fail, predicted pass")
}

func TestAMissingToolLeavesTheRunGoing(t *testing.T) {
	r := newRig(t) // before PATH goes: the rig needs no tool
	cfg := matrix.DefaultConfig()
	cfg.ABIs = []*abi.Descriptor{abi.MustLookup("amd64"), abi.MustLookup("mips")}
	cfg.Modes = []rig.Mode{rig.ModeNative}
	cfg.Scenarios = []string{"getpid"}
	cfg.Emulated = &matrix.Emulation{Build: emu.DefaultBuildConfig()}
	t.Setenv("PATH", t.TempDir()) // no compiler, no qemu, no go
	rep, err := matrix.Run(context.Background(), r, cfg)
	require.NoError(t, err)
	assert.True(t, rep.OK())
	require.NotEmpty(t, rep.Emulators)
	for _, e := range rep.Emulators {
		assert.Contains(t, e.Missing, "not found", e.Target)
		assert.Zero(t, e.Cells, e.Target)
	}
	assert.Zero(t, rep.Summary.Emulated.Runs)
	var text bytes.Buffer
	require.NoError(t, rep.WriteText(&text, matrix.TextOptions{}))
	assert.Contains(t, text.String(), "not run: C client mips (speaks mips): mips-linux-gnu-gcc not found")
}

func TestUnknownEmulatedTargetsAreRefused(t *testing.T) {
	cfg := matrix.DefaultConfig()
	cfg.Emulated = &matrix.Emulation{Targets: []string{"go-vax"}}
	err := cfg.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `emulated target "go-vax"; known: c, go, amd64`)
}
