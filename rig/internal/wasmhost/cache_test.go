package wasmhost

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cacheFile writes a file under dir, last modified age ago.
func cacheFile(t *testing.T, dir, name string, age time.Duration) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o700))
	require.NoError(t, os.WriteFile(p, []byte("x"), 0o600))
	at := time.Now().Add(-age)
	require.NoError(t, os.Chtimes(p, at, at))
	return p
}

func key(i int) string { return fmt.Sprintf("%064x", i) }

// The cache keeps, in each of wazero's directories, the newest cacheKeep
// entries younger than cacheMaxAge, and removes the rest and the stale
// leftovers of dead writes; it touches nothing else.
func TestPruningTheCacheKeepsTheNewestEntriesOfEachWazero(t *testing.T) {
	dir := t.TempDir()
	var kept, gone []string
	for i := range cacheKeep + 2 {
		p := cacheFile(t, dir, "wazero-v1.12.0-amd64-linux/"+key(i), time.Duration(i)*time.Hour)
		if i < cacheKeep {
			kept = append(kept, p)
		} else {
			gone = append(gone, p)
		}
	}
	gone = append(gone,
		cacheFile(t, dir, "wazero-v1.11.0-amd64-linux/"+key(1), cacheMaxAge+time.Hour),
		cacheFile(t, dir, "wazero-v1.12.0-amd64-linux/"+key(99)+".123.tmp", staleWrite+time.Hour))
	kept = append(kept,
		cacheFile(t, dir, "wazero-v1.11.0-amd64-linux/"+key(2), cacheMaxAge-time.Hour),
		cacheFile(t, dir, "wazero-v1.12.0-amd64-linux/"+key(98)+".456.tmp", 2*time.Hour), // a slow write
		cacheFile(t, dir, "wazero-v1.12.0-amd64-linux/notes.txt", 2*cacheMaxAge),
		cacheFile(t, dir, "other/"+key(3), 2*cacheMaxAge),
		cacheFile(t, dir, key(4), 2*cacheMaxAge))

	assert.Equal(t, len(gone), pruneCache(dir, time.Now()))
	for _, p := range kept {
		assert.FileExists(t, p)
	}
	for _, p := range gone {
		assert.NoFileExists(t, p)
	}
	assert.Zero(t, pruneCache(dir, time.Now()), "a second prune found more")
}

// An Engine prunes its cache once it has compiled, and keeps what it
// compiled.
func TestAnEngineLeavesItsCachePruned(t *testing.T) {
	dir := t.TempDir()
	stale := cacheFile(t, dir, "wazero-v0.0.1-amd64-linux/"+key(1), cacheMaxAge+time.Hour)
	ctx := context.Background()
	e, err := NewEngine(ctx, wasmSpin, Options{CacheDir: dir})
	require.NoError(t, err)
	require.NoError(t, e.Close(ctx))
	assert.NoFileExists(t, stale)
	var entries []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(p, ".tmp") {
			entries = append(entries, p)
		}
		return nil
	})
	assert.Len(t, entries, 1, "the guest just compiled is cached: %v", entries)
}

// The cache directory is a path, not a pattern: pruning one whose name
// holds a glob's metacharacters prunes it, and nothing beside it.
func TestPruningACacheDirNamedLikeAPatternPrunesOnlyIt(t *testing.T) {
	parent := t.TempDir()
	for _, name := range []string{"cache*", "cache[1"} {
		dir := filepath.Join(parent, name)
		old := cacheFile(t, dir, "wazero-v1-amd64-linux/"+key(1), cacheMaxAge+time.Hour)
		beside := cacheFile(t, parent, "cache-of-another-app/wazero-v1-amd64-linux/"+key(1), cacheMaxAge+time.Hour)
		assert.Equal(t, 1, pruneCache(dir, time.Now()), name)
		assert.NoFileExists(t, old, name)
		assert.FileExists(t, beside, "%s: a directory beside the cache was pruned", name)
	}
}
