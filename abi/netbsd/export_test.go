package netbsd

// CachedLayouts exposes the cache size to the tests.
var CachedLayouts = cachedLayouts

// ArgSlots is how many syscall numbers Layouts caches argument layouts for.
const ArgSlots = argSlots
