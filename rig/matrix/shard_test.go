package matrix_test

import (
	"bytes"
	"github.com/rumpsprig/sprig/rig"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/rig/matrix"
)

func TestShardsCoverEveryCellExactlyOnce(t *testing.T) {
	cfg := matrix.DefaultConfig()
	all := cfg.Cells()
	require.Len(t, all, 9*9*3)
	for _, n := range []int{1, 2, 3, 7, 8, 16, len(all) - 1, len(all), len(all) + 5} {
		seen := map[string]int{}
		for _, sh := range matrix.Shards(n) {
			cells := sh.Select(all)
			assert.LessOrEqual(t, len(cells), (len(all)+n-1)/n, "shard %s is no bigger than its share", sh)
			for _, k := range cells {
				seen[k.String()]++
			}
		}
		assert.Len(t, seen, len(all), "%d shards", n)
		for k, times := range seen {
			assert.Equal(t, 1, times, "%d shards: %s", n, k)
		}
	}
}

func TestShardsDealCellsOutInTurn(t *testing.T) {
	cfg := matrix.DefaultConfig()
	cfg.Shard = matrix.Shard{Index: 2, Count: 4}
	got := cfg.ShardCells()
	all := cfg.Cells()
	require.NotEmpty(t, got)
	for i, k := range got {
		assert.Equal(t, all[1+4*i], k)
	}
	// Native cells are quick where the layouts differ and slow where they
	// agree; dealing in turn gives every shard some of each.
	modes := map[rig.Mode]int{}
	for _, k := range got {
		modes[k.Mode]++
	}
	assert.Len(t, modes, 3)
}

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want matrix.Shard
		ok   bool
	}{
		{"1/1", matrix.Shard{Index: 1, Count: 1}, true},
		{"3/8", matrix.Shard{Index: 3, Count: 8}, true},
		{"8/8", matrix.Shard{Index: 8, Count: 8}, true},
		{"0/8", matrix.Shard{}, false},
		{"9/8", matrix.Shard{}, false},
		{"1/0", matrix.Shard{}, false},
		{"-1/3", matrix.Shard{}, false},
		{"3", matrix.Shard{}, false},
		{"a/b", matrix.Shard{}, false},
	} {
		got, err := matrix.ParseShard(tc.in)
		if tc.ok {
			assert.NoError(t, err, tc.in)
			assert.Equal(t, tc.want, got, tc.in)
			assert.Equal(t, tc.in, got.String())
		} else {
			assert.Error(t, err, tc.in)
		}
	}
}

func smallConfig() matrix.Config {
	return matrix.Config{
		ABIs:      []*abi.Descriptor{abi.MustLookup("amd64"), abi.MustLookup("i386"), abi.MustLookup("arm"), abi.MustLookup("mips")},
		Modes:     matrix.DefaultModes(),
		Scenarios: []string{"getpid", "stat"},
	}
}

// shardReports returns the predicted reports of n shards, each written
// to JSON and read back, as CI hands them to merge.
func shardReports(t *testing.T, cfg matrix.Config, n int) []*matrix.Report {
	t.Helper()
	var out []*matrix.Report
	for _, sh := range matrix.Shards(n) {
		c := cfg
		c.Shard = sh
		r, err := matrix.Predicted(c)
		require.NoError(t, err)
		assert.Equal(t, sh.String(), r.Shard)
		assert.Empty(t, r.Summary.MissingCells, "a shard misses nothing")
		var b bytes.Buffer
		require.NoError(t, r.WriteJSON(&b))
		back, err := matrix.ReadJSON(&b)
		require.NoError(t, err)
		out = append(out, back)
	}
	return out
}

func TestMergingShardsGivesTheWholeMatrix(t *testing.T) {
	cfg := smallConfig()
	whole, err := matrix.Predicted(cfg)
	require.NoError(t, err)
	shards := shardReports(t, cfg, 5)
	// Merge in any order.
	shards[0], shards[4] = shards[4], shards[0]
	merged, err := matrix.Merge(shards...)
	require.NoError(t, err)
	assert.Empty(t, merged.Shard)
	assert.Equal(t, whole.Cells, merged.Cells)
	assert.Equal(t, whole.Summary, merged.Summary)
	assert.True(t, merged.OK())

	var a, b bytes.Buffer
	require.NoError(t, whole.WriteMarkdown(&a))
	require.NoError(t, merged.WriteMarkdown(&b))
	assert.Equal(t, a.String(), b.String())
}

func TestAMergeWithoutEveryShardFails(t *testing.T) {
	shards := shardReports(t, smallConfig(), 4)
	merged, err := matrix.Merge(shards[0], shards[1], shards[3])
	require.NoError(t, err)
	assert.False(t, merged.OK())
	assert.Len(t, merged.Summary.MissingCells, len(shards[2].Cells))
	assert.Contains(t, merged.Summary.MissingCells, shards[2].Cells[0].Key())
}

func TestMergeRefusesDuplicateCellsAndDifferentConfigurations(t *testing.T) {
	shards := shardReports(t, smallConfig(), 2)
	_, err := matrix.Merge(shards[0], shards[1], shards[0])
	assert.ErrorContains(t, err, "is in report 1 and report 3")
	shards[0].Source, shards[1].Source = "a.json", "b.json"
	_, err = matrix.Merge(shards[0], shards[1], shards[0])
	assert.ErrorContains(t, err, "is in a.json and a.json", "reports read from files are named by file")

	other := smallConfig()
	other.Scenarios = []string{"getpid"}
	o, err := matrix.Predicted(other)
	require.NoError(t, err)
	_, err = matrix.Merge(shards[0], o)
	assert.ErrorContains(t, err, "other scenarios")

	other = smallConfig()
	other.Modes = []rig.Mode{rig.ModeNative}
	o, err = matrix.Predicted(other)
	require.NoError(t, err)
	_, err = matrix.Merge(shards[0], o)
	assert.ErrorContains(t, err, "covers modes")

	_, err = matrix.Merge()
	assert.Error(t, err)
}

func TestConfigValidateNamesTheBadField(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*matrix.Config)
		want   string
	}{
		{"no ABIs", func(c *matrix.Config) { c.ABIs = nil }, "no ABIs"},
		{"an ABI twice", func(c *matrix.Config) { c.ABIs = append(c.ABIs, c.ABIs[0]) }, "ABI amd64 twice"},
		{"no modes", func(c *matrix.Config) { c.Modes = nil }, "no modes"},
		{"an unknown scenario", func(c *matrix.Config) { c.Scenarios = []string{"nope"} }, `unknown scenario "nope"`},
		{"a child-only scenario", func(c *matrix.Config) { c.Scenarios = []string{"fork-child"} }, "only as part of its parent"},
		{"a bad shard", func(c *matrix.Config) { c.Shard = matrix.Shard{Index: 3, Count: 2} }, "shard 3/2"},
		{"negative workers", func(c *matrix.Config) { c.Workers = -1 }, "Workers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := smallConfig()
			tc.change(&c)
			assert.ErrorContains(t, c.Validate(), tc.want)
		})
	}
	c := smallConfig()
	assert.NoError(t, c.Validate())
}
