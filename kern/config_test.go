package kern_test

import (
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
	assert.Equal(t, uint32(1000), cfg.UID)
	assert.Equal(t, uint32(1000), cfg.GID)
	assert.Equal(t, "9.3", cfg.OSRelease)
	assert.Equal(t, 4096, cfg.PageSize)
	assert.Equal(t, "amd64", cfg.ABI.Name)
	cfg.Clock, cfg.Logger = nil, nil
	k, err := kern.New(cfg)
	require.NoError(t, err, "a nil Clock and Logger take their defaults")
	assert.NotNil(t, k.Config().Clock)
	assert.Equal(t, 1, k.Processes(), "only pid 1 exists at boot")
	assert.Equal(t, "sprig", k.Hostname())
}
