//go:build unix && !linux

package rawsock

// osYield is a no-op where sprig has not measured sched_yield(2): a poll
// there yields to goroutines only.
func osYield() {}
