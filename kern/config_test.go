package kern_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/kern"
)

func TestNewVerifiesTheConfigAndNamesTheBadField(t *testing.T) {
	cases := []struct {
		name  string
		tweak func(*kern.Config)
		field string
	}{
		{"a nil ABI", func(c *kern.Config) { c.ABI = nil }, "ABI"},
		{"an invalid ABI", func(c *kern.Config) { c.ABI = &abi.Descriptor{Name: "bad"} }, "ABI"},
		{"an empty OSRelease", func(c *kern.Config) { c.OSRelease = "" }, "OSRelease"},
		{"a hostname too long for sysctl", func(c *kern.Config) { c.Hostname = strings.Repeat("h", 256) }, "Hostname"},
		{"a NUL in the machine", func(c *kern.Config) { c.Machine = "a\x00b" }, "Machine"},
		{"uid -1", func(c *kern.Config) { c.UID = ^uint32(0) }, "UID"},
		{"gid -1", func(c *kern.Config) { c.GID = ^uint32(0) }, "GID"},
		{"a page size that is no power of two", func(c *kern.Config) { c.PageSize = 3000 }, "PageSize"},
		{"a tiny page size", func(c *kern.Config) { c.PageSize = 256 }, "PageSize"},
		{"too few descriptors", func(c *kern.Config) { c.MaxOpenFiles = 2 }, "MaxOpenFiles"},
		{"a hard descriptor limit below the soft one", func(c *kern.Config) { c.MaxOpenFilesHard = 100 }, "MaxOpenFilesHard"},
		{"a release that yields no revision", func(c *kern.Config) { c.OSRelease = "current" }, "OSRelease"},
		{"a negative revision", func(c *kern.Config) { c.OSRevision = -1 }, "OSRevision"},
		{"a negative CPU count", func(c *kern.Config) { c.NCPU = -1 }, "NCPU"},
		{"an unknown extension", func(c *kern.Config) { c.Extensions = 1 << 20 }, "Extensions"},
		{"no file size", func(c *kern.Config) { c.MaxFileSize = 0 }, "MaxFileSize"},
		{"no space", func(c *kern.Config) { c.MaxFSBytes = -1 }, "MaxFSBytes"},
		{"no I/O", func(c *kern.Config) { c.MaxIO = 0 }, "MaxIO"},
		{"a missing seed directory", func(c *kern.Config) { c.SeedDir = "/nonexistent/seed" }, "SeedDir"},
		{"a missing seed tar", func(c *kern.Config) { c.SeedTar = "/nonexistent/seed.tar" }, "SeedTar"},
	}
	for _, tc := range cases {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			cfg := kern.DefaultConfig()
			tc.tweak(&cfg)
			_, err := kern.New(cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "kern: config: "+tc.field)
		})
	}
}

func TestDefaultConfigBootsWithDocumentedValues(t *testing.T) {
	cfg := kern.DefaultConfig()
	assert.Equal(t, uint32(0), cfg.UID, "clients run as root, as on rump_server")
	assert.Equal(t, uint32(0), cfg.GID)
	assert.Equal(t, "7.99.34", cfg.OSRelease)
	assert.Equal(t, 4096, cfg.PageSize)
	assert.Equal(t, 128, cfg.MaxOpenFiles)
	assert.Equal(t, 1772, cfg.MaxOpenFilesHard)
	assert.Equal(t, 2, cfg.NCPU, "librumpuser's default")
	assert.Equal(t, kern.Extensions(0), cfg.Extensions, "NetBSD's calls only")
	assert.Equal(t, "amd64", cfg.ABI.Name)
	host, _ := os.Hostname()
	assert.Equal(t, fmt.Sprintf("rump-%05d.%s", os.Getpid(), host), cfg.Hostname)
	cfg.Clock, cfg.Logger = nil, nil
	k, err := kern.New(cfg)
	require.NoError(t, err, "a nil Clock and Logger take their defaults")
	assert.NotNil(t, k.Config().Clock)
	assert.Equal(t, 1, k.Processes(), "only pid 1 exists at boot")
	assert.Equal(t, cfg.Hostname, k.Hostname())
}

func TestExtensionsReadAndSpellTheirNames(t *testing.T) {
	cases := []struct {
		in   string
		want kern.Extensions
		back string
	}{
		{"", 0, "none"},
		{"none", 0, "none"},
		{"kill", kern.ExtKill, "kill"},
		{"mmap", kern.ExtMmap, "mmap"},
		{"kill,mmap", kern.ExtAll, "kill,mmap"},
		{" mmap , kill ", kern.ExtAll, "kill,mmap"},
		{"all", kern.ExtAll, "kill,mmap"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%q reads as %s", tc.in, tc.back), func(t *testing.T) {
			got, err := kern.ParseExtensions(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.back, got.String())
		})
	}
	_, err := kern.ParseExtensions("kill,fork")
	assert.ErrorContains(t, err, `"fork"`, "an unknown name is refused by name")
}
