package kern

import (
	"fmt"
	"log/slog"
	"math/bits"
	"strings"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

// Config configures a Kernel. Start from DefaultConfig; New verifies it.
type Config struct {
	// ABI is the server's own ABI. It names the machine in hw.machine and
	// hw.machine_arch unless Machine or MachineArch say otherwise. It does
	// not decide how syscalls are decoded: each request carries the ABI
	// the server assumes for its client.
	ABI *abi.Descriptor
	// Machine and MachineArch override ABI.Machine and ABI.MachineArch in
	// sysctl when not empty.
	Machine, MachineArch string

	// UID and GID are the credentials of every client process. The
	// default, 1000/1000, is an ordinary user; 0 makes clients root.
	UID, GID uint32
	// Hostname is the initial kern.hostname.
	Hostname string
	// OSRelease is kern.osrelease ("9.3").
	OSRelease string
	// PageSize is hw.pagesize and st_blksize, and the unit in which
	// file data takes space. A power of two from 512 to 1 MiB.
	PageSize int

	// MaxOpenFiles bounds each process's descriptor numbers: a new
	// descriptor at or above it fails with EMFILE.
	MaxOpenFiles int
	// MaxFileSize bounds a regular file's size (EFBIG beyond it).
	MaxFileSize int64
	// MaxFSBytes bounds the space the file system may use (ENOSPC).
	MaxFSBytes int64
	// MaxIO bounds the bytes one read, write, pread or pwrite moves; a
	// larger request is served short, never refused.
	MaxIO int

	// SeedDir, when set, is a host directory whose tree is copied into
	// "/" at boot (regular files, directories and symbolic links; other
	// kinds are skipped). Copies belong to UID and GID.
	SeedDir string
	// SeedTar, when set, is a tar file (optionally gzip-compressed)
	// unpacked into "/" at boot after SeedDir, with the same rules.
	SeedTar string

	// Clock stamps file times; nil means time.Now. Tests pin it.
	Clock func() time.Time
	// Logger receives kernel events; nil discards them.
	Logger *slog.Logger
}

// DefaultConfig returns the configuration of an amd64 NetBSD 9.3 kernel
// whose clients run as uid and gid 1000.
func DefaultConfig() Config {
	return Config{
		ABI:          abi.MustLookup("amd64"),
		UID:          1000,
		GID:          1000,
		Hostname:     "sprig",
		OSRelease:    "9.3",
		PageSize:     4096,
		MaxOpenFiles: 128,
		MaxFileSize:  1 << 40,
		MaxFSBytes:   256 << 20,
		MaxIO:        1 << 20,
		Clock:        time.Now,
	}
}

// verify checks c and returns an error naming the first bad field.
func (c *Config) verify() error {
	bad := func(field, why string, args ...any) error {
		return fmt.Errorf("kern: config: %s %s", field, fmt.Sprintf(why, args...))
	}
	if c.ABI == nil {
		return bad("ABI", "is nil")
	}
	if err := c.ABI.Validate(); err != nil {
		return fmt.Errorf("kern: config: ABI: %w", err)
	}
	sysctlString := func(field, v string, allowEmpty bool) error {
		switch {
		case v == "" && !allowEmpty:
			return bad(field, "is empty")
		case len(v) >= netbsd.MAXHOSTNAMELEN:
			return bad(field, "is %d bytes; sysctl strings hold at most %d", len(v), netbsd.MAXHOSTNAMELEN-1)
		case strings.IndexByte(v, 0) >= 0:
			return bad(field, "contains a NUL byte")
		}
		return nil
	}
	for _, f := range []struct {
		name, v    string
		allowEmpty bool
	}{
		{"Machine", c.Machine, true}, {"MachineArch", c.MachineArch, true},
		{"Hostname", c.Hostname, true}, {"OSRelease", c.OSRelease, false},
	} {
		if err := sysctlString(f.name, f.v, f.allowEmpty); err != nil {
			return err
		}
	}
	switch {
	case c.UID == ^uint32(0):
		return bad("UID", "is 4294967295, the (uid_t)-1 NetBSD reserves")
	case c.GID == ^uint32(0):
		return bad("GID", "is 4294967295, the (gid_t)-1 NetBSD reserves")
	case c.PageSize < 512 || c.PageSize > 1<<20 || bits.OnesCount(uint(c.PageSize)) != 1:
		return bad("PageSize", "is %d; want a power of two from 512 to 1048576", c.PageSize)
	case c.MaxOpenFiles < 3 || c.MaxOpenFiles > 1<<20:
		return bad("MaxOpenFiles", "is %d; want 3 to 1048576", c.MaxOpenFiles)
	case c.MaxFileSize <= 0:
		return bad("MaxFileSize", "is %d; want a positive size", c.MaxFileSize)
	case c.MaxFSBytes <= 0:
		return bad("MaxFSBytes", "is %d; want a positive size", c.MaxFSBytes)
	case c.MaxIO < 1 || c.MaxIO > 16<<20:
		return bad("MaxIO", "is %d; want 1 to 16 MiB (a frame must carry it)", c.MaxIO)
	}
	return nil
}

func (c *Config) machine() string {
	if c.Machine != "" {
		return c.Machine
	}
	return c.ABI.Machine
}

func (c *Config) machineArch() string {
	if c.MachineArch != "" {
		return c.MachineArch
	}
	return c.ABI.MachineArch
}
