package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rumpsprig/sprig/abi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestShowStructStatSizes(t *testing.T) {
	for _, tc := range []struct {
		abi, last string
		padding   bool
	}{
		{"i386", "struct stat: size 124, align 4", false},
		{"arm", "struct stat: size 152, align 8", true},
		{"amd64", "struct stat: size 152, align 8", true},
		{"x86_64", "struct stat: size 152, align 8", true}, // an alias
	} {
		code, out, errOut := sprig(t, "abi", "show", tc.abi, "--struct", "stat")
		require.Equal(t, exitOK, code, "%s: %s", tc.abi, errOut)
		assert.Empty(t, errOut)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		assert.Equal(t, tc.last, lines[len(lines)-1], tc.abi)
		assert.Regexp(t, `(?m)^OFFSET +SIZE +TYPE +FIELD$`, out)
		assert.Regexp(t, `(?m)^0 +8 +dev_t +st_dev$`, out)
		assert.Regexp(t, `(?m)^\d+ +8 +time_t +st_atim\.tv_sec$`, out)
		assert.Regexp(t, `(?m)^\d+ +8 +uint32_t\[2\] +st_spare$`, out)
		if tc.padding {
			assert.Regexp(t, `(?m)^12 +4 +\(padding\)$`, out, tc.abi)
		} else {
			assert.NotContains(t, out, "(padding)", tc.abi)
		}
	}
}

func TestShowStructNames(t *testing.T) {
	for _, name := range []string{"stat", "struct stat", " struct  stat "} {
		code, out, errOut := sprig(t, "abi", "show", "i386", "--struct", name)
		require.Equal(t, exitOK, code, "%q: %s", name, errOut)
		assert.Contains(t, out, "struct stat: size 124, align 4\n")
	}
	code, out, _ := sprig(t, "abi", "show", "amd64", "--struct", "timespec")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "struct timespec: size 16, align 8\n")
	code, out, _ = sprig(t, "abi", "show", "i386", "--struct", "rsp_sysresp")
	require.Equal(t, exitOK, code)
	assert.Regexp(t, `(?m)^4 +8 +register_t\[2\] +rsys_retval$`, out)
	assert.Contains(t, out, "struct rsp_sysresp: size 12, align 4\n")
}

// layoutJSON is the documented JSON shape of --struct and --syscall.
type layoutJSON struct {
	ABI    string `json:"abi"`
	Struct string `json:"struct"`
	Size   int    `json:"size"`
	Align  int    `json:"align"`
	Fields []struct {
		Path   string `json:"path"`
		Offset int    `json:"offset"`
		Size   int    `json:"size"`
		Type   string `json:"type"`
	} `json:"fields"`
	Padding []struct {
		Offset int `json:"offset"`
		Size   int `json:"size"`
	} `json:"padding"`
	Syscall *struct {
		Name   string `json:"name"`
		Number int    `json:"number"`
	} `json:"syscall"`
	Slots []struct {
		Name        string `json:"name"`
		Type        string `json:"type"`
		Offset      int    `json:"offset"`
		Size        int    `json:"size"`
		DatumOffset int    `json:"datum_offset"`
		DatumSize   int    `json:"datum_size"`
		Pad         bool   `json:"pad"`
	} `json:"slots"`
}

func showJSON(t *testing.T, args ...string) layoutJSON {
	t.Helper()
	code, out, errOut := sprig(t, append(append([]string{"abi", "show"}, args...), "--format", "json")...)
	require.Equal(t, exitOK, code, errOut)
	var v layoutJSON
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&v), out)
	return v
}

// coverage checks that fields and padding tile the struct exactly once.
func coverage(t *testing.T, v layoutJSON) {
	t.Helper()
	used := make([]int, v.Size)
	for _, f := range v.Fields {
		for i := f.Offset; i < f.Offset+f.Size; i++ {
			used[i]++
		}
	}
	for _, p := range v.Padding {
		for i := p.Offset; i < p.Offset+p.Size; i++ {
			used[i]++
		}
	}
	for i, n := range used {
		assert.Equal(t, 1, n, "%s %s byte %d", v.ABI, v.Struct, i)
	}
}

func TestShowStructJSON(t *testing.T) {
	for abiName, size := range map[string]int{"i386": 124, "arm": 152, "amd64": 152} {
		v := showJSON(t, abiName, "--struct", "struct stat")
		assert.Equal(t, abiName, v.ABI)
		assert.Equal(t, "struct stat", v.Struct)
		assert.Equal(t, size, v.Size)
		assert.Nil(t, v.Syscall)
		assert.Nil(t, v.Slots)
		require.NotEmpty(t, v.Fields)
		assert.Equal(t, "st_dev", v.Fields[0].Path)
		assert.Equal(t, "dev_t", v.Fields[0].Type)
		coverage(t, v)
	}

	i386 := showJSON(t, "i386", "--struct", "stat")
	assert.Empty(t, i386.Padding)
	assert.NotNil(t, i386.Padding, "padding is [] rather than null")
	arm := showJSON(t, "arm", "--struct", "stat")
	assert.Equal(t, 8, arm.Align)
	assert.Contains(t, arm.Padding, struct {
		Offset int `json:"offset"`
		Size   int `json:"size"`
	}{148, 4})
	for _, f := range arm.Fields {
		if f.Path == "st_atim.tv_sec" {
			assert.Equal(t, 48, f.Offset)
		}
	}

	// The flexible tail of struct dirent is a field of size 0.
	d := showJSON(t, "amd64", "--struct", "dirent")
	last := d.Fields[len(d.Fields)-1]
	assert.Equal(t, "d_name", last.Path)
	assert.Equal(t, "char[]", last.Type)
	assert.Zero(t, last.Size)
}

func TestShowSyscall(t *testing.T) {
	code, out, errOut := sprig(t, "abi", "show", "i386", "--syscall", "lseek")
	require.Equal(t, exitOK, code, errOut)
	assert.Regexp(t, `(?m)^SLOT +SLOT SIZE +DATUM +DATUM SIZE +TYPE +NAME$`, out)
	assert.Regexp(t, `(?m)^0 +4 +0 +4 +int +fd$`, out)
	assert.Regexp(t, `(?m)^4 +4 +4 +4 +int +PAD \(padding argument, no value\)$`, out)
	assert.Regexp(t, `(?m)^8 +8 +8 +8 +off_t +offset$`, out)
	assert.True(t, strings.HasSuffix(out, "\nstruct sys_lseek_args: size 20, align 4\n"), out)

	// By number and by SYS_ name too.
	for _, name := range []string{"199", "SYS_lseek"} {
		_, out2, _ := sprig(t, "abi", "show", "i386", "--syscall", name)
		assert.Equal(t, out, out2, name)
	}

	// Big-endian, 64-bit register_t: a 4-byte int sits at the end of its
	// 8-byte slot.
	v := showJSON(t, "sparc64", "--syscall", "lseek")
	assert.Equal(t, "struct sys_lseek_args", v.Struct)
	require.NotNil(t, v.Syscall)
	assert.Equal(t, "lseek", v.Syscall.Name)
	assert.Equal(t, 199, v.Syscall.Number)
	assert.Equal(t, 32, v.Size)
	assert.Equal(t, 8, v.Align)
	require.Len(t, v.Slots, 4)
	fd := v.Slots[0]
	assert.Equal(t, []int{0, 8, 4, 4}, []int{fd.Offset, fd.Size, fd.DatumOffset, fd.DatumSize})
	assert.False(t, fd.Pad)
	assert.True(t, v.Slots[1].Pad)
	assert.Equal(t, "PAD", v.Slots[1].Name)
	require.Len(t, v.Fields, 4)
	assert.Equal(t, 4, v.Fields[0].Offset)
	coverage(t, v)

	little := showJSON(t, "arm64", "--syscall", "lseek")
	assert.Equal(t, 0, little.Slots[0].DatumOffset)
	coverage(t, little)

	// A syscall without arguments.
	code, out, _ = sprig(t, "abi", "show", "amd64", "--syscall", "getpid")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "(no arguments)")
	assert.Contains(t, out, "struct sys_getpid_args: size 0, align 8\n")
}

func TestShowDescriptor(t *testing.T) {
	code, out, errOut := sprig(t, "abi", "show", "i386")
	require.Equal(t, exitOK, code, errOut)
	assert.Regexp(t, `(?m)^abi +i386$`, out)
	assert.Regexp(t, `(?m)^model +ILP32$`, out)
	assert.Regexp(t, `(?m)^TYPE +SIZE +ALIGN +SIGNEDNESS$`, out)
	assert.Regexp(t, `(?m)^long long +8 +4 +signed$`, out)
	assert.Regexp(t, `(?m)^double +8 +4 +floating$`, out)
	assert.Regexp(t, `(?m)^struct stat +124 +4$`, out)
	assert.Regexp(t, `(?m)^199 +lseek +20 +int fd, PAD, off_t offset, int whence$`, out)

	code, out, _ = sprig(t, "abi", "show", "arm64", "--format", "json")
	require.Equal(t, exitOK, code)
	var v struct {
		ABI        string         `json:"abi"`
		Descriptor abi.Descriptor `json:"descriptor"`
		Scalars    []struct {
			Type   string `json:"type"`
			Size   int    `json:"size"`
			Align  int    `json:"align"`
			Signed bool   `json:"signed"`
			Float  bool   `json:"float"`
		} `json:"scalars"`
		Structs []struct {
			Struct string `json:"struct"`
			Size   int    `json:"size"`
			Align  int    `json:"align"`
		} `json:"structs"`
		Syscalls []struct {
			Number int    `json:"number"`
			Name   string `json:"name"`
			Size   int    `json:"size"`
		} `json:"syscalls"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&v))
	assert.Equal(t, "arm64", v.ABI)
	assert.Equal(t, *abi.MustLookup("arm64"), v.Descriptor)
	require.Len(t, v.Scalars, 13, "arm64 has _Bool, long double and __int128 too")
	assert.Equal(t, "char", v.Scalars[0].Type)
	assert.False(t, v.Scalars[0].Signed, "arm64 char is unsigned")
	assert.Equal(t, "register_t", v.Scalars[7].Type)
	assert.False(t, v.Scalars[7].Signed, "arm64 register_t is unsigned")
	assert.True(t, v.Scalars[9].Float)
	assert.Equal(t, "__int128", v.Scalars[12].Type)

	// i386 has no __int128: the row is absent and the text says so.
	code, out, _ = sprig(t, "abi", "show", "i386")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "(no __int128 on this ABI)\n")
	assert.Regexp(t, `(?m)^long double +12 +4 +floating$`, out)
	assert.NotEmpty(t, v.Structs)
	assert.NotEmpty(t, v.Syscalls)
}

func TestList(t *testing.T) {
	code, out, errOut := sprig(t, "abi", "list")
	require.Equal(t, exitOK, code, errOut)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 1+len(abi.All()))
	assert.Regexp(t, `^NAME +ALIASES +MACHINE +MACHINE_ARCH +ENDIAN +MODEL +CHAR +REGISTER_T +COMPILER$`, lines[0])
	for i, d := range abi.All() {
		assert.True(t, strings.HasPrefix(lines[i+1], d.Name+" "), lines[i+1])
	}
	assert.Regexp(t, `(?m)^i386 +386,i686,x86 +i386 +i386 +little +ILP32 +signed +32-bit signed +i686-linux-gnu-gcc$`, out)
	assert.Regexp(t, `(?m)^sparc64 +sparcv9 +sparc64 +sparc64 +big +LP64 +signed +64-bit unsigned +sparc64-linux-gnu-gcc$`, out)

	code, out, _ = sprig(t, "abi", "list", "--format", "json")
	require.Equal(t, exitOK, code)
	var ds []abi.Descriptor
	require.NoError(t, json.Unmarshal([]byte(out), &ds))
	require.Len(t, ds, len(abi.All()))
	for i, d := range abi.All() {
		assert.Equal(t, *d, ds[i])
	}
}

func TestUnknownNames(t *testing.T) {
	code, out, errOut := sprig(t, "abi", "show", "vax", "--struct", "stat")
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, `unknown ABI "vax"`)
	for _, n := range abi.Names() {
		assert.Contains(t, errOut, n)
	}

	code, _, errOut = sprig(t, "abi", "show", "i386", "--struct", "stst")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, `unknown struct "stst"; known: struct timespec, struct stat, struct dirent`)

	code, _, errOut = sprig(t, "abi", "show", "i386", "--syscall", "frob")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, `unknown syscall "frob"; known: exit, read, write`)
	assert.Contains(t, errOut, "lseek")
}

func TestUserDescriptorFile(t *testing.T) {
	dir := t.TempDir()

	// The JSON 'abi list' prints is the descriptor file format: take arm's
	// entry, rename it, and read it back as a user descriptor.
	_, out, _ := sprig(t, "abi", "list", "--format", "json")
	var ds []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &ds))
	var arm map[string]any
	for _, d := range ds {
		if d["name"] == "arm" {
			arm = d
		}
	}
	require.NotNil(t, arm)
	arm["name"] = "myarm"
	delete(arm, "aliases")
	delete(arm, "compiler")
	data, err := json.Marshal(arm)
	require.NoError(t, err)
	file := filepath.Join(dir, "myarm.json")
	require.NoError(t, os.WriteFile(file, data, 0o644))

	code, out, errOut := sprig(t, "abi", "show", file, "--struct", "stat")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "struct stat on myarm ")
	assert.True(t, strings.HasSuffix(out, "\nstruct stat: size 152, align 8\n"), out)

	v := showJSON(t, file, "--syscall", "lseek")
	assert.Equal(t, "myarm", v.ABI)

	code, out, _ = sprig(t, "abi", "show", file)
	require.Equal(t, exitOK, code)
	assert.Regexp(t, `(?m)^file +`+regexp.QuoteMeta(file)+`$`, out)
	assert.Regexp(t, `(?m)^abi +myarm$`, out)
	assert.Regexp(t, `(?m)^compiler +-$`, out)

	// Any file name; 'abi list --format json' filtered to one ABI (an
	// array of one) reads back as that ABI.
	for _, d := range ds {
		if d["name"] == "mips" {
			one, err := json.Marshal([]any{d})
			require.NoError(t, err)
			f := filepath.Join(dir, "mips-descriptor")
			require.NoError(t, os.WriteFile(f, one, 0o644))
			code, out, errOut := sprig(t, "abi", "show", f, "--struct", "stat")
			require.Equal(t, exitOK, code, errOut)
			assert.Contains(t, out, "struct stat on mips ")

			// Changed but still called mips: refused, naming the clash.
			d["endian"] = "little"
			changed, err := json.Marshal(d)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(f, changed, 0o644))
			code, _, errOut = sprig(t, "abi", "show", f)
			assert.Equal(t, exitFail, code)
			assert.Contains(t, errOut, `shadows a built-in ABI: "mips" is a name of the built-in mips`)
		}
	}
	code, _, errOut = sprig(t, "abi", "show", file, "--format", "json")
	require.Equal(t, exitOK, code, errOut)
	all := filepath.Join(dir, "all.json")
	_, listed, _ := sprig(t, "abi", "list", "--format", "json")
	require.NoError(t, os.WriteFile(all, []byte(listed), 0o644))
	code, _, errOut = sprig(t, "abi", "show", all)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "an array of 9 descriptors")

	// A file that is missing or invalid is a failure, not a usage error.
	code, _, errOut = sprig(t, "abi", "show", filepath.Join(dir, "missing.json"))
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "missing.json")

	bad := filepath.Join(dir, "bad.json")
	arm["endian"] = "middle"
	data, err = json.Marshal(arm)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bad, data, 0o644))
	code, _, errOut = sprig(t, "abi", "show", bad)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "endian")
}
