package abi_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/internal/golden"
)

func TestParseCBasics(t *testing.T) {
	src := `
#include <stdint.h>
#define NSPARE 2
typedef unsigned int u32;
typedef u32 mode_t;
enum color { RED, GREEN = 5, BLUE, BIG = 1 << 3 };
struct inner { char c; int64_t x; };
struct s {
	char c;
	int a : 3, b : 5;
	unsigned : 0;
	mode_t m;
	enum color col;
	struct inner in[2];
	struct { int p, q; };
	union { int u1; char u2[3]; } un;
	int grid[2][3];
	const char *name;
	void (*fn)(int);
	_Alignas(8) char al;
	short sh __attribute__((aligned(4)));
	long double ld;
	double _Complex dc;
	_Bool ok;
	uint32_t spare[NSPARE];
	char tail[];
} __attribute__((aligned(16)));
int f(int x);
static inline int g(void) { return 1; }
extern int counter;
typedef struct { int a; } anon_t;
`
	d, err := abi.ParseC("t.h", []byte(src))
	require.NoError(t, err)
	s, ok := d.Type("s")
	require.True(t, ok)
	assert.Equal(t, "struct s", s.Name())
	var names []string
	for _, st := range d.Structs() {
		names = append(names, st.Name())
	}
	assert.Equal(t, []string{"struct inner", "struct s", "anon_t"}, names)
	v, ok := d.Constant("BLUE")
	assert.True(t, ok)
	assert.Equal(t, int64(6), v)
	l := abi.LayoutOf(abi.MustLookup("amd64"), s)
	m, err := l.Member("b")
	require.NoError(t, err)
	assert.Equal(t, 0*8+8+3, m.BitPos())
	assert.Equal(t, 5, m.Bits)
	for _, p := range []string{"m", "col", "in[1].x", "p", "q", "un.u2", "grid[1]", "name", "fn", "al", "sh", "ld", "dc", "ok", "spare", "tail"} {
		_, err := l.Member(p)
		assert.NoError(t, err, p)
	}
	assert.Equal(t, 16, l.Align)
	td, ok := d.Type("mode_t")
	require.True(t, ok)
	assert.Equal(t, abi.BaseInt, td.Base())
}

// TestParseCReadsBackTheGeneratedC parses the C that the golden generator
// writes for every golden and random struct (the C the cross compilers
// measure) and requires the parsed types to lay out exactly as the
// originals on every ABI, bit-fields and attributes included.
func TestParseCReadsBackTheGeneratedC(t *testing.T) {
	for _, set := range []*golden.Set{golden.Golden(), golden.RandomSet(*randomSeed, *randomN)} {
		src := set.Declarations()
		d, err := abi.ParseC(set.Name, src)
		require.NoError(t, err)
		checked := 0
		for _, st := range set.Structs {
			got, ok := d.Type(st.Name())
			if !assert.True(t, ok, "%s: %s not parsed", set.Name, st.Name()) {
				continue
			}
			for _, abiD := range builtins {
				want, err := abi.NewLayout(abiD, st)
				if err != nil {
					continue
				}
				gl, err := abi.NewLayout(abiD, got)
				require.NoError(t, err, "%s on %s", st.Name(), abiD.Name)
				assert.Equal(t, [2]int{want.Size, want.Align}, [2]int{gl.Size, gl.Align}, "%s on %s", st.Name(), abiD.Name)
				assert.Equal(t, leafShapes(abiD, want), leafShapes(abiD, gl), "%s on %s", st.Name(), abiD.Name)
				checked++
			}
		}
		t.Logf("%s: %d structs parsed back, %d layouts compared", set.Name, len(set.Structs), checked)
	}
}

// leafShapes is what a layout's leaves say about memory: where, how big,
// which bits, of what base type and signedness.
func leafShapes(d *abi.Descriptor, l *abi.Layout) []string {
	var out []string
	for _, lf := range l.Leaves() {
		t := lf.Type
		for t.Kind() == abi.KindArray {
			t = t.Elem()
		}
		out = append(out, fmt.Sprintf("%s@%d+%d bits %d@%d %s signed=%v float=%v", lf.Path, lf.Offset, lf.Size, lf.Bits, lf.BitOffset,
			t.Base(), t.Signed(d), t.Float()))
	}
	return out
}
