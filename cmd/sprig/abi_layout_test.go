package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
)

// netbsdStat is NetBSD's struct stat (sys/stat.h, __stat50) as its header
// declares it, with the typedefs of sys/types.h and struct timespec that
// it uses written out.
const netbsdStat = `
typedef uint64_t  dev_t;
typedef uint32_t  mode_t;
typedef uint64_t  ino_t;
typedef uint32_t  nlink_t;
typedef uint32_t  uid_t;
typedef uint32_t  gid_t;
typedef int64_t   time_t;
typedef int64_t   off_t;
typedef int64_t   blkcnt_t;
typedef int32_t   blksize_t;

struct timespec {
	time_t	tv_sec;		/* seconds */
	long	tv_nsec;	/* and nanoseconds */
};

struct stat {
	dev_t	  st_dev;		/* inode's device */
	mode_t	  st_mode;		/* inode protection mode */
	ino_t	  st_ino;		/* inode's number */
	nlink_t	  st_nlink;		/* number of hard links */
	uid_t	  st_uid;		/* user ID of the file's owner */
	gid_t	  st_gid;		/* group ID of the file's group */
	dev_t	  st_rdev;		/* device type */
	struct	  timespec st_atim;	/* time of last access */
	struct	  timespec st_mtim;	/* time of last data modification */
	struct	  timespec st_ctim;	/* time of last file status change */
	struct	  timespec st_birthtim;	/* time of creation */
	off_t	  st_size;		/* file size, in bytes */
	blkcnt_t  st_blocks;		/* blocks allocated for file */
	blksize_t st_blksize;		/* optimal blocksize for I/O */
	uint32_t  st_flags;		/* user defined flags for file */
	uint32_t  st_gen;		/* file generation number */
	uint32_t  st_spare[2];
};
`

// crossJSON is the documented JSON of 'sprig abi layout'.
type crossJSON struct {
	ABIs    []string `json:"abis"`
	Structs []struct {
		Struct  string `json:"struct"`
		Differs bool   `json:"differs"`
		Layouts []struct {
			ABI   string `json:"abi"`
			Size  int    `json:"size"`
			Align int    `json:"align"`
			Error string `json:"error"`
		} `json:"layouts"`
		Fields []struct {
			Path    string `json:"path"`
			Type    string `json:"type"`
			Differs bool   `json:"differs"`
			At      []*struct {
				Offset    int `json:"offset"`
				Size      int `json:"size"`
				BitOffset int `json:"bit_offset"`
				Bits      int `json:"bits"`
			} `json:"at"`
		} `json:"fields"`
	} `json:"structs"`
}

func layoutJSONOut(t *testing.T, args ...string) crossJSON {
	t.Helper()
	code, out, errOut := sprig(t, append(append([]string{"abi", "layout"}, args...), "--format", "json")...)
	require.Equal(t, exitOK, code, errOut)
	var v crossJSON
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&v), out)
	return v
}

// NetBSD's own struct stat declaration, parsed from C, lays out exactly
// as 'sprig abi show ABI --struct stat' shows sprig's built-in
// description, on every ABI.
func TestLayoutDeclOfNetBSDStatMatchesAbiShow(t *testing.T) {
	v := layoutJSONOut(t, "--decl", netbsdStat, "--struct", "stat", "--abi", "all")
	require.Len(t, v.Structs, 1)
	st := v.Structs[0]
	assert.Equal(t, "struct stat", st.Struct)
	assert.True(t, st.Differs, "i386 lays struct stat out differently")
	require.Len(t, v.ABIs, len(abi.All()))
	for i, name := range v.ABIs {
		show := showJSON(t, name, "--struct", "stat")
		assert.Equal(t, show.Size, st.Layouts[i].Size, name)
		assert.Equal(t, show.Align, st.Layouts[i].Align, name)
		require.Len(t, st.Fields, len(show.Fields), name)
		for k, f := range show.Fields {
			got := st.Fields[k]
			assert.Equal(t, f.Path, got.Path, name)
			assert.Equal(t, f.Type, got.Type, "%s %s", name, f.Path)
			require.NotNil(t, got.At[i], "%s %s", name, f.Path)
			assert.Equal(t, [2]int{f.Offset, f.Size}, [2]int{got.At[i].Offset, got.At[i].Size}, "%s %s", name, f.Path)
		}
	}
}

func TestLayoutText(t *testing.T) {
	code, out, errOut := sprig(t, "abi", "layout", "--decl", netbsdStat, "--abi", "amd64,i386,arm")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "struct timespec (* marks what differs between ABIs)\n")
	assert.Regexp(t, `(?m)^ +FIELD +TYPE +amd64 +i386 +arm$`, out)
	assert.Regexp(t, `(?m)^ +st_dev +dev_t +0\+8 +0\+8 +0\+8$`, out)
	assert.Regexp(t, `(?m)^\* +st_ino +ino_t +16\+8 +12\+8 +16\+8$`, out)
	assert.Regexp(t, `(?m)^\* +\(sizeof\) +152 +124 +152$`, out)
	assert.Regexp(t, `(?m)^\* +\(alignof\) +8 +4 +8$`, out)

	// Bit-fields show BYTE.BIT:WIDTH, in each ABI's bit order.
	bf := `struct flags { unsigned a : 3, b : 7; char c; };`
	code, out, errOut = sprig(t, "abi", "layout", "--decl", bf, "--abi", "amd64,mips")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "struct flags (* marks what differs between ABIs)\n")
	assert.Regexp(t, `(?m)^\* +b +unsigned int +0\.3:7 +0\.3:7$`, out, "the same number, the other end of the byte")
	assert.Regexp(t, `(?m)^ +c +char +2\+1 +2\+1$`, out)
	code, out, errOut = sprig(t, "abi", "layout", "--decl", bf, "--abi", "amd64,arm")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "struct flags (the same on every ABI shown)\n")

	// A struct one ABI cannot lay out.
	code, out, errOut = sprig(t, "abi", "layout", "--decl", "struct w { __int128 x; };", "--abi", "amd64,i386")
	require.Equal(t, exitOK, code, errOut)
	assert.Regexp(t, `(?m)^\* +x +__int128 +0\+16 +-$`, out)
	assert.Contains(t, out, "i386: abi: __int128: __int128 not available on this ABI i386")
}

func TestLayoutFileAndErrors(t *testing.T) {
	dir := t.TempDir()
	hdr := filepath.Join(dir, "proto.h")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "types.h"), []byte("typedef uint16_t port_t;\n"), 0o644))
	require.NoError(t, os.WriteFile(hdr, []byte(`#ifndef PROTO_H
#define PROTO_H
#include <stdint.h>
#include "types.h"
#define NADDR 4
struct msg {
	port_t port;
	uint32_t addrs[NADDR];
	uint64_t cookie;
} __attribute__((packed));
int send_msg(const struct msg *m);
#endif
`), 0o644))
	v := layoutJSONOut(t, hdr, "--abi", "i386,sparc64")
	require.Len(t, v.Structs, 1)
	assert.Equal(t, "struct msg", v.Structs[0].Struct)
	assert.False(t, v.Structs[0].Differs, "packed: the same everywhere")
	assert.Equal(t, 26, v.Structs[0].Layouts[0].Size)

	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--decl", "struct s { long x[sizeof(long)]; };"}, exitUsage, "sizeof in a declaration"},
		{[]string{"--decl", "#ifdef __LP64__\nstruct s { long x; };\n#endif"}, exitUsage, "__LP64__"},
		{[]string{"--decl", "#include <sys/types.h>\nstruct s { dev_t d; };"}, exitUsage, "cannot include sys/types.h"},
		{[]string{"--decl", "struct s { int x; };", "--struct", "t"}, exitUsage, `no struct or union "t" in the declarations; they define: struct s`},
		{[]string{"--decl", "struct s { int x; };", "--abi", "vax"}, exitUsage, `unknown ABI "vax"`},
		{[]string{filepath.Join(dir, "missing.h")}, exitFail, "missing.h"},
		{[]string{}, exitUsage, "missing FILE.h or --decl"},
		{[]string{hdr, "--decl", "struct s {int x;};"}, exitUsage, "not both"},
	} {
		code, _, errOut := sprig(t, append([]string{"abi", "layout"}, c.args...)...)
		assert.Equal(t, c.code, code, "%v: %s", c.args, errOut)
		assert.Contains(t, errOut, c.msg, c.args)
	}
}

func TestDiff(t *testing.T) {
	code, out, errOut := sprig(t, "abi", "diff", "amd64", "i386")
	require.Equal(t, exitOK, code, errOut)
	assert.Regexp(t, `(?m)^ITEM +amd64 +i386$`, out)
	assert.Regexp(t, `(?m)^long +size 8 align 8 +size 4 align 4$`, out)
	assert.Regexp(t, `(?m)^struct stat: size +152 +124$`, out)
	assert.Regexp(t, `(?m)^struct stat: st_ino +16\+8 +12\+8$`, out)
	assert.NotRegexp(t, `(?m)^struct stat: st_dev `, out, "st_dev is at 0+8 on both")
	assert.Regexp(t, `(?m)^struct sys_lseek_args: size +32 +20$`, out)
	assert.Regexp(t, `(?m)^struct sys_lseek_args: offset +slot 16\+8 datum 16\+8 +slot 8\+8 datum 8\+8$`, out)
	assert.Regexp(t, `(?m)^\d+ differences$`, out)

	// The same sizes on both: the byte order differs, and with it where
	// a narrow syscall argument sits in its 8-byte slot; no struct does.
	code, out, _ = sprig(t, "abi", "diff", "arm64", "aarch64eb", "--format", "json")
	require.Equal(t, exitOK, code)
	var v struct {
		A, B        string
		Differences []struct{ What, Item, A, B string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &v))
	assert.Equal(t, "arm64", v.A)
	require.NotEmpty(t, v.Differences)
	assert.Equal(t, "endian", v.Differences[0].Item)
	for _, d := range v.Differences[1:] {
		assert.Equal(t, "syscall", d.What, d.Item)
	}
	assert.Contains(t, v.Differences, struct{ What, Item, A, B string }{"syscall", "struct sys_lseek_args: fd", "slot 0+8 datum 0+4", "slot 0+8 datum 4+4"})

	code, out, _ = sprig(t, "abi", "diff", "arm", "mips", "--struct", "stat")
	require.Equal(t, exitOK, code)
	assert.Equal(t, "arm and mips: no differences\n", out)
	code, out, _ = sprig(t, "abi", "diff", "amd64", "i386", "--struct", "sys_lseek_args")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "struct sys_lseek_args: size")
	assert.NotContains(t, out, "struct stat")

	hdr := filepath.Join(t.TempDir(), "x.h")
	require.NoError(t, os.WriteFile(hdr, []byte("struct x { char c; long l; int b : 3; };"), 0o644))
	code, out, _ = sprig(t, "abi", "diff", "sparc64", "i386", "--file", hdr)
	require.Equal(t, exitOK, code)
	assert.Regexp(t, `(?m)^struct x: l +8\+8 +4\+4$`, out)
	assert.Regexp(t, `(?m)^struct x: b +16\.0:3 \(msb first\) +8\.0:3 \(lsb first\)$`, out)

	code, _, errOut = sprig(t, "abi", "diff", "amd64")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "want two ABIs")
	code, _, errOut = sprig(t, "abi", "diff", "amd64", "vax")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, `unknown ABI "vax"`)
}

// Every flag of the new commands appears in their usage lines.
func TestLayoutAndDiffUsageListsEveryFlag(t *testing.T) {
	for _, c := range []struct {
		d  doc
		fs *flag.FlagSet
	}{
		{abiLayoutDoc, (&layoutFlags{}).flagSet()},
		{abiDiffDoc, (&diffFlags{}).flagSet()},
	} {
		n := 0
		c.fs.VisitAll(func(f *flag.Flag) {
			n++
			assert.Contains(t, c.d.usage, "--"+f.Name, "%s: usage lacks --%s", c.d.path, f.Name)
			assert.Contains(t, c.d.details, "  --"+f.Name, "%s: flag list lacks --%s", c.d.path, f.Name)
		})
		assert.NotZero(t, n)
	}
}
