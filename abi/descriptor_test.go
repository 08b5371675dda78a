package abi_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

func TestBuiltinsValidAndComplete(t *testing.T) {
	var names []string
	for _, d := range builtins {
		require.NoError(t, d.Validate(), d.Name)
		assert.NotEmpty(t, d.Compiler, "%s names no compiler", d.Name)
		names = append(names, d.Name)
	}
	assert.Equal(t, []string{"amd64", "i386", "arm64", "aarch64eb", "arm", "mips", "powerpc", "sparc64", "riscv64"}, names)
}

func TestLookupByAliasAnyCase(t *testing.T) {
	for alias, want := range map[string]string{
		"amd64": "amd64", "X86_64": "amd64", "x86-64": "amd64",
		"I686": "i386", "386": "i386",
		"AArch64":    "arm64",
		"aarch64_BE": "aarch64eb", "ARM64EB": "aarch64eb",
		"EARMV7HF": "arm", "armhf": "arm",
		"MipsEB": "mips", "MIPS32": "mips",
		"PPC": "powerpc", "powerpc32": "powerpc",
		"SPARCV9": "sparc64", "RV64": "riscv64",
	} {
		d, err := abi.Lookup(alias)
		require.NoError(t, err, alias)
		assert.Equal(t, want, d.Name, alias)
		assert.Equal(t, abi.MustLookup(want), d, alias)
		assert.NotSame(t, abi.MustLookup(want), d, "every lookup hands out its own copy")
	}
	r, err := abi.Resolve("Sparc64")
	require.NoError(t, err)
	assert.Equal(t, "sparc64", r.Name)

	evbarm64 := abi.ByMachine("evbarm64")
	require.Len(t, evbarm64, 2)
	assert.Equal(t, "arm64", evbarm64[0].Name)
	assert.Equal(t, "aarch64eb", evbarm64[1].Name)
}

func TestLookupUnknownListsKnownNames(t *testing.T) {
	_, err := abi.Lookup("vax")
	require.Error(t, err)
	assert.True(t, errors.Is(err, abi.ErrUnknownABI))
	assert.Contains(t, err.Error(), `"vax"`)
	for _, d := range builtins {
		assert.Contains(t, err.Error(), d.Name)
	}
	_, err = abi.Resolve("vax")
	assert.ErrorIs(t, err, abi.ErrUnknownABI)
	assert.Panics(t, func() { abi.MustLookup("vax") })
}

// descriptorJSON returns a valid JSON descriptor as a generic map, made
// from a built-in one, renamed.
func descriptorJSON(t *testing.T, from, name string, aliases ...string) map[string]any {
	t.Helper()
	d := *abi.MustLookup(from)
	d.Name, d.Aliases, d.Compiler = name, aliases, nil
	b, err := json.Marshal(&d)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

var userRuns atomic.Int32

// A descriptor from a user's JSON file is used exactly like a built-in one:
// here mips o32 turned little-endian (NetBSD's mipsel).
func TestUserDescriptorWorksLikeBuiltin(t *testing.T) {
	// Names unique per run: the registry is global and -count reruns.
	run := userRuns.Add(1)
	name, alias := fmt.Sprintf("sprigtest-mipsel-%d", run), fmt.Sprintf("sprigtest-mipsle-%d", run)
	m := descriptorJSON(t, "mips", name, alias)
	m["endian"] = "little"
	m["machine_arch"] = "mipsel"
	m["note"] = "MIPS o32, little-endian (test)"
	path := filepath.Join(t.TempDir(), "mipsel.json")
	require.NoError(t, os.WriteFile(path, marshal(t, m), 0o644))

	d, err := abi.Load(path)
	require.NoError(t, err)
	assert.Equal(t, abi.LittleEndian, d.Endian)
	assert.False(t, d.BigEndian())
	assert.False(t, d.LP64())

	_, err = abi.Lookup(name)
	require.ErrorIs(t, err, abi.ErrUnknownABI, "Load must not register")
	require.NoError(t, abi.Register(d))
	got, err := abi.Lookup(strings.ToUpper(alias))
	require.NoError(t, err)
	assert.Equal(t, d, got)
	assert.NotSame(t, d, got, "the registry keeps its own copy")
	assert.Contains(t, abi.Names(), name)
	assert.Contains(t, abi.All(), d)
	err = abi.Register(d)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "already used")

	// Resolve takes the file path too; that copy is a new descriptor.
	r, err := abi.Resolve(path)
	require.NoError(t, err)
	assert.Equal(t, d, r)

	// Layouts are mips's, byte for byte in position, little-endian in
	// content.
	mips := abi.MustLookup("mips")
	for _, st := range netbsd.StructTypes() {
		ul, ml := abi.LayoutOf(got, st), abi.LayoutOf(mips, st)
		assert.Equal(t, ml.Size, ul.Size, st.Name())
		assert.Equal(t, ml.Align, ul.Align, st.Name())
		assert.Equal(t, ml.Leaves(), ul.Leaves(), st.Name())
	}
	lseek := netbsd.LayoutsFor(got).Args(netbsd.SYS_lseek)
	assert.Equal(t, 24, lseek.Size)
	for _, s := range lseek.Slots {
		assert.Equal(t, s.Offset, s.Datum.Offset, "little-endian datum starts its slot: %s", s.Name)
	}
	st := netbsd.Stat{Dev: 1, Mode: netbsd.S_IFREG | 0o644, Size: 1 << 40, Atim: netbsd.Timespec{Sec: -5, Nsec: 999}}
	b, err := netbsd.LayoutsFor(got).Stat.Encode(st)
	require.NoError(t, err)
	assert.Equal(t, []byte{0xa4, 0x81, 0, 0}, b[8:12], "st_mode little-endian at 8")
	var back netbsd.Stat
	require.NoError(t, netbsd.LayoutsFor(got).Stat.Decode(b, &back))
	assert.Equal(t, st, back)
}

func TestMalformedDescriptorsNameTheField(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(m map[string]any)
		field string
	}{
		{"missing name", func(m map[string]any) { delete(m, "name") }, "name"},
		{"missing machine", func(m map[string]any) { delete(m, "machine") }, "machine"},
		{"missing scalar", func(m map[string]any) { delete(m, "double") }, "double"},
		{"missing endian", func(m map[string]any) { delete(m, "endian") }, "endian"},
		{"bad endian", func(m map[string]any) { m["endian"] = "middle" }, "endian"},
		{"align not a power of two", func(m map[string]any) {
			m["long_long"] = map[string]any{"size": 8, "align": 3}
		}, "long_long.align"},
		{"zero align", func(m map[string]any) { m["short"] = map[string]any{"size": 2, "align": 0} }, "short.align"},
		{"size smaller than align", func(m map[string]any) {
			m["pointer"] = map[string]any{"size": 4, "align": 8}
		}, "pointer.size"},
		{"unsupported register_t width", func(m map[string]any) {
			m["register_t"] = map[string]any{"size": 2, "align": 2}
		}, "register_t.size"},
		{"unknown key", func(m map[string]any) { m["lnog"] = map[string]any{"size": 4, "align": 4} }, "lnog"},
		{"unknown nested key", func(m map[string]any) {
			m["int"] = map[string]any{"size": 4, "align": 4, "signed": true}
		}, "signed"},
		{"wrong JSON type", func(m map[string]any) { m["int"] = map[string]any{"size": "4", "align": 4} }, "int.size"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := descriptorJSON(t, "arm", "sprigtest-bad")
			c.edit(m)
			d, err := abi.Parse(marshal(t, m))
			require.Error(t, err)
			assert.Nil(t, d)
			var fe *abi.FieldError
			require.True(t, errors.As(err, &fe), "want a *FieldError, got %T: %v", err, err)
			assert.Equal(t, c.field, fe.Field)
			assert.Contains(t, err.Error(), c.field)
		})
	}

	// Not about one field: broken JSON and trailing data.
	_, err := abi.Parse([]byte(`{"name": "x",`))
	require.Error(t, err)
	_, err = abi.Parse(append(marshal(t, descriptorJSON(t, "arm", "sprigtest-trailing")), []byte(` {"name":"y"}`)...))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "after the descriptor")

	// Load names the file; Register validates too.
	path := filepath.Join(t.TempDir(), "bad.json")
	m := descriptorJSON(t, "arm", "sprigtest-badfile")
	m["endian"] = "pdp"
	require.NoError(t, os.WriteFile(path, marshal(t, m), 0o644))
	_, err = abi.Load(path)
	var fe *abi.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "endian", fe.Field)
	assert.Contains(t, err.Error(), path)
	_, err = abi.Load(filepath.Join(t.TempDir(), "none.json"))
	require.Error(t, err)

	bad := *abi.MustLookup("arm")
	bad.Name, bad.Aliases = "sprigtest-unregistered", nil
	bad.Double = abi.Scalar{Size: 8, Align: 6}
	require.ErrorAs(t, abi.Register(&bad), &fe)
	assert.Equal(t, "double.align", fe.Field)
	assert.Equal(t, "sprigtest-unregistered", fe.ABI)
	_, err = abi.Lookup("sprigtest-unregistered")
	assert.ErrorIs(t, err, abi.ErrUnknownABI)

	// A valid JSON round trip of every built-in parses back equal.
	for _, d := range builtins {
		p, err := abi.Parse(marshal(t, d))
		require.NoError(t, err, d.Name)
		assert.Equal(t, d, p)
	}
	assert.True(t, strings.HasPrefix((&abi.FieldError{Field: "x", Problem: "is bad"}).Error(), "abi: descriptor (unnamed)"))
}

// What a user descriptor file may be: any name, an object or an array of
// one; every field without a documented default required; no taking a
// built-in's name with other content.
func TestUserDescriptorFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o644))
		return p
	}
	user := descriptorJSON(t, "mips", "sprigtest-files")

	// Any name, no .json needed; a one-element array too.
	for _, c := range []struct{ file string }{{"plain-name"}, {"x.desc"}} {
		p := write(c.file, marshal(t, user))
		d, err := abi.Resolve(p)
		require.NoError(t, err, c.file)
		assert.Equal(t, "sprigtest-files", d.Name)
	}
	d, err := abi.Load(write("one.json", marshal(t, []any{user})))
	require.NoError(t, err)
	assert.Equal(t, "sprigtest-files", d.Name)

	// Several, or none: an error naming them.
	other := descriptorJSON(t, "arm", "sprigtest-other")
	_, err = abi.Load(write("two.json", marshal(t, []any{user, other})))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `an array of 2 descriptors ("sprigtest-files", "sprigtest-other")`)
	_, err = abi.Parse([]byte(`[]`))
	assert.ErrorContains(t, err, "an array of 0 descriptors")

	// Every required key, char_signed and register_t_signed included.
	for _, k := range []string{"char_signed", "register_t_signed", "name", "machine", "endian", "size_t"} {
		m := descriptorJSON(t, "mips", "sprigtest-missing")
		delete(m, k)
		_, err := abi.Parse(marshal(t, m))
		var fe *abi.FieldError
		require.ErrorAs(t, err, &fe, k)
		assert.Equal(t, k, fe.Field)
	}
	// The optional ones have their documented defaults.
	m := descriptorJSON(t, "mips", "sprigtest-optional")
	for _, k := range []string{"aliases", "machine_arch", "bool", "long_double", "int128", "unnamed_bitfields_align", "compiler", "note"} {
		delete(m, k)
	}
	d, err = abi.Parse(marshal(t, m))
	require.NoError(t, err)
	assert.Equal(t, abi.Scalar{Size: 1, Align: 1}, d.Scalar(abi.BaseBool))
	assert.False(t, d.Has(abi.BaseLongDouble))
	_, err = abi.NewLayout(d, abi.Struct("ld", abi.F("x", abi.LongDouble)))
	assert.ErrorIs(t, err, abi.ErrNotOnABI)
	assert.ErrorContains(t, err, "long_double")

	// A built-in's name or alias with other content is refused; the
	// built-in itself, saved from abi list, is accepted.
	shadow := descriptorJSON(t, "mips", "mips")
	shadow["endian"] = "little"
	_, err = abi.Load(write("mips", marshal(t, shadow)))
	require.ErrorIs(t, err, abi.ErrShadowsBuiltin)
	assert.Contains(t, err.Error(), `"mips" is a name of the built-in mips`)
	alias := descriptorJSON(t, "arm", "sprigtest-alias", "x86_64")
	_, err = abi.Load(write("alias.json", marshal(t, alias)))
	assert.ErrorIs(t, err, abi.ErrShadowsBuiltin)
	same, err := abi.Load(write("same.json", marshal(t, []any{abi.MustLookup("mips")})))
	require.NoError(t, err)
	assert.True(t, same.Equal(abi.MustLookup("mips")))

	// A file named like a built-in is read as a file given with a /.
	_, err = abi.Resolve(filepath.Join(dir, "mips"))
	assert.ErrorIs(t, err, abi.ErrShadowsBuiltin)
	r, err := abi.Resolve("mips")
	require.NoError(t, err)
	assert.Equal(t, abi.BigEndian, r.Endian, "a bare name is the built-in")

	// An unknown name that is no file either.
	_, err = abi.Resolve("sprigtest-nowhere")
	require.ErrorIs(t, err, abi.ErrUnknownABI)
	assert.Contains(t, err.Error(), "no descriptor file is called that")
}

// Built-in lookups hand out copies: changing one changes nothing else.
func TestBuiltinDescriptorsAreNotSharedState(t *testing.T) {
	d := abi.MustLookup("amd64")
	d.Pointer.Size, d.Name, d.Aliases[0] = 4, "mangled", "mangled-too"
	fresh := abi.MustLookup("amd64")
	assert.Equal(t, 8, fresh.Pointer.Size)
	assert.Equal(t, "amd64", fresh.Name)
	assert.Equal(t, "x86_64", fresh.Aliases[0])
	all := abi.All()
	all[0].Endian = abi.BigEndian
	assert.Equal(t, abi.LittleEndian, abi.All()[0].Endian)
	l := abi.LayoutOf(fresh, abi.Struct("p", abi.F("p", abi.Pointer)))
	fresh.Pointer.Size = 4
	assert.Equal(t, 8, l.Size, "a layout keeps its own copy")
	assert.Equal(t, 8, l.ABI.Pointer.Size)
}
