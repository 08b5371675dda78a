package abi_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/internal/golden"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

var update = flag.Bool("update", false, "regenerate testdata/layouts.c and testdata/golden/*.json with the cross compilers on PATH")

// builtins are the descriptors registered before any test runs: the
// built-in ones. Tests that Register more must not change this list.
var builtins = abi.All()

const testdata = "testdata"

// goldens caches parsed golden files by ABI name.
var goldens sync.Map

// goldenFile returns the committed golden file of ABI name, failing the
// test when it is missing.
func goldenFile(t *testing.T, name string) *golden.File {
	t.Helper()
	if f, ok := goldens.Load(name); ok {
		return f.(*golden.File)
	}
	f, err := golden.ReadFile(golden.Path(testdata, name))
	require.NoError(t, err, "golden file for %s (regenerate with go generate ./abi)", name)
	actual, _ := goldens.LoadOrStore(name, f)
	return actual.(*golden.File)
}

// engineEntries computes, with the layout engine alone, every number the
// golden files record, under the same names.
func engineEntries(d *abi.Descriptor) map[string]uint64 {
	m := engineSet(d, golden.Golden())
	lays := netbsd.LayoutsFor(d)
	for _, sc := range golden.Syscalls() {
		n := golden.ArgsName(sc)
		a := lays.Args(sc.Num)
		m[golden.SizeOf(n)] = uint64(a.Size)
		for _, s := range a.Slots {
			m[golden.OffsetOf(n, s.Name)] = uint64(s.Offset)
			m[golden.MemberSize(n, s.Name)] = uint64(s.Size)
			m[golden.DatumOf(n, s.Name)] = uint64(s.Datum.Offset)
			m[golden.DatumSize(n, s.Name)] = uint64(s.Datum.Size)
		}
	}
	return m
}

// engineSet computes the numbers of a set's scalars and structs that d
// can lay out. A bit-field's position comes from encoding -1 into it and
// finding the bits set, as the compiler's object is read, so the engine's
// bit order is checked as well as its arithmetic.
func engineSet(d *abi.Descriptor, set *golden.Set) map[string]uint64 {
	m := map[string]uint64{}
	b2u := func(b bool) uint64 {
		if b {
			return 1
		}
		return 0
	}
	for _, t := range set.Scalars {
		l, err := abi.NewLayout(d, t)
		if err != nil {
			continue // not on this ABI (__int128); the compiler has none either
		}
		m[golden.SizeOf(t.Name())] = uint64(l.Size)
		m[golden.AlignOf(t.Name())] = uint64(l.Align)
		if t.Base() != abi.BasePointer && !t.Complex() {
			m[golden.SignedOf(t.Name())] = b2u(t.Signed(d))
		}
	}
	for _, t := range set.Structs {
		n := t.Name()
		l, err := abi.NewLayout(d, t)
		if err != nil {
			continue
		}
		m[golden.SizeOf(n)] = uint64(l.Size)
		m[golden.AlignOf(n)] = uint64(l.Align)
		for _, lf := range l.Leaves() {
			if lf.BitField() {
				buf := make([]byte, l.Size)
				if err := l.PutInt(buf, lf.Path, -1); err != nil {
					panic(err)
				}
				off, width, ok := golden.BitSpan(buf, d.BigEndian())
				if !ok {
					off, width = -1, -1
				}
				m[golden.BitOffsetOf(n, lf.Path)] = uint64(off)
				m[golden.BitWidthOf(n, lf.Path)] = uint64(width)
				continue
			}
			m[golden.OffsetOf(n, lf.Path)] = uint64(lf.Offset)
			if !lf.Type.IsFlexible() {
				m[golden.MemberSize(n, lf.Path)] = uint64(lf.Size)
			}
		}
	}
	return m
}

// TestGoldenSourceIsCurrent checks that the committed layouts.c is what
// the generator writes now, so the golden files describe today's types.
func TestGoldenSourceIsCurrent(t *testing.T) {
	if *update {
		require.NoError(t, golden.Update(testdata, builtins, os.Stdout))
	}
	committed, err := os.ReadFile(filepath.Join(testdata, golden.SourceName))
	require.NoError(t, err)
	if !bytes.Equal(committed, golden.CSource()) {
		t.Fatalf("testdata/%s is stale: the types or the generator changed; run go generate ./abi", golden.SourceName)
	}
}

// TestGolden compares every layout the engine computes for every built-in
// descriptor with the numbers its cross compiler measured, and, when that
// compiler is on PATH, regenerates the golden file and requires it to be
// identical to the committed one.
func TestGolden(t *testing.T) {
	if *update {
		t.Run("update", TestGoldenSourceIsCurrent)
	}
	src, err := os.ReadFile(filepath.Join(testdata, golden.SourceName))
	require.NoError(t, err)
	srcSum := golden.SourceSHA256(src)

	for _, d := range builtins {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			checkGolden(t, d, testdata, srcSum, os.Stdout)
		})
	}
}

// goldenFileExists reports whether d's golden file at path exists. A
// missing file is reported on out (and in the test log) as "no compiler
// exists" when the descriptor names no compiler (what: what is then left
// unchecked), and fails the test when it names one.
func goldenFileExists(t *testing.T, d *abi.Descriptor, path, what string, out io.Writer) bool {
	t.Helper()
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return true
	}
	if len(d.Compiler) == 0 {
		msg := fmt.Sprintf("abi: no compiler exists for ABI %s (its descriptor names none), so its %s are NOT checked against a compiler", d.Name, what)
		fmt.Fprintln(out, msg)
		t.Log(msg)
		return false
	}
	t.Fatalf("abi: ABI %s names compiler %q but has no golden file %s; run go generate ./abi where that compiler is installed",
		d.Name, strings.Join(d.Compiler, " "), path)
	return false
}

// checkProvenance checks that a golden file is d's, from d's compiler,
// made with command from the committed source (srcSum, the hash of
// source).
func checkProvenance(t *testing.T, d *abi.Descriptor, p *golden.Provenance, command, srcSum, source string) {
	t.Helper()
	assert.Equal(t, d.Name, p.ABI)
	assert.Equal(t, d.Compiler, p.Compiler, "descriptor's compiler changed; regenerate")
	assert.Equal(t, command, p.Command)
	assert.Equal(t, srcSum, p.SourceSHA256, "golden file was made from another %s; regenerate", source)
	assert.NotEmpty(t, p.CompilerVersion)
}

// checkGolden checks d against its golden file under dir. A missing file
// is reported on out (and in the test log) as "no compiler exists" when
// the descriptor names no compiler, and is an error when it names one.
func checkGolden(t *testing.T, d *abi.Descriptor, dir, srcSum string, out io.Writer) {
	t.Helper()
	path := golden.Path(dir, d.Name)
	if !goldenFileExists(t, d, path, "layouts", out) {
		return
	}
	f, err := golden.ReadFile(path)
	require.NoError(t, err)
	checkProvenance(t, d, &f.Provenance, golden.Command(d), srcSum, golden.SourceName)

	// Every number the engine computes matches, and the golden file holds
	// nothing the engine does not compute (bar the informational
	// __alignof__ values).
	want := engineEntries(d)
	got := f.Map()
	var bad []string
	for _, e := range f.Entries {
		if strings.HasPrefix(e.Name, "gnu_alignof(") {
			continue
		}
		w, ok := want[e.Name]
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("%s: compiler %d, engine has no such number", e.Name, e.Value))
		case w != e.Value:
			bad = append(bad, fmt.Sprintf("%s: compiler %d, engine %d", e.Name, e.Value, w))
		}
	}
	for n := range want {
		if _, ok := got[n]; !ok {
			bad = append(bad, fmt.Sprintf("%s: engine computes it, golden file lacks it", n))
		}
	}
	if len(bad) > 0 {
		t.Errorf("%s: %d layout numbers differ from %s:\n  %s", d.Name, len(bad), f.CompilerVersion,
			strings.Join(bad[:min(len(bad), 40)], "\n  "))
	}
	assert.Equal(t, uint64(b2i(d.CharSigned)), got[golden.SignedOf("char")], "char signedness")
	assert.Equal(t, uint64(b2i(d.RegisterTSigned)), got[golden.SignedOf("register_t")], "register_t signedness")

	regenerate(t, d, f, path, out)
}

// regenerate rebuilds d's golden file into a scratch directory with d's
// compiler, when it is on PATH, and fails on any difference.
func regenerate(t *testing.T, d *abi.Descriptor, committed *golden.File, path string, out io.Writer) {
	t.Helper()
	if len(d.Compiler) == 0 {
		return
	}
	if _, err := exec.LookPath(d.Compiler[0]); err != nil {
		msg := fmt.Sprintf("abi: %s: skipped regenerating the golden file: compiler %s is not on PATH (%v); checked against the committed file only",
			d.Name, d.Compiler[0], err)
		fmt.Fprintln(out, msg)
		t.Log(msg)
		return
	}
	fresh, err := golden.Generate(d, t.TempDir())
	var me *golden.MachineError
	if errors.As(err, &me) {
		msg := fmt.Sprintf("abi: %s: skipped regenerating the golden file: %v", d.Name, err)
		fmt.Fprintln(out, msg)
		t.Log(msg)
		return
	}
	require.NoError(t, err)
	if diff := golden.Diff(committed, fresh, 40); len(diff) > 0 {
		t.Errorf("%s: regenerated golden file differs from the committed %s (run go generate ./abi and review):\n  %s",
			d.Name, path, strings.Join(diff, "\n  "))
	}
	if !bytes.Equal(fresh.Marshal(), mustRead(t, path)) {
		t.Errorf("%s: regenerated golden file is not byte-identical to the committed one", d.Name)
	}
}

// TestGoldenMissing covers what happens to descriptors without a golden
// file: one naming no compiler is reported as having none, and one whose
// compiler is missing from PATH is checked against its committed file
// only.
func TestGoldenMissing(t *testing.T) {
	user := *abi.MustLookup("arm")
	user.Name, user.Aliases, user.Compiler = "sprigtest-nocc", nil, nil
	var out bytes.Buffer
	checkGolden(t, &user, t.TempDir(), "", &out)
	assert.Contains(t, out.String(), "no compiler exists for ABI sprigtest-nocc")

	gone := *abi.MustLookup("arm")
	gone.Compiler = []string{"sprigtest-no-such-gcc", "-mfoo"}
	out.Reset()
	f := goldenFile(t, "arm")
	regenerate(t, &gone, f, golden.Path(testdata, "arm"), &out)
	assert.Contains(t, out.String(), "skipped regenerating")
	assert.Contains(t, out.String(), "sprigtest-no-such-gcc is not on PATH")
	_, err := golden.Generate(&gone, t.TempDir())
	assert.ErrorIs(t, err, golden.ErrNoCompiler)
	_, err = golden.Generate(&user, t.TempDir())
	assert.ErrorIs(t, err, golden.ErrNoCompiler)

	// A compiler for another machine ("gcc" on a non-amd64 host) is
	// noticed from the object file and regeneration is skipped.
	if _, err := exec.LookPath("i686-linux-gnu-gcc"); err == nil {
		wrong := *abi.MustLookup("amd64")
		wrong.Compiler = []string{"i686-linux-gnu-gcc"}
		_, err := golden.Generate(&wrong, t.TempDir())
		var me *golden.MachineError
		require.ErrorAs(t, err, &me)
		assert.Contains(t, me.Got, "ELFCLASS32")
		out.Reset()
		regenerate(t, &wrong, goldenFile(t, "amd64"), golden.Path(testdata, "amd64"), &out)
		assert.Contains(t, out.String(), "skipped regenerating")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestLeafPathsResolve checks that every path Leaves reports can be looked
// up again with Field, at the same offset and size, for every probed
// struct on every built-in ABI.
func TestLeafPathsResolve(t *testing.T) {
	for _, d := range builtins {
		for _, st := range golden.Structs() {
			l, err := abi.NewLayout(d, st)
			if err != nil {
				require.ErrorIs(t, err, abi.ErrNotOnABI)
				continue
			}
			for _, lf := range l.Leaves() {
				m, err := l.Member(lf.Path)
				if !assert.NoError(t, err, "%s %s %s", d.Name, st.Name(), lf.Path) {
					continue
				}
				assert.Equal(t, lf.Offset, m.Offset, "%s %s %s", d.Name, st.Name(), lf.Path)
				if lf.BitField() {
					assert.Equal(t, []int{lf.BitOffset, lf.Bits}, []int{m.BitOffset, m.Bits}, "%s %s %s", d.Name, st.Name(), lf.Path)
				} else {
					assert.Equal(t, lf.Size, m.Size, "%s %s %s", d.Name, st.Name(), lf.Path)
				}
			}
		}
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
