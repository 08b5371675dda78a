package matrix

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/rig"
	"github.com/rumpsprig/sprig/sp"
)

var workers = 6

func TestScratchTiming(t *testing.T) {
	ctx := context.Background()
	t0 := time.Now()
	r, err := rig.New(ctx, rig.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("compile %v", time.Since(t0))
	names := []string{"amd64", "i386", "arm64", "arm", "mips", "powerpc", "sparc64", "riscv64"}
	type job struct {
		c, s string
		m    sp.Mode
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var total, guest time.Duration
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				s := time.Now()
				rep, err := r.Run(ctx, rig.Pair{Client: abi.MustLookup(j.c), Server: abi.MustLookup(j.s), Mode: j.m})
				if err != nil {
					t.Error(err)
					continue
				}
				var g float64
				for _, x := range rep.Results {
					g += x.Millis
				}
				mu.Lock()
				total += time.Since(s)
				guest += time.Duration(g * float64(time.Millisecond))
				mu.Unlock()
			}
		}()
	}
	t1 := time.Now()
	for _, m := range sp.Modes() {
		for _, c := range names {
			for _, s := range names {
				jobs <- job{c, s, m}
			}
		}
	}
	close(jobs)
	wg.Wait()
	t.Logf("wall %v, sum of runs %v, sum of scenario ms %v", time.Since(t1), total, guest)
}
