package sp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/rumpsprig/sprig/abi"
)

// MaxBanner is the longest banner line, newline included (C's MAXBANNER
// of 96 less its NUL).
const MaxBanner = 95

// ErrBadBanner is returned for a banner that cannot be parsed.
var ErrBadBanner = errors.New("bad banner")

// Banner is the line a server sends right after accepting a connection:
// "RUMPSP-0.4-NetBSD-7.99.34/amd64\n".
type Banner struct {
	Version   Version
	OSType    string // "NetBSD"
	OSRelease string // "7.99.34"
	Machine   string // NetBSD MACHINE: "amd64", "evbarm64", ...
	// ABI is sprig's extension: the exact ABI name a sprig server
	// appends after the machine word (" abi=mips"). C clients check only
	// that the line ends in a newline, so it is invisible to them. Empty
	// for C servers.
	ABI string
	// Preload is sprig's other extension (" preload=N"): the most bytes
	// of PRELOAD body the server takes with one SYSCALL. Zero for C
	// servers and for sprig servers that offer none.
	Preload uint64
}

// The extension words a sprig server appends after the machine word,
// each " key=value". This parser ignores keys it does not know, so that
// later words confuse it in nothing. (A sprig before preload took all
// after " abi=" for the ABI's name: it reads "amd64 preload=69632", finds
// no such ABI and falls back to the machine word, as for a C server.)
const (
	bannerABIKey     = "abi"
	bannerPreloadKey = "preload"
)

// String returns the banner line without its newline.
func (b Banner) String() string {
	s := fmt.Sprintf("RUMPSP-%d.%d-%s-%s/%s", b.Version.Major, b.Version.Minor, b.OSType, b.OSRelease, b.Machine)
	if b.ABI != "" {
		s += " " + bannerABIKey + "=" + b.ABI
	}
	if b.Preload > 0 {
		s += " " + bannerPreloadKey + "=" + strconv.FormatUint(b.Preload, 10)
	}
	return s
}

// parseExtensions reads the extension words after the machine word.
func (b *Banner) parseExtensions(words string) error {
	for _, w := range strings.Fields(words) {
		key, val, _ := strings.Cut(w, "=")
		switch key {
		case bannerABIKey:
			b.ABI = val
		case bannerPreloadKey:
			n, err := strconv.ParseUint(val, 10, 64)
			if err != nil {
				return fmt.Errorf("%s=%q is not a byte count", key, val)
			}
			b.Preload = n
		}
	}
	return nil
}

// Line returns the banner as a server sends it: the line and its newline.
func (b Banner) Line() string { return b.String() + "\n" }

// ParseBanner parses a banner line; the newline that ends it on the wire
// may be there or not. ReadBanner reads one from a connection.
func ParseBanner(line string) (Banner, error) {
	bad := func(why string) (Banner, error) {
		return Banner{}, fmt.Errorf("sp: %w %q: %s", ErrBadBanner, strings.TrimSuffix(line, "\n"), why)
	}
	if len(line) > MaxBanner {
		return bad(fmt.Sprintf("longer than %d bytes", MaxBanner))
	}
	if strings.IndexByte(strings.TrimSuffix(line, "\n"), '\n') >= 0 {
		return bad("has a newline before its end")
	}
	rest, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "RUMPSP-")
	if !ok {
		return bad("does not start with RUMPSP-")
	}
	var b Banner
	rest, ext, _ := strings.Cut(rest, " ")
	if err := b.parseExtensions(ext); err != nil {
		return bad(err.Error())
	}
	ver, rest, ok := strings.Cut(rest, "-")
	if !ok {
		return bad("no version")
	}
	if _, err := fmt.Sscanf(ver, "%d.%d", &b.Version.Major, &b.Version.Minor); err != nil {
		return bad("version is not MAJOR.MINOR")
	}
	b.OSType, rest, ok = strings.Cut(rest, "-")
	if !ok {
		return bad("no OS type")
	}
	slash := strings.LastIndexByte(rest, '/')
	if slash < 0 {
		return bad("no machine")
	}
	b.OSRelease, b.Machine = rest[:slash], rest[slash+1:]
	if b.Machine == "" {
		return bad("empty machine")
	}
	return b, nil
}

// ReadBanner reads a banner line from r one byte at a time, so nothing
// after the newline is consumed.
func ReadBanner(r io.Reader) (Banner, error) {
	var buf bytes.Buffer
	one := make([]byte, 1)
	for buf.Len() < MaxBanner {
		if _, err := io.ReadFull(r, one); err != nil {
			return Banner{}, fmt.Errorf("sp: reading banner after %q: %w", buf.String(), err)
		}
		buf.WriteByte(one[0])
		if one[0] == '\n' {
			return ParseBanner(buf.String())
		}
	}
	return Banner{}, fmt.Errorf("sp: %w: no newline in the first %d bytes", ErrBadBanner, MaxBanner)
}

// ServerABI returns the ABI the banner implies: the one a sprig server
// named, or the only descriptor with the banner's machine word. When the
// word is shared (evbarm64, evbmips) and the server did not name one, it
// fails listing the candidates; the caller must be told which.
func (b Banner) ServerABI() (*abi.Descriptor, error) {
	if b.ABI != "" {
		if d, err := abi.Lookup(b.ABI); err == nil {
			return d, nil
		}
	}
	cands := abi.ByMachine(b.Machine)
	switch len(cands) {
	case 1:
		return cands[0], nil
	case 0:
		return nil, fmt.Errorf("sp: no known ABI has machine %q", b.Machine)
	}
	names := make([]string, len(cands))
	for i, d := range cands {
		names[i] = d.Name
	}
	return nil, fmt.Errorf("sp: machine %q is ambiguous (%s); name the server ABI", b.Machine, strings.Join(names, ", "))
}
