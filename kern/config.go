package kern

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/bits"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

// Config configures a Kernel. Start from DefaultConfig, which is NetBSD's
// rump_server as it boots; New verifies the result.
type Config struct {
	// ABI is the server's own ABI. It names the machine in hw.machine and
	// hw.machine_arch unless Machine or MachineArch say otherwise, and
	// its byte order is hw.byteorder. It does not decide how syscalls
	// are decoded: each request carries the ABI the server assumes for
	// its client.
	ABI *abi.Descriptor
	// Machine and MachineArch override ABI.Machine and ABI.MachineArch in
	// sysctl when not empty.
	Machine, MachineArch string

	// UID and GID are the credentials (real, effective and saved) every
	// GUEST process starts with. The default, 0/0, is rump_server's:
	// clients run as root.
	UID, GID uint32
	// Hostname is the initial kern.hostname. rump_server's is
	// "rump-<its pid, 5 digits>.<the host's name>", which DefaultConfig
	// computes for this process.
	Hostname string
	// OSRelease is kern.osrelease and the release kern.version names
	// ("7.99.34").
	OSRelease string
	// OSRevision is kern.osrevision; 0 derives it from OSRelease as
	// NetBSD's __NetBSD_Version__ does (7.99.34 is 799003400).
	OSRevision int32
	// NCPU is hw.ncpu. librumpuser gives a rump kernel 2 CPUs unless
	// RUMP_NCPU says otherwise; 0 means 2 as well.
	NCPU int
	// PageSize is hw.pagesize, tmpfs's st_blksize and the unit in which
	// file data takes space. A power of two from 512 to 1 MiB.
	PageSize int

	// MaxOpenFiles is RLIMIT_NOFILE's initial soft limit, which bounds
	// descriptor numbers (128 on rump_server: dup2 onto 127 works, onto
	// 128 is EBADF).
	MaxOpenFiles int
	// MaxOpenFilesHard is RLIMIT_NOFILE's hard limit and the kernel's
	// maxfiles (1772), the most any process may raise its soft limit to.
	MaxOpenFilesHard int
	// MaxFileSize bounds a regular file's size (EFBIG beyond it).
	MaxFileSize int64
	// MaxFSBytes bounds the space all file systems together may use
	// (ENOSPC).
	MaxFSBytes int64
	// MaxIO bounds the bytes one read, write, pread or pwrite moves; a
	// larger request is served short, never refused.
	MaxIO int

	// Console receives what GUEST processes write to descriptors 0-2,
	// the rump console, as rump_server's standard output does. Nil
	// discards it.
	Console io.Writer

	// Extensions turns on calls NetBSD's rump kernel does not serve
	// (ENOSYS there), which sprig offers for testing: see Extensions.
	Extensions Extensions
	// KillAnyClient lets kill(2), when ExtKill is on, reach processes of
	// every client. By default a signal reaches only processes of the
	// caller's own connection tree (the GUEST and its forks); any other
	// target is EPERM, and kill(-1) skips it.
	KillAnyClient bool

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

// Extensions is a set of sprig's additions to the syscalls a NetBSD rump
// kernel serves. Each is ENOSYS unless its flag is set, as on the real
// server.
type Extensions uint32

const (
	// ExtKill serves kill(2): a signal is forwarded to the target's
	// client as a RAISE request (a forked process not yet claimed exists
	// but drops it). Targets are limited to the caller's connection tree
	// unless Config.KillAnyClient is set.
	ExtKill Extensions = 1 << iota
	// ExtMmap serves mmap(2) of anonymous memory, by asking the client to
	// map it (ANONMMAP), and munmap(2), which checks its range and leaves
	// the client's memory alone.
	ExtMmap

	// ExtAll is every extension.
	ExtAll = ExtKill | ExtMmap
)

var extNames = []struct {
	e    Extensions
	name string
}{{ExtKill, "kill"}, {ExtMmap, "mmap"}}

// String spells e as ParseExtensions reads it: "kill,mmap", or "none".
func (e Extensions) String() string {
	if parts := e.Names(); len(parts) > 0 {
		return strings.Join(parts, ",")
	}
	return "none"
}

// Names lists the extensions in e by name ("kill", "mmap"); unknown bits
// are a hexadecimal number. None is an empty list.
func (e Extensions) Names() []string {
	var parts []string
	for _, n := range extNames {
		if e&n.e != 0 {
			parts = append(parts, n.name)
			e &^= n.e
		}
	}
	if e != 0 {
		parts = append(parts, fmt.Sprintf("%#x", uint32(e)))
	}
	return parts
}

// ParseExtensions reads a comma-separated list of extension names
// ("kill", "mmap"), "all" or "none"; an empty string is none.
func ParseExtensions(s string) (Extensions, error) {
	var e Extensions
	for _, part := range strings.Split(s, ",") {
		switch part = strings.TrimSpace(part); part {
		case "", "none":
			continue
		case "all":
			e |= ExtAll
			continue
		}
		found := false
		for _, n := range extNames {
			if n.name == part {
				e |= n.e
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("kern: unknown extension %q (known: kill, mmap, all, none)", part)
		}
	}
	return e, nil
}

// Release and ncpu of NetBSD's rump_server as measured.
const (
	defaultRelease = "7.99.34"
	defaultNCPU    = 2 // librumpuser's default when RUMP_NCPU is not set
)

// DefaultConfig returns the configuration of NetBSD 7.99.34's
// rump_server on amd64: clients run as root, 128 descriptors, release
// 7.99.34, and NetBSD's own calls only (no Extensions).
func DefaultConfig() Config {
	return Config{
		ABI:              abi.MustLookup("amd64"),
		UID:              0,
		GID:              0,
		Hostname:         RumpHostname(),
		OSRelease:        defaultRelease,
		NCPU:             defaultNCPU,
		PageSize:         4096,
		MaxOpenFiles:     128,
		MaxOpenFilesHard: 1772,
		MaxFileSize:      1 << 40,
		MaxFSBytes:       256 << 20,
		MaxIO:            1 << 20,
		Clock:            time.Now,
	}
}

// RumpHostname returns the name librumpuser gives a rump kernel:
// "rump-" and this process's pid in five digits, a dot and the host's
// name ("rump-04711.vm"), or without the dot and host when the host's
// name is unknown.
func RumpHostname() string {
	host, err := os.Hostname()
	name := fmt.Sprintf("rump-%05d", os.Getpid())
	if err != nil || host == "" {
		return name
	}
	return name + "." + host
}

// osRevision derives kern.osrevision from a release "M.m[.p]..." as
// NetBSD's __NetBSD_Version__: MMmmpp00, so 7.99.34 is 799003400.
func osRevision(release string) (int32, error) {
	nums := strings.SplitN(release, ".", 3)
	if len(nums) < 2 {
		return 0, errors.New("is not of the form major.minor[.patch]")
	}
	var v [3]int64
	for i, s := range nums {
		end := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
		if end == 0 {
			return 0, fmt.Errorf("part %q is not a number", s)
		}
		if end > 0 {
			s = s[:end]
		}
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil || n > 99 {
			return 0, fmt.Errorf("part %q is not a number from 0 to 99", s)
		}
		v[i] = n
	}
	return int32(v[0]*100_000_000 + v[1]*1_000_000 + v[2]*100), nil
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
	if c.OSRevision == 0 {
		if _, err := osRevision(c.OSRelease); err != nil {
			return bad("OSRelease", "%q %v, and OSRevision is 0 (derive it)", c.OSRelease, err)
		}
	}
	switch {
	case c.OSRevision < 0:
		return bad("OSRevision", "is %d; want a positive number or 0", c.OSRevision)
	case c.UID == ^uint32(0):
		return bad("UID", "is 4294967295, the (uid_t)-1 NetBSD reserves")
	case c.GID == ^uint32(0):
		return bad("GID", "is 4294967295, the (gid_t)-1 NetBSD reserves")
	case c.NCPU < 0 || c.NCPU > 1024:
		return bad("NCPU", "is %d; want 0 (the default, 2) to 1024", c.NCPU)
	case c.PageSize < 512 || c.PageSize > 1<<20 || bits.OnesCount(uint(c.PageSize)) != 1:
		return bad("PageSize", "is %d; want a power of two from 512 to 1048576", c.PageSize)
	case c.MaxOpenFiles < 3 || c.MaxOpenFiles > 1<<20:
		return bad("MaxOpenFiles", "is %d; want 3 (the console's descriptors) to 1048576", c.MaxOpenFiles)
	case c.MaxOpenFilesHard < c.MaxOpenFiles || c.MaxOpenFilesHard > 1<<20:
		return bad("MaxOpenFilesHard", "is %d; want MaxOpenFiles (%d) to 1048576", c.MaxOpenFilesHard, c.MaxOpenFiles)
	case c.MaxFileSize <= 0:
		return bad("MaxFileSize", "is %d; want a positive size", c.MaxFileSize)
	case c.MaxFSBytes <= 0:
		return bad("MaxFSBytes", "is %d; want a positive size", c.MaxFSBytes)
	case c.MaxIO < 1 || c.MaxIO > 16<<20:
		return bad("MaxIO", "is %d; want 1 to 16 MiB (a frame must carry it)", c.MaxIO)
	case c.Extensions&^ExtAll != 0:
		return bad("Extensions", "has unknown bits %#x", uint32(c.Extensions&^ExtAll))
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

// osRevision is kern.osrevision, derived from the release unless set.
func (c *Config) osRevision() int32 {
	if c.OSRevision != 0 {
		return c.OSRevision
	}
	v, _ := osRevision(c.OSRelease) // verify checked it
	return v
}

// version is kern.version: rump_server's kernel is called RUMP-ROAST.
func (c *Config) version() string {
	return "NetBSD " + c.OSRelease + " (RUMP-ROAST)\n"
}

func (c *Config) ncpu() int32 {
	if c.NCPU == 0 {
		return defaultNCPU
	}
	return int32(c.NCPU)
}
