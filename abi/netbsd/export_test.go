package netbsd

// CachedLayouts exposes the cache size to the tests.
var CachedLayouts = cachedLayouts
