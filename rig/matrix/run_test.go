package matrix_test

import (
	"bytes"
	"context"
	"github.com/rumpsprig/sprig/rig"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/rig/matrix"
)

// TestAReducedMatrixIsObservedAsPredicted runs the real guest and server
// for five ABIs that between them show every kind of pair (identical
// layouts, frames that agree but struct stat that does not, different
// word sizes, different byte orders) in all three modes.
func TestAReducedMatrixIsObservedAsPredicted(t *testing.T) {
	cfg := matrix.Config{
		ABIs:      []*abi.Descriptor{abi.MustLookup("amd64"), abi.MustLookup("arm64"), abi.MustLookup("i386"), abi.MustLookup("arm"), abi.MustLookup("mips")},
		Modes:     matrix.DefaultModes(),
		Scenarios: []string{"file-io", "stat", "fork"},
	}
	var progress []matrix.Progress
	var seen []matrix.Cell // as the callback saw them
	cfg.Progress = func(p matrix.Progress) {
		progress = append(progress, p)
		seen = append(seen, *p.Cell)
	}
	rep, err := matrix.Run(context.Background(), newRig(t), cfg)
	require.NoError(t, err)

	for _, d := range rep.Disagreements() {
		t.Errorf("%s\n\t%v", d.Headline(), d.Lines())
	}
	require.True(t, rep.OK())
	assert.Equal(t, 5*5*3, rep.Summary.Cells)
	require.Len(t, progress, 5*5*3)
	assert.Equal(t, 5*5*3, progress[len(progress)-1].Done)
	for _, c := range seen {
		assert.Equal(t, rep.Cell(c.Mode, c.Client, c.Server).Passed, c.Passed, "progress sees the cell's counts")
	}

	status := func(mode rig.Mode, client, server, scenario string) guestapi.Status {
		c := rep.Cell(mode.String(), client, server)
		require.NotNil(t, c)
		for _, x := range c.Results {
			if x.Scenario == scenario {
				return x.Status
			}
		}
		t.Fatalf("no %s in %s", scenario, c.Key())
		return ""
	}
	assert.Equal(t, guestapi.Pass, status(rig.ModeNative, "amd64", "arm64", "stat"), "identical layouts")
	assert.Equal(t, guestapi.Pass, status(rig.ModeNative, "i386", "arm", "file-io"), "read/write/lseek frames agree")
	assert.Equal(t, guestapi.Fail, status(rig.ModeNative, "i386", "arm", "stat"), "struct stat differs")
	assert.Equal(t, guestapi.Fail, status(rig.ModeNative, "arm", "mips", "file-io"), "byte order")
	assert.Equal(t, guestapi.Pass, status(rig.ModeClientTranslates, "arm", "mips", "stat"))
	fork := rep.Cell("native", "i386", "arm").Results[2]
	require.Equal(t, "fork", fork.Scenario)
	require.NotNil(t, fork.Child, "the fork child reports under its parent")
	assert.Equal(t, guestapi.Pass, fork.Child.Status)

	// A clean run prints exactly the predicted markdown.
	predicted, err := matrix.Predicted(cfg)
	require.NoError(t, err)
	var a, b bytes.Buffer
	require.NoError(t, rep.WriteMarkdown(&a))
	require.NoError(t, predicted.WriteMarkdown(&b))
	assert.Equal(t, b.String(), a.String())
}

func TestRunStopsWhenItsContextEnds(t *testing.T) {
	cfg := matrix.DefaultConfig()
	ctx, cancel := context.WithCancel(context.Background())
	cfg.Progress = func(matrix.Progress) { cancel() }
	cfg.Scenarios = []string{"getpid"}
	_, err := matrix.Run(ctx, newRig(t), cfg)
	assert.ErrorIs(t, err, context.Canceled)
}
