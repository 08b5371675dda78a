package abi_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/internal/golden"
)

// The frame goldens (testdata/frames.c, testdata/frames/<abi>.json) are
// compared with sp's codec and abi/netbsd's encoders by package sp's
// tests (sp/frames_golden_test.go). The tests here keep the files
// honest: made from today's generator, by the named compiler, and
// consistent in themselves.

// TestFrameSourceIsCurrent checks that the committed frames.c is what the
// generator writes now.
func TestFrameSourceIsCurrent(t *testing.T) {
	if *update {
		require.NoError(t, golden.UpdateFrames(testdata, builtins, os.Stdout))
	}
	committed, err := os.ReadFile(filepath.Join(testdata, golden.FrameSourceName))
	require.NoError(t, err)
	if !bytes.Equal(committed, golden.FrameSource()) {
		t.Fatalf("testdata/%s is stale: the frames or the generator changed; run go generate ./abi", golden.FrameSourceName)
	}
}

// TestFrameGoldens checks every built-in ABI's frame golden file and, when
// its compiler is on PATH, regenerates it and requires it identical.
func TestFrameGoldens(t *testing.T) {
	if *update {
		t.Run("update", TestFrameSourceIsCurrent)
	}
	src, err := os.ReadFile(filepath.Join(testdata, golden.FrameSourceName))
	require.NoError(t, err)
	srcSum := golden.SourceSHA256(src)
	for _, d := range builtins {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			checkFrameGolden(t, d, testdata, srcSum, os.Stdout)
		})
	}
}

func checkFrameGolden(t *testing.T, d *abi.Descriptor, dir, srcSum string, out io.Writer) {
	t.Helper()
	path := golden.FramePath(dir, d.Name)
	if !goldenFileExists(t, d, path, "frames", out) {
		return
	}
	f, err := golden.ReadFrameFile(path)
	require.NoError(t, err)
	checkProvenance(t, d, &f.Provenance, golden.FrameCommand(d), srcSum, golden.FrameSourceName)
	checkFrameRecords(t, f)
	regenerateFrames(t, d, f, path, out)
}

// checkFrameRecords checks that the file holds exactly the generator's
// objects and that each record agrees with itself: every value's bytes
// sit at its offset in the object's byte order, the padding list is the
// bytes no member covers, and each value is its initialiser narrowed to
// the member's size. A hand-edited file fails here.
func checkFrameRecords(t *testing.T, f *golden.FrameFile) {
	t.Helper()
	objs := golden.FrameObjects()
	require.Len(t, f.Objects, len(objs), "objects in %s", f.ABI)
	var order binary.ByteOrder = binary.LittleEndian
	if strings.Contains(f.ELF, "ELFDATA2MSB") {
		order = binary.BigEndian
	}
	for i, o := range objs {
		r := f.Objects[i]
		require.Equal(t, []string{o.Name, o.Kind, o.CType}, []string{r.Name, r.Kind, r.CType}, "object %d", i)
		assert.Equal(t, uint32(o.Sysno), r.Sysno, o.Name)
		raw, err := hex.DecodeString(r.Bytes)
		require.NoError(t, err, o.Name)
		require.Len(t, r.Fields, len(o.Fields), o.Name)
		for k, of := range o.Fields {
			m := r.Fields[k]
			require.Equal(t, of.Path, m.Path, o.Name)
			require.True(t, m.Offset >= 0 && m.Offset < len(raw) && m.Size > 0, "%s %s at %d+%d of %d", o.Name, m.Path, m.Offset, m.Size, len(raw))
			if of.Bytes != nil {
				assert.Equal(t, hex.EncodeToString(of.Bytes), m.Init, "%s %s", o.Name, m.Path)
				assert.Equal(t, of.Bytes, raw[m.Offset:m.Offset+len(of.Bytes)], "%s %s: the object holds its initialiser", o.Name, m.Path)
				continue
			}
			v, err := strconv.ParseUint(m.Value, 0, 64)
			require.NoError(t, err, "%s %s", o.Name, m.Path)
			require.LessOrEqual(t, m.Offset+m.Size, len(raw), "%s %s", o.Name, m.Path)
			require.Contains(t, []int{1, 2, 4, 8}, m.Size, "%s %s", o.Name, m.Path)
			assert.Equal(t, v&mask(m.Size), uintAt(order, raw[m.Offset:], m.Size), "%s %s: the object's bytes hold the value", o.Name, m.Path)
			if of.Expr == "" {
				assert.Equal(t, of.Value&mask(m.Size), v&mask(m.Size), "%s %s: the initialiser narrowed to %d bytes", o.Name, m.Path, m.Size)
			}
		}
		assert.Equal(t, golden.Padding(len(raw), r.Fields), r.Padding, "%s: padding is what no member covers", o.Name)
	}
}

func mask(size int) uint64 {
	if size >= 8 {
		return ^uint64(0)
	}
	return 1<<(8*uint(size)) - 1
}

func uintAt(o binary.ByteOrder, b []byte, size int) uint64 {
	switch size {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(o.Uint16(b))
	case 4:
		return uint64(o.Uint32(b))
	}
	return o.Uint64(b)
}

// regenerateFrames rebuilds d's frame golden file into a scratch
// directory with d's compiler, when it is on PATH, and fails on any
// difference.
func regenerateFrames(t *testing.T, d *abi.Descriptor, committed *golden.FrameFile, path string, out io.Writer) {
	t.Helper()
	if len(d.Compiler) == 0 {
		return
	}
	if _, err := exec.LookPath(d.Compiler[0]); err != nil {
		msg := fmt.Sprintf("abi: %s: skipped regenerating the frame golden file: compiler %s is not on PATH (%v); checked against the committed file only",
			d.Name, d.Compiler[0], err)
		fmt.Fprintln(out, msg)
		t.Log(msg)
		return
	}
	fresh, err := golden.GenerateFrames(d, t.TempDir())
	var me *golden.MachineError
	if errors.As(err, &me) {
		msg := fmt.Sprintf("abi: %s: skipped regenerating the frame golden file: %v", d.Name, err)
		fmt.Fprintln(out, msg)
		t.Log(msg)
		return
	}
	require.NoError(t, err)
	if diff := golden.DiffFrames(committed, fresh, 20); len(diff) > 0 {
		t.Errorf("%s: regenerated frame golden file differs from the committed %s (run go generate ./abi and review):\n  %s",
			d.Name, path, strings.Join(diff, "\n  "))
	}
	if !bytes.Equal(fresh.Marshal(), mustRead(t, path)) {
		t.Errorf("%s: regenerated frame golden file is not byte-identical to the committed one", d.Name)
	}
}

// TestFrameGoldenMissing covers descriptors without a frame golden file
// or without their compiler, as TestGoldenMissing does for layouts.
func TestFrameGoldenMissing(t *testing.T) {
	user := *abi.MustLookup("arm")
	user.Name, user.Aliases, user.Compiler = "sprigtest-nocc", nil, nil
	var out bytes.Buffer
	checkFrameGolden(t, &user, t.TempDir(), "", &out)
	assert.Contains(t, out.String(), "no compiler exists for ABI sprigtest-nocc")

	gone := *abi.MustLookup("arm")
	gone.Compiler = []string{"sprigtest-no-such-gcc"}
	out.Reset()
	f, err := golden.ReadFrameFile(golden.FramePath(testdata, "arm"))
	require.NoError(t, err)
	regenerateFrames(t, &gone, f, golden.FramePath(testdata, "arm"), &out)
	assert.Contains(t, out.String(), "sprigtest-no-such-gcc is not on PATH")
	_, err = golden.GenerateFrames(&gone, t.TempDir())
	assert.ErrorIs(t, err, golden.ErrNoCompiler)

	if _, err := exec.LookPath("i686-linux-gnu-gcc"); err == nil {
		wrong := *abi.MustLookup("amd64")
		wrong.Compiler = []string{"i686-linux-gnu-gcc"}
		_, err := golden.GenerateFrames(&wrong, t.TempDir())
		var me *golden.MachineError
		require.ErrorAs(t, err, &me)
	}
}
