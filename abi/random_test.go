package abi_test

import (
	"flag"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/internal/golden"
)

var (
	randomN    = flag.Int("abi.random", 300, "how many random structs TestRandomStructs compiles with each ABI's cross compiler")
	randomSeed = flag.Uint64("abi.seed", 0x5eed_0016, "seed of TestRandomStructs' generator")
)

// TestRandomStructs generates structs in Go from a seed (bit-fields,
// packed and aligned structs and members, enums, _Bool, long double,
// complex, __int128, nested and anonymous members), compiles them once per
// ABI with its cross compiler and requires every number the compiler
// measured to equal the layout engine's. -abi.random=N sets how many;
// -abi.seed another draw.
func TestRandomStructs(t *testing.T) {
	set := golden.RandomSet(*randomSeed, *randomN)
	src := set.Source()
	for _, d := range builtins {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			if _, err := exec.LookPath(d.Compiler[0]); err != nil {
				t.Skipf("compiler %s for %s is not on PATH (%v): random structs not checked", d.Compiler[0], d.Name, err)
			}
			start := time.Now()
			entries, _, _, err := golden.Measure(d, t.TempDir(), set, src)
			var me *golden.MachineError
			if errorsAs(err, &me) {
				t.Skipf("%v", err)
			}
			require.NoError(t, err)
			want := engineSet(d, set)
			var bad []string
			got := map[string]bool{}
			for _, e := range entries {
				got[e.Name] = true
				w, ok := want[e.Name]
				switch {
				case !ok:
					bad = append(bad, fmt.Sprintf("%s: compiler %d, engine has no such number", e.Name, e.Value))
				case w != e.Value:
					bad = append(bad, fmt.Sprintf("%s: compiler %d, engine %d", e.Name, e.Value, w))
				}
			}
			for n := range want {
				if !got[n] {
					bad = append(bad, fmt.Sprintf("%s: engine computes it, the compiler did not", n))
				}
			}
			structs := 0
			for _, st := range set.Structs {
				if _, err := abi.NewLayout(d, st); err == nil {
					structs++
				}
			}
			t.Logf("%s: %d random structs, %d numbers, seed %#x, %v", d.Name, structs, len(entries), *randomSeed, time.Since(start).Round(time.Millisecond))
			if len(bad) > 0 {
				sort.Strings(bad)
				t.Errorf("%s: %d of %d numbers differ (seed %#x):\n  %s\nstructs concerned:\n%s", d.Name, len(bad), len(entries), *randomSeed,
					strings.Join(bad[:min(len(bad), 30)], "\n  "), firstStruct(set, bad))
			}
		})
	}
}

// firstStruct returns the declarations of the first three structs the
// mismatch lines name.
func firstStruct(set *golden.Set, lines []string) string {
	var out []string
	for _, st := range set.Structs {
		for _, line := range lines {
			if strings.Contains(line, "("+st.Name()+",") || strings.Contains(line, "("+st.Name()+")") {
				out = append(out, st.Decl())
				break
			}
		}
		if len(out) == 3 {
			break
		}
	}
	return strings.Join(out, "\n")
}
