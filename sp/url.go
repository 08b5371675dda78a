package sp

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// URL schemes understood by sprig.
const (
	// SchemeUnix names a stream socket in the file system: unix://PATH.
	SchemeUnix = "unix"
	// SchemeTCP names an IPv4 TCP endpoint: tcp://A.B.C.D:PORT.
	SchemeTCP = "tcp"
	// SchemeTCP6 names an IPv6 TCP endpoint: tcp6://[ADDR]:PORT.
	// The C implementation lists this scheme but refuses it as unsupported;
	// sprig implements it.
	SchemeTCP6 = "tcp6"
)

// EnvServer is the environment variable a rump client reads to find its
// server.
const EnvServer = "RUMP_SERVER"

// MaxUnixPath is the longest socket path, in bytes, that sprig accepts in a
// unix:// URL.
//
// The limit is that of NetBSD, whose sockaddr_un.sun_path holds 104 bytes
// including the terminating NUL, so 103 bytes of path. Linux would allow 107,
// but sprig deliberately applies the smaller limit everywhere so that every
// URL sprig accepts also works for a C rump client or server on NetBSD.
// The limit applies to the path after a relative path has been made
// absolute, since that is the string that gets bound.
const MaxUnixPath = 103

var (
	// ErrBadURL is wrapped by every error ParseURL reports, and by Dial and
	// Listen when a URL is not usable for that role (for example a
	// wildcard address given to a client). The C library answers the same
	// situations with EINVAL; code translating sprig errors into errno
	// values should map ErrBadURL to EINVAL.
	ErrBadURL = errors.New("invalid rump server url")

	// ErrNoServer is returned by URLFromEnv when RUMP_SERVER is unset or
	// empty.
	ErrNoServer = errors.New(EnvServer + " is not set")
)

// URLError describes why a URL string was rejected. It wraps ErrBadURL.
type URLError struct {
	URL    string // the URL as given
	Reason string // what is wrong with it
}

func (e *URLError) Error() string {
	return fmt.Sprintf("sp: url %q: %s", e.URL, e.Reason)
}

// Unwrap makes errors.Is(err, ErrBadURL) true.
func (e *URLError) Unwrap() error { return ErrBadURL }

// URL is a parsed rump server address.
//
// For SchemeUnix only Path is used. For SchemeTCP and SchemeTCP6, Addr and
// Port are used; an unspecified Addr (0.0.0.0 or ::) is the wildcard "any
// address", which only a server may use.
type URL struct {
	Scheme string     // SchemeUnix, SchemeTCP or SchemeTCP6
	Path   string     // unix: absolute path of the socket file
	Addr   netip.Addr // tcp: IPv4 address; tcp6: IPv6 address, possibly with a zone
	Port   uint16     // tcp, tcp6: port; 0 lets a server pick one
}

// ParseURL parses a rump server URL. The accepted forms are:
//
//	unix://PATH          PATH may be relative; it is made absolute against
//	                     the current directory and must then be at most
//	                     MaxUnixPath bytes long.
//	tcp://A.B.C.D:PORT   A dotted-quad IPv4 address, no host names. The host
//	                     "*" or "0" means any address (servers only).
//	tcp6://[ADDR]:PORT   A bracketed IPv6 literal (a sprig addition). The
//	                     host "[::]" or "*" means any address (servers only).
//
// PORT is decimal, 0 to 65535, and may be followed by a single "/".
// Scheme names are case sensitive, as in C. An unknown scheme is an error,
// like the EINVAL of the C library. All errors are *URLError values wrapping
// ErrBadURL.
func ParseURL(s string) (*URL, error) {
	bad := func(format string, args ...any) error {
		return &URLError{URL: s, Reason: fmt.Sprintf(format, args...)}
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return nil, bad(`missing "://" (want unix://PATH, tcp://A.B.C.D:PORT or tcp6://[ADDR]:PORT)`)
	}
	switch scheme {
	case SchemeUnix:
		return parseUnixURL(rest, bad)
	case SchemeTCP, SchemeTCP6:
		return parseTCPURL(scheme, rest, bad)
	default:
		return nil, bad("unknown scheme %q (want unix, tcp or tcp6)", scheme)
	}
}

func parseUnixURL(p string, bad func(string, ...any) error) (*URL, error) {
	if p == "" {
		return nil, bad("empty socket path")
	}
	if strings.IndexByte(p, 0) >= 0 {
		return nil, bad("socket path contains a NUL byte")
	}
	if !filepath.IsAbs(p) {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, bad("cannot make socket path absolute: %v", err)
		}
		p = abs
	}
	if len(p) > MaxUnixPath {
		return nil, bad("socket path is %d bytes, longer than the %d that fit in sun_path", len(p), MaxUnixPath)
	}
	return &URL{Scheme: SchemeUnix, Path: p}, nil
}

func parseTCPURL(scheme, rest string, bad func(string, ...any) error) (*URL, error) {
	i := strings.LastIndexByte(rest, ':')
	if scheme == SchemeTCP6 && strings.HasPrefix(rest, "[") {
		// The port separator is the colon right after the closing bracket.
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return nil, bad("missing ] after the IPv6 address")
		}
		i = end + 1
		if i == len(rest) {
			i = -1
		} else if rest[i] != ':' {
			return nil, bad(`expected ":PORT" right after "]"`)
		}
	}
	if i < 0 {
		return nil, bad("missing port (want %s)", tcpForm(scheme))
	}
	host, portStr := rest[:i], rest[i+1:]
	port, err := parsePort(portStr)
	if err != nil {
		return nil, bad("%v", err)
	}
	u := &URL{Scheme: scheme, Port: port}
	if scheme == SchemeTCP {
		u.Addr, err = parseIPv4Host(host)
	} else {
		u.Addr, err = parseIPv6Host(host)
	}
	if err != nil {
		return nil, bad("%v", err)
	}
	return u, nil
}

func tcpForm(scheme string) string {
	if scheme == SchemeTCP6 {
		return "tcp6://[ADDR]:PORT"
	}
	return "tcp://A.B.C.D:PORT"
}

// parsePort accepts decimal digits, optionally followed by one "/".
func parsePort(s string) (uint16, error) {
	digits := strings.TrimSuffix(s, "/")
	if digits == "" {
		return 0, errors.New("missing port number")
	}
	for i := 0; i < len(digits); i++ {
		if c := digits[i]; c < '0' || c > '9' {
			return 0, fmt.Errorf("port %q must be a decimal number, optionally followed by a single \"/\"", s)
		}
	}
	n, err := strconv.ParseUint(digits, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("port %s is out of range 0..65535", digits)
	}
	return uint16(n), nil
}

func parseIPv4Host(h string) (netip.Addr, error) {
	switch h {
	case "":
		return netip.Addr{}, errors.New("missing host")
	case "*", "0":
		return netip.IPv4Unspecified(), nil
	}
	if strings.HasPrefix(h, "[") || strings.Contains(h, ":") {
		return netip.Addr{}, errors.New("host must be a dotted IPv4 address (use tcp6://[ADDR]:PORT for IPv6)")
	}
	a, err := netip.ParseAddr(h)
	if err != nil || !a.Is4() {
		return netip.Addr{}, errors.New("host must be a dotted IPv4 address")
	}
	return a, nil
}

func parseIPv6Host(h string) (netip.Addr, error) {
	switch h {
	case "":
		return netip.Addr{}, errors.New("missing host")
	case "*":
		return netip.IPv6Unspecified(), nil
	}
	if len(h) < 2 || h[0] != '[' || h[len(h)-1] != ']' {
		return netip.Addr{}, errors.New("host must be an IPv6 address in brackets, like [::1]")
	}
	a, err := netip.ParseAddr(h[1 : len(h)-1])
	if err != nil || !a.Is6() {
		return netip.Addr{}, errors.New("host must be an IPv6 address in brackets, like [::1]")
	}
	if a.Is4In6() {
		return netip.Addr{}, errors.New("host is an IPv4-mapped address (use tcp://A.B.C.D:PORT for IPv4)")
	}
	return a, nil
}

// String formats u in the form ParseURL accepts, so that
// ParseURL(u.String()) yields a URL equal to u. It is canonical rather than
// a copy of the original text: a relative unix path shows up absolute, a
// trailing "/" after the port is dropped, and the wildcard host is written
// "*" for both tcp and tcp6.
func (u *URL) String() string {
	switch u.Scheme {
	case SchemeUnix:
		return SchemeUnix + "://" + u.Path
	case SchemeTCP, SchemeTCP6:
		host := u.Addr.String()
		switch {
		case u.Addr.IsUnspecified():
			host = "*"
		case u.Scheme == SchemeTCP6:
			host = "[" + host + "]"
		}
		return u.Scheme + "://" + host + ":" + strconv.Itoa(int(u.Port))
	default:
		return u.Scheme + "://?"
	}
}

// IsWildcard reports whether u is a tcp or tcp6 URL whose address is the
// unspecified "any" address. Only a server may use such a URL.
func (u *URL) IsWildcard() bool {
	return (u.Scheme == SchemeTCP || u.Scheme == SchemeTCP6) && u.Addr.IsUnspecified()
}

// URLFromEnv parses the URL in the RUMP_SERVER environment variable, the
// way a rump client finds its server. It returns an error wrapping
// ErrNoServer if the variable is unset or empty.
func URLFromEnv() (*URL, error) {
	s := os.Getenv(EnvServer)
	if s == "" {
		return nil, fmt.Errorf("sp: %w", ErrNoServer)
	}
	return ParseURL(s)
}

// validate rechecks a URL that may have been built by hand rather than by
// ParseURL, for the given role. It returns a *URLError wrapping ErrBadURL.
func (u *URL) validate(server bool) error {
	bad := func(format string, args ...any) error {
		return &URLError{URL: u.String(), Reason: fmt.Sprintf(format, args...)}
	}
	switch u.Scheme {
	case SchemeUnix:
		switch {
		case u.Path == "":
			return bad("empty socket path")
		case !filepath.IsAbs(u.Path):
			return bad("socket path is not absolute")
		case len(u.Path) > MaxUnixPath:
			return bad("socket path is %d bytes, longer than the %d that fit in sun_path", len(u.Path), MaxUnixPath)
		case strings.IndexByte(u.Path, 0) >= 0:
			return bad("socket path contains a NUL byte")
		}
		return nil
	case SchemeTCP:
		if !u.Addr.Is4() {
			return bad("host must be a dotted IPv4 address")
		}
	case SchemeTCP6:
		if !u.Addr.Is6() || u.Addr.Is4In6() {
			return bad("host must be an IPv6 address in brackets, like [::1]")
		}
	default:
		return bad("unknown scheme %q (want unix, tcp or tcp6)", u.Scheme)
	}
	if !server {
		if u.Addr.IsUnspecified() {
			return bad("the wildcard address is only valid for a server")
		}
		if u.Port == 0 {
			return bad("port 0 is only valid for a server")
		}
	}
	return nil
}
