package wasmhost

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// wazero never removes what it caches, and a compiled guest is some 20
// MB: each new guest (a sprig release, a rebuilt guest) would add one for
// good. So each new Engine prunes its cache once the guest is compiled
// or loaded: in each of wazero's directories (one per wazero version and
// platform) it removes entries written more than cacheMaxAge ago, and
// all but the newest cacheKeep. A hit does not renew an entry (wazero
// only reads it), so a guest in daily use is compiled anew once every
// cacheMaxAge, or sooner where more than cacheKeep guests are built.
const (
	cacheMaxAge = 30 * 24 * time.Hour
	cacheKeep   = 8
	// staleWrite is how old the temporary file of a write must be to be
	// taken for one that died: a living write renames its file within
	// seconds, and one that finds it gone fails its compilation.
	staleWrite = 24 * time.Hour
)

// pruneCache prunes the compilation cache in dir as of now and returns
// how many files it removed. Only files in dir's wazero-* directories
// are touched: entries, and the temporary files of writes that died
// (staleWrite). What cannot be read or removed (another
// process's prune got there first) is left.
func pruneCache(dir string, now time.Time) int {
	top, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	removed := 0
	for _, d := range top {
		if !d.IsDir() || !strings.HasPrefix(d.Name(), "wazero-") {
			continue
		}
		sub := filepath.Join(dir, d.Name())
		entries, err := os.ReadDir(sub)
		if err != nil {
			continue
		}
		type entry struct {
			path string
			mod  time.Time
		}
		var files []entry
		for _, e := range entries {
			info, err := e.Info()
			if err != nil || !info.Mode().IsRegular() {
				continue
			}
			path := filepath.Join(sub, e.Name())
			switch {
			case isCacheKey(e.Name()):
				files = append(files, entry{path, info.ModTime()})
			case strings.HasSuffix(e.Name(), ".tmp") && now.Sub(info.ModTime()) > staleWrite:
				// What a compilation that died left half written.
				if os.Remove(path) == nil {
					removed++
				}
			}
		}
		slices.SortFunc(files, func(a, b entry) int { return b.mod.Compare(a.mod) }) // newest first
		for i, f := range files {
			if i >= cacheKeep || now.Sub(f.mod) > cacheMaxAge {
				if os.Remove(f.path) == nil {
					removed++
				}
			}
		}
	}
	return removed
}

// isCacheKey reports whether name is that of a wazero cache entry: a
// SHA-256 in hex. (An entry being written is "<key>.<random>.tmp".)
func isCacheKey(name string) bool {
	if len(name) != 64 {
		return false
	}
	for _, c := range name {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
