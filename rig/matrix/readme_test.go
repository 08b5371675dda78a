package matrix_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/rig/matrix"
)

var update = flag.Bool("update", false, "rewrite the README's matrix section")

// The README's generated section sits between these markers.
const (
	beginMarker = "<!-- matrix:begin -->"
	endMarker   = "<!-- matrix:end -->"
)

const (
	readmeFile = "../../README.md"
)

// freshVerdict is what `sprig matrix --format markdown` prints for the
// default matrix when every outcome is the predicted one, which the
// matrix tests and `sprig matrix` itself check.
func freshVerdict(t *testing.T) string {
	t.Helper()
	r, err := matrix.Predicted(matrix.DefaultConfig())
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, r.WriteMarkdown(&b))
	return b.String()
}

// splitSection cuts a document around its one matrix section; found is
// false when it has neither marker.
func splitSection(doc string) (before, body, after string, found bool, err error) {
	before, rest, hasBegin := strings.Cut(doc, beginMarker)
	body, after, hasEnd := strings.Cut(rest, endMarker)
	switch {
	case !hasBegin && !strings.Contains(doc, endMarker):
		return doc, "", "", false, nil
	case !hasBegin || !hasEnd:
		return "", "", "", true, fmt.Errorf("%s must come before %s", beginMarker, endMarker)
	case strings.Contains(after, beginMarker):
		return "", "", "", true, fmt.Errorf("more than one %s", beginMarker)
	}
	return before, body, after, true, nil
}

func TestSplitSectionFindsTheOneMarkedSection(t *testing.T) {
	before, body, after, found, err := splitSection("# x\n" + beginMarker + "\nold\n" + endMarker + "\nrest\n")
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, []string{"# x\n", "\nold\n", "\nrest\n"}, []string{before, body, after})

	_, _, _, found, err = splitSection("# no section\n")
	assert.NoError(t, err)
	assert.False(t, found)
	for _, bad := range []string{endMarker + beginMarker, beginMarker + "only", "only" + endMarker,
		beginMarker + endMarker + beginMarker + endMarker} {
		_, _, _, _, err = splitSection(bad)
		assert.Error(t, err, bad)
	}
}

func TestREADMEVerdictSectionIsCurrent(t *testing.T) {
	b, err := os.ReadFile(readmeFile)
	require.NoError(t, err)
	before, section, after, found, err := splitSection(string(b))
	require.True(t, found, "README.md has no %s … %s section", beginMarker, endMarker)
	require.NoError(t, err, "README.md")

	fresh := freshVerdict(t)
	if *update {
		section = "\n" + fresh
		require.NoError(t, os.WriteFile(readmeFile, []byte(before+beginMarker+section+endMarker+after), 0o644))
	}
	assert.Equal(t, strings.TrimSpace(fresh), strings.TrimSpace(section),
		"the README's matrix section is stale: paste `go run ./cmd/sprig matrix --format markdown` between the markers (or go test ./rig/matrix -run README -update)")
}
