package sp

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseURLAcceptsEveryValidForm(t *testing.T) {
	ip := netip.MustParseAddr
	tests := []struct {
		name string
		in   string
		want URL
	}{
		{"an absolute unix path is kept as is", "unix:///tmp/rump.sock",
			URL{Scheme: SchemeUnix, Path: "/tmp/rump.sock"}},
		{"an absolute unix path is not cleaned", "unix:///a/../b",
			URL{Scheme: SchemeUnix, Path: "/a/../b"}},
		{"a tcp dotted quad with a port is accepted", "tcp://127.0.0.1:12345",
			URL{Scheme: SchemeTCP, Addr: ip("127.0.0.1"), Port: 12345}},
		{"a tcp port may be followed by one slash", "tcp://10.0.0.1:80/",
			URL{Scheme: SchemeTCP, Addr: ip("10.0.0.1"), Port: 80}},
		{"a tcp star host is the wildcard", "tcp://*:4000",
			URL{Scheme: SchemeTCP, Addr: netip.IPv4Unspecified(), Port: 4000}},
		{"a tcp zero host is the wildcard", "tcp://0:4000",
			URL{Scheme: SchemeTCP, Addr: netip.IPv4Unspecified(), Port: 4000}},
		{"a tcp 0.0.0.0 host is the wildcard", "tcp://0.0.0.0:4000",
			URL{Scheme: SchemeTCP, Addr: netip.IPv4Unspecified(), Port: 4000}},
		{"tcp port zero is accepted", "tcp://127.0.0.1:0",
			URL{Scheme: SchemeTCP, Addr: ip("127.0.0.1"), Port: 0}},
		{"tcp port 65535 is accepted", "tcp://127.0.0.1:65535",
			URL{Scheme: SchemeTCP, Addr: ip("127.0.0.1"), Port: 65535}},
		{"a tcp port with leading zeros is read as decimal", "tcp://127.0.0.1:0080",
			URL{Scheme: SchemeTCP, Addr: ip("127.0.0.1"), Port: 80}},
		{"a tcp6 bracketed loopback is accepted", "tcp6://[::1]:5000",
			URL{Scheme: SchemeTCP6, Addr: ip("::1"), Port: 5000}},
		{"a tcp6 port may be followed by one slash", "tcp6://[2001:db8::7]:5000/",
			URL{Scheme: SchemeTCP6, Addr: ip("2001:db8::7"), Port: 5000}},
		{"a tcp6 link-local address may carry a zone", "tcp6://[fe80::1%eth0]:5000",
			URL{Scheme: SchemeTCP6, Addr: ip("fe80::1%eth0"), Port: 5000}},
		{"a tcp6 bracketed :: is the wildcard", "tcp6://[::]:5000",
			URL{Scheme: SchemeTCP6, Addr: netip.IPv6Unspecified(), Port: 5000}},
		{"a tcp6 star host is the wildcard", "tcp6://*:5000",
			URL{Scheme: SchemeTCP6, Addr: netip.IPv6Unspecified(), Port: 5000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := ParseURL(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, *u)
		})
	}
}

func TestParseURLRejectsEveryInvalidForm(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		reason string // expected text after `sp: url "IN": `
	}{
		{"an empty string is rejected", "", `missing "://"`},
		{"a URL without :// is rejected", "unix:/tmp/x", `missing "://"`},
		{"an unknown scheme is rejected", "http://1.2.3.4:80", `unknown scheme "http" (want unix, tcp or tcp6)`},
		{"scheme names are case sensitive", "TCP://1.2.3.4:80", `unknown scheme "TCP"`},
		{"an empty unix path is rejected", "unix://", "empty socket path"},
		{"a unix path with a NUL byte is rejected", "unix:///tmp/a\x00b", "NUL byte"},
		{"a unix path longer than sun_path is rejected", "unix:///" + strings.Repeat("p", MaxUnixPath),
			"socket path is 104 bytes, longer than the 103 that fit in sun_path"},
		{"a tcp host name is rejected", "tcp://host:1", "host must be a dotted IPv4 address"},
		{"a tcp host name like localhost is rejected", "tcp://localhost:1", "host must be a dotted IPv4 address"},
		{"a tcp IPv6 literal is rejected", "tcp://[::1]:1", "host must be a dotted IPv4 address (use tcp6://[ADDR]:PORT for IPv6)"},
		{"a tcp address with three parts is rejected", "tcp://1.2.3:1", "host must be a dotted IPv4 address"},
		{"a tcp address with a part over 255 is rejected", "tcp://1.2.3.256:1", "host must be a dotted IPv4 address"},
		{"a tcp address with leading zeros is rejected", "tcp://01.2.3.4:1", "host must be a dotted IPv4 address"},
		{"a tcp URL without a host is rejected", "tcp://:1", "missing host"},
		{"a tcp URL without a port is rejected", "tcp://1.2.3.4", "missing port (want tcp://A.B.C.D:PORT)"},
		{"a tcp URL with an empty port is rejected", "tcp://1.2.3.4:", "missing port number"},
		{"a tcp URL with only a slash for a port is rejected", "tcp://1.2.3.4:/", "missing port number"},
		{"a tcp port over 65535 is rejected", "tcp://1.2.3.4:65536", "port 65536 is out of range 0..65535"},
		{"a huge tcp port is rejected", "tcp://1.2.3.4:99999999999999999999", "out of range 0..65535"},
		{"a negative tcp port is rejected", "tcp://1.2.3.4:-1", "must be a decimal number"},
		{"a signed tcp port is rejected", "tcp://1.2.3.4:+1", "must be a decimal number"},
		{"a tcp port with letters is rejected", "tcp://1.2.3.4:http", "must be a decimal number"},
		{"a tcp port followed by two slashes is rejected", "tcp://1.2.3.4:80//", "must be a decimal number"},
		{"a tcp port followed by a path is rejected", "tcp://1.2.3.4:80/x", "must be a decimal number"},
		{"a tcp6 address without brackets is rejected", "tcp6://::1:80", "host must be an IPv6 address in brackets"},
		{"a tcp6 IPv4 address is rejected", "tcp6://[1.2.3.4]:80", "host must be an IPv6 address in brackets"},
		{"a tcp6 IPv4-mapped address is rejected", "tcp6://[::ffff:1.2.3.4]:80", "IPv4-mapped"},
		{"a tcp6 host name is rejected", "tcp6://[localhost]:80", "host must be an IPv6 address in brackets"},
		{"a tcp6 URL without a port is rejected", "tcp6://[::1]", "missing port (want tcp6://[ADDR]:PORT)"},
		{"a tcp6 URL with an unclosed bracket is rejected", "tcp6://[::1:80", "missing ] after the IPv6 address"},
		{"a tcp6 URL with junk after the bracket is rejected", "tcp6://[::1]x:80", `expected ":PORT" right after "]"`},
		{"a tcp6 URL without a host is rejected", "tcp6://:80", "missing host"},
		{"a tcp6 zero host is not a wildcard spelling", "tcp6://0:80", "host must be an IPv6 address in brackets"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := ParseURL(tt.in)
			require.Error(t, err)
			assert.Nil(t, u)
			assert.ErrorIs(t, err, ErrBadURL)
			var ue *URLError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, tt.in, ue.URL)
			prefix := `sp: url "` + strings.ReplaceAll(tt.in, "\x00", `\x00`) + `": `
			assert.True(t, strings.HasPrefix(err.Error(), prefix), "error %q lacks prefix %q", err, prefix)
			assert.Contains(t, err.Error(), tt.reason)
		})
	}
}

func TestParseURLErrorReadsClearly(t *testing.T) {
	_, err := ParseURL("tcp://host:1")
	require.Error(t, err)
	assert.Equal(t, `sp: url "tcp://host:1": host must be a dotted IPv4 address`, err.Error())
}

func TestParseURLMakesARelativeUnixPathAbsolute(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	wd, err := os.Getwd()
	require.NoError(t, err)

	for _, in := range []string{"unix://rump.sock", "unix://./rump.sock", "unix://sub/../rump.sock"} {
		t.Run(in, func(t *testing.T) {
			u, err := ParseURL(in)
			require.NoError(t, err)
			assert.Equal(t, filepath.Join(wd, "rump.sock"), u.Path)
			assert.True(t, filepath.IsAbs(u.Path))
		})
	}
}

func TestParseURLEnforcesTheSunPathLimit(t *testing.T) {
	t.Run("a path of exactly 103 bytes fits", func(t *testing.T) {
		p := "/" + strings.Repeat("p", MaxUnixPath-1)
		u, err := ParseURL("unix://" + p)
		require.NoError(t, err)
		assert.Equal(t, p, u.Path)
	})
	t.Run("a path of 104 bytes does not fit", func(t *testing.T) {
		_, err := ParseURL("unix:///" + strings.Repeat("p", MaxUnixPath))
		assert.ErrorIs(t, err, ErrBadURL)
	})
	t.Run("the limit applies after a relative path is made absolute", func(t *testing.T) {
		t.Chdir(t.TempDir())
		wd, err := os.Getwd()
		require.NoError(t, err)
		room := MaxUnixPath - len(wd) - 1 // bytes left for the name after "wd/"
		require.Greater(t, room, 1, "temporary directory %q is too long for this test", wd)

		u, err := ParseURL("unix://" + strings.Repeat("r", room))
		require.NoError(t, err)
		assert.Len(t, u.Path, MaxUnixPath)

		_, err = ParseURL("unix://" + strings.Repeat("r", room+1))
		assert.ErrorIs(t, err, ErrBadURL)
		assert.ErrorContains(t, err, "longer than the 103 that fit in sun_path")
	})
}

func TestURLStringRoundTrips(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"unix:///tmp/rump.sock", "unix:///tmp/rump.sock"},
		{"tcp://127.0.0.1:12345", "tcp://127.0.0.1:12345"},
		{"tcp://10.0.0.1:80/", "tcp://10.0.0.1:80"},
		{"tcp://127.0.0.1:0080", "tcp://127.0.0.1:80"},
		{"tcp://*:4000", "tcp://*:4000"},
		{"tcp://0:4000", "tcp://*:4000"},
		{"tcp://0.0.0.0:4000", "tcp://*:4000"},
		{"tcp6://[::1]:5000", "tcp6://[::1]:5000"},
		{"tcp6://[2001:db8::7]:5000/", "tcp6://[2001:db8::7]:5000"},
		{"tcp6://[fe80::1%eth0]:5000", "tcp6://[fe80::1%eth0]:5000"},
		{"tcp6://[::]:5000", "tcp6://*:5000"},
		{"tcp6://*:0", "tcp6://*:0"},
	}
	for _, tt := range tests {
		t.Run(tt.in+" prints as "+tt.want+" and parses back equal", func(t *testing.T) {
			u, err := ParseURL(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, u.String())
			back, err := ParseURL(u.String())
			require.NoError(t, err)
			assert.Equal(t, *u, *back)
		})
	}
	t.Run("a relative unix path prints absolute and parses back equal", func(t *testing.T) {
		t.Chdir(t.TempDir())
		u, err := ParseURL("unix://rel.sock")
		require.NoError(t, err)
		assert.Equal(t, "unix://"+u.Path, u.String())
		back, err := ParseURL(u.String())
		require.NoError(t, err)
		assert.Equal(t, *u, *back)
	})
}

func TestURLIsWildcardOnlyForTheAnyAddress(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"tcp://*:1", true},
		{"tcp://0:1", true},
		{"tcp6://[::]:1", true},
		{"tcp6://*:1", true},
		{"tcp://127.0.0.1:1", false},
		{"tcp6://[::1]:1", false},
		{"unix:///tmp/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := ParseURL(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, u.IsWildcard())
		})
	}
}

func TestURLFromEnvReadsRumpServer(t *testing.T) {
	t.Run("a valid RUMP_SERVER is parsed", func(t *testing.T) {
		t.Setenv(EnvServer, "tcp://127.0.0.1:9999")
		u, err := URLFromEnv()
		require.NoError(t, err)
		assert.Equal(t, "tcp://127.0.0.1:9999", u.String())
	})
	t.Run("an unset RUMP_SERVER is an error", func(t *testing.T) {
		t.Setenv(EnvServer, "") // restores the old value afterwards
		require.NoError(t, os.Unsetenv(EnvServer))
		_, err := URLFromEnv()
		assert.ErrorIs(t, err, ErrNoServer)
		assert.EqualError(t, err, "sp: RUMP_SERVER is not set")
	})
	t.Run("an empty RUMP_SERVER is an error", func(t *testing.T) {
		t.Setenv(EnvServer, "")
		_, err := URLFromEnv()
		assert.ErrorIs(t, err, ErrNoServer)
	})
	t.Run("an invalid RUMP_SERVER is a bad URL", func(t *testing.T) {
		t.Setenv(EnvServer, "tcp://example.org:80")
		_, err := URLFromEnv()
		assert.ErrorIs(t, err, ErrBadURL)
		assert.False(t, errors.Is(err, ErrNoServer))
	})
}
