package kern_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/kern"
)

func TestSeedDirCopiesAHostTree(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "etc", "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "etc", "motd"), []byte("welcome\n"), 0o640))
	require.NoError(t, os.Symlink("motd", filepath.Join(dir, "etc", "motd.link")))
	mtime := time.Unix(1_600_000_000, 0)
	require.NoError(t, os.Chtimes(filepath.Join(dir, "etc", "motd"), mtime, mtime))
	seeded := func(c *kern.Config) { c.SeedDir, c.UID, c.GID = dir, 1000, 1000 }
	e := newEnv(t, setups[0], seeded)
	fd := e.open("/etc/motd.link", netbsd.O_RDONLY, 0)
	assert.Equal(t, "welcome\n", e.read(fd, 64))
	st := e.statPath("/etc/motd")
	assert.Equal(t, uint32(netbsd.S_IFREG|0o640), st.Mode)
	assert.Equal(t, uint32(1000), st.UID, "seeded files belong to the clients' user")
	assert.Equal(t, ts(mtime), st.Mtim, "and keep their modification time")
	assert.Equal(t, uint32(netbsd.S_IFDIR|0o755), e.statPath("/etc/sub").Mode)
	assert.Equal(t, uint32(netbsd.S_IFDIR|netbsd.S_ISVTX|0o777), e.statPath("/tmp").Mode, "/tmp is untouched")
}

func writeTar(t *testing.T, gz bool, entries []*tar.Header, bodies map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	var w *tar.Writer
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		w = tar.NewWriter(zw)
	} else {
		w = tar.NewWriter(&buf)
	}
	for _, h := range entries {
		body := bodies[h.Name]
		h.Size = int64(len(body))
		require.NoError(t, w.WriteHeader(h))
		_, err := w.Write([]byte(body))
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	if zw != nil {
		require.NoError(t, zw.Close())
	}
	p := filepath.Join(t.TempDir(), "seed.tar")
	require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o644))
	return p
}

func TestSeedTarUnpacksIntoTheTree(t *testing.T) {
	for _, gz := range []bool{false, true} {
		name := "a plain tar"
		if gz {
			name = "a gzip-compressed tar"
		}
		t.Run(name, func(t *testing.T) {
			file := writeTar(t, gz, []*tar.Header{
				{Name: "home/", Typeflag: tar.TypeDir, Mode: 0o750},
				{Name: "home/user/notes.txt", Typeflag: tar.TypeReg, Mode: 0o600},
				{Name: "home/user/again", Typeflag: tar.TypeLink, Linkname: "home/user/notes.txt"},
				{Name: "home/latest", Typeflag: tar.TypeSymlink, Linkname: "user/notes.txt"},
				{Name: "../../escape", Typeflag: tar.TypeReg, Mode: 0o644},
				{Name: "dev/tty0", Typeflag: tar.TypeChar, Mode: 0o666},
			}, map[string]string{"home/user/notes.txt": "tar data", "../../escape": "kept inside"})
			e := newEnv(t, setups[0], func(c *kern.Config) { c.SeedTar = file })
			assert.Equal(t, "tar data", e.read(e.open("/home/latest", netbsd.O_RDONLY, 0), 64))
			assert.Equal(t, e.statPath("/home/user/notes.txt").Ino, e.statPath("/home/user/again").Ino,
				"a tar hard link names the same file (rumpfs shows st_nlink 1 whatever)")
			assert.Equal(t, uint32(netbsd.S_IFDIR|0o750), e.statPath("/home").Mode)
			assert.Equal(t, "kept inside", e.read(e.open("/escape", netbsd.O_RDONLY, 0), 64), "names cannot climb out of /")
			_, errno := e.stat(netbsd.SYS___stat50, e.str("/dev/tty0"))
			assert.Equal(t, netbsd.ENOENT, errno, "devices are skipped")
		})
	}
}

func TestSeedLargerThanTheFileSystemFailsBoot(t *testing.T) {
	file := writeTar(t, false, []*tar.Header{{Name: "big", Typeflag: tar.TypeReg, Mode: 0o644}},
		map[string]string{"big": strings.Repeat("b", 10000)})
	cfg := kern.DefaultConfig()
	cfg.SeedTar = file
	cfg.MaxFSBytes = 4096
	_, err := kern.New(cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "SeedTar")
	assert.ErrorIs(t, err, netbsd.ENOSPC)
}
