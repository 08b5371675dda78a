package sp_test

// Compiler-made frames (issue 10, item 4): every frame header and body
// sprig encodes, initialised with known values in C and laid out by each
// ABI's real cross compiler (abi/testdata/frames.c, read back from the
// object files into abi/testdata/frames/<abi>.json by
// abi/internal/golden), must be byte-identical with what sp's codec and
// abi/netbsd's encoders produce for the same values, uninitialised
// padding aside. Padding is every byte no initialised member covers, by
// the compiler's own offsets; each such range must be one of the kinds
// named in paddingReason, or the test fails. The goldens are also decoded
// with sp and netbsd, which must give the values back.

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

// frameGoldenDir holds the frame goldens; `go generate ./abi` writes them
// and abi's TestFrameGoldens regenerates them with the compilers.
var frameGoldenDir = filepath.Join("..", "abi", "testdata", "frames")

// frameGolden is abi/testdata/frames/<abi>.json. sp may not import
// abi/internal/golden, so this is its own reader of the format.
type frameGolden struct {
	ABI             string        `json:"abi"`
	Compiler        []string      `json:"compiler"`
	Command         string        `json:"command"`
	CompilerVersion string        `json:"compiler_version"`
	ELF             string        `json:"elf"`
	Source          string        `json:"source"`
	SourceSHA256    string        `json:"source_sha256"`
	Objects         []frameRecord `json:"objects"`
}

type frameRecord struct {
	Name    string        `json:"name"`
	Kind    string        `json:"kind"`
	CType   string        `json:"ctype"`
	Sysno   uint32        `json:"sysno"`
	Bytes   string        `json:"bytes"`
	Fields  []frameMember `json:"fields"`
	Padding []padRange    `json:"padding"`
}

type frameMember struct {
	Path   string `json:"path"`
	Offset int    `json:"offset"`
	Size   int    `json:"size"`
	Value  string `json:"value"`
	Init   string `json:"init"`
	Slot   *struct {
		Offset int `json:"offset"`
		Size   int `json:"size"`
	} `json:"slot"`
}

type padRange struct {
	Offset int    `json:"offset"`
	Size   int    `json:"size"`
	What   string `json:"what"`
}

// Kinds as the goldens name them (abi/internal/golden/frames.go).
const (
	kindHeader        = "rsp_hdr"
	kindSysresp       = "rsp_sysresp"
	kindCopydata      = "rsp_copydata"
	kindCopyout       = "rsp_copydata+data"
	kindHandshakeFork = "handshake_fork"
	kindInt           = "int"
	kindSize          = "size_t"
	kindPointer       = "void *"
	kindArgs          = "syscallargs"
	kindStat          = "struct stat"
	kindDirent        = "struct dirent"
	kindTimespec      = "struct timespec"
	kindTmpfsArgs     = "struct tmpfs_args"
)

func readFrameGolden(t testing.TB, name string) *frameGolden {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(frameGoldenDir, name+".json"))
	require.NoError(t, err, "frame golden of %s (regenerate with go generate ./abi)", name)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var g frameGolden
	require.NoError(t, dec.Decode(&g), "frame golden of %s", name)
	require.Equal(t, name, g.ABI)
	require.NotEmpty(t, g.Objects)
	return &g
}

func (r *frameRecord) wire() []byte {
	b, err := hex.DecodeString(r.Bytes)
	if err != nil {
		panic(fmt.Sprintf("%s: bytes: %v", r.Name, err))
	}
	return b
}

func (r *frameRecord) member(path string) frameMember {
	for _, m := range r.Fields {
		if m.Path == path {
			return m
		}
	}
	panic(fmt.Sprintf("%s has no member %q", r.Name, path))
}

// v is the member's value as the compiler converted it: sign-extended
// for signed C types, so int64(v) and int32(v) are the C values.
func (r *frameRecord) v(path string) uint64 {
	m := r.member(path)
	v, err := strconv.ParseUint(m.Value, 0, 64)
	if err != nil {
		panic(fmt.Sprintf("%s %s: value %q: %v", r.Name, path, m.Value, err))
	}
	return v
}

func (r *frameRecord) init(path string) []byte {
	b, err := hex.DecodeString(r.member(path).Init)
	if err != nil {
		panic(err)
	}
	return b
}

// at names the member covering byte off, for messages.
func (r *frameRecord) at(off int) string {
	for _, m := range r.Fields {
		if off >= m.Offset && off < m.Offset+m.Size {
			return m.Path
		}
	}
	for _, p := range r.Padding {
		if off >= p.Offset && off < p.Offset+p.Size {
			return p.What
		}
	}
	return "?"
}

func (r *frameRecord) masked(off int) bool {
	for _, p := range r.Padding {
		if off >= p.Offset && off < p.Offset+p.Size {
			return true
		}
	}
	return false
}

// frameDiff is one way sprig's frames differ from a compiler's.
type frameDiff struct {
	Object string
	Detail string
}

func (d frameDiff) String() string { return d.Object + ": " + d.Detail }

// frameStats counts what compareFrames compared.
type frameStats struct {
	Objects, Bytes, Masked, ParseOnly int
}

// compareFrames encodes every object of g with sprig's encoders for d
// and compares the bytes with the compiler's, padding masked, then
// decodes the compiler's bytes and compares the values.
func compareFrames(d *abi.Descriptor, g *frameGolden) ([]frameDiff, frameStats) {
	var diffs []frameDiff
	var st frameStats
	for i := range g.Objects {
		r := &g.Objects[i]
		st.Objects++
		add := func(format string, args ...any) {
			diffs = append(diffs, frameDiff{Object: r.Name, Detail: fmt.Sprintf(format, args...)})
		}
		if err := decodeFrame(d, r); err != nil {
			add("decoding the compiler's bytes: %v", err)
		}
		want := r.wire()
		got, parseOnly, err := encodeFrame(d, r)
		switch {
		case err != nil:
			add("encoding: %v", err)
			continue
		case parseOnly:
			st.ParseOnly++
			continue
		case len(got) != len(want):
			add("%d bytes, the compiler's %s is %d", len(got), r.CType, len(want))
			continue
		}
		var bad []string
		for off := range want {
			if r.masked(off) {
				st.Masked++
				continue
			}
			st.Bytes++
			if got[off] != want[off] {
				bad = append(bad, fmt.Sprintf("byte %d (%s): compiler %02x, sprig %02x", off, r.at(off), want[off], got[off]))
			}
		}
		if len(bad) > 0 {
			add("%d bytes differ: %s", len(bad), strings.Join(bad[:min(len(bad), 4)], "; "))
		}
	}
	return diffs, st
}

// paddingReason names why the compiler's padding range p of r is left
// out of the comparison, or returns "" for padding that has no business
// being there.
func paddingReason(r *frameRecord, p padRange) string {
	end := p.Offset + p.Size
	switch r.Kind {
	case kindSysresp:
		// LP64: rsys_error is a 4-byte int and rsys_retval 8-aligned, so
		// bytes 4..8 belong to no member. C leaves them uninitialised
		// (sysproxy.md section 4); sp fills them with DefaultPadFill on
		// purpose, so a peer that misreads them fails visibly (section 10).
		if p.Offset == 4 && end == r.member("rsys_retval[0]").Offset {
			return "rsp_sysresp: uninitialised after rsys_error (LP64); sp sends DefaultPadFill"
		}
	case kindArgs:
		for _, m := range r.Fields {
			if m.Slot == nil {
				continue
			}
			// A datum narrower than register_t: the rest of its slot is
			// garbage from old stubs, zero from 0.4's (sysproxy.md section
			// 6); a C server reads the datum only. netbsd's Encode fills
			// it with the caller's byte (sp: DefaultPadFill).
			if p.Offset >= m.Slot.Offset && end <= m.Slot.Offset+m.Slot.Size {
				return "slot padding of " + m.Path + ": outside the datum; sprig sends its fill"
			}
		}
		// After the last slot: an 8-aligned off_t slot makes the struct
		// 8-aligned on 32-bit ABIs that align int64 to 8 (lseek on arm,
		// mips, powerpc); C leaves the tail uninitialised.
		last := r.Fields[len(r.Fields)-1]
		if last.Slot != nil && p.Offset == last.Slot.Offset+last.Slot.Size && end == len(r.wire()) {
			return "tail padding of " + r.CType + ": struct alignment; sprig sends its fill"
		}
	case kindStat, kindTimespec, kindTmpfsArgs:
		// Alignment holes and tail padding of structs the kernel copies:
		// unspecified in C, zero from netbsd's Encode.
		return r.CType + " alignment padding (" + p.What + "); sprig sends zeros"
	}
	return ""
}

func TestFramesAreTheCompilersOnEveryABI(t *testing.T) {
	for _, d := range abi.All() {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			g := readFrameGolden(t, d.Name)
			diffs, st := compareFrames(d, g)
			for _, df := range diffs {
				t.Errorf("%s (%s): %s", d.Name, g.CompilerVersion, df)
			}
			assert.Equal(t, 1, st.ParseOnly, "only header/len-64bit is too long to send")
			t.Logf("%s: %d frames, %d bytes byte-identical with %s, %d padding bytes masked",
				d.Name, st.Objects, st.Bytes, g.CompilerVersion, st.Masked)
		})
	}
}

// Every padding range the compiler reports has a named reason, and the
// ones issue 10 names are exactly where the facts say.
func TestFramePaddingIsNamed(t *testing.T) {
	for _, d := range abi.All() {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			g := readFrameGolden(t, d.Name)
			var list []string
			for i := range g.Objects {
				r := &g.Objects[i]
				for _, p := range r.Padding {
					why := paddingReason(r, p)
					assert.NotEmpty(t, why, "%s: %s bytes %d..%d (%s) are padding by the compiler, and no reason is named for them",
						d.Name, r.Name, p.Offset, p.Offset+p.Size, p.What)
					list = append(list, fmt.Sprintf("%s [%d,%d) %s", r.Name, p.Offset, p.Offset+p.Size, why))
				}
				switch r.Kind {
				case kindSysresp:
					want := []padRange{}
					if d.LP64() {
						want = []padRange{{Offset: 4, Size: 4, What: "hole after rsys_error"}}
					}
					assert.Equal(t, want, r.Padding, "%s %s", d.Name, r.Name)
				case kindTimespec:
					want := []padRange{}
					if !d.LP64() && d.LongLong.Align == 8 { // time_t 8-aligned, a 4-byte long after it
						want = []padRange{{Offset: 12, Size: 4, What: "tail padding after tv_nsec"}}
					}
					assert.Equal(t, want, r.Padding, "%s %s", d.Name, r.Name)
				case kindHeader, kindCopydata, kindCopyout, kindHandshakeFork, kindInt, kindSize, kindPointer, kindDirent:
					assert.Empty(t, r.Padding, "%s %s has no padding on any ABI", d.Name, r.Name)
				}
			}
			t.Logf("%s: %d padding ranges masked:\n  %s", d.Name, len(list), strings.Join(list, "\n  "))
		})
	}
}

// The goldens hold every syscall argument struct abi/netbsd describes
// (the scenarios' syscalls are among them), and every kind of body.
func TestFrameGoldensCoverEverySyscallAndBody(t *testing.T) {
	for _, d := range abi.All() {
		g := readFrameGolden(t, d.Name)
		have := map[string]bool{}
		kinds := map[string]bool{}
		for _, r := range g.Objects {
			have[r.Name] = true
			kinds[r.Kind] = true
		}
		for _, sc := range netbsd.Syscalls() {
			if len(sc.Args) > 0 {
				assert.True(t, have["args/"+sc.Name], "%s: no golden for sys_%s_args", d.Name, sc.Name)
			}
		}
		for _, k := range []string{kindHeader, kindSysresp, kindCopydata, kindCopyout, kindHandshakeFork, kindInt,
			kindSize, kindPointer, kindArgs, kindStat, kindDirent, kindTimespec, kindTmpfsArgs} {
			assert.True(t, kinds[k], "%s: no golden of kind %s", d.Name, k)
		}
	}
}
