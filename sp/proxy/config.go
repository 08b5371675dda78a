package proxy

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/sp"
)

// Config configures a Proxy. Start from DefaultConfig and set ClientABI
// and Upstream (or Dial).
type Config struct {
	// ClientABI is the ABI of clients that do not declare one. Required.
	ClientABI *abi.Descriptor
	// Upstream is the server's URL (unix://, tcp://, tcp6://). Required
	// unless Dial is set.
	Upstream string
	// Dial, when set, replaces dialing Upstream: in-process servers and
	// tests hand the proxy a connection of their own.
	Dial func(ctx context.Context) (net.Conn, error)
	// ServerABI is the upstream's ABI when its banner does not name one
	// (a C server names only a machine word, which several ABIs share).
	// The banner's " abi=NAME" wins over it; nil falls back to the
	// machine word.
	ServerABI *abi.Descriptor
	// ClientVersion is the protocol era spoken to clients; zero speaks
	// the upstream's. The proxy converts GUEST bodies and ERROR codes
	// between the eras.
	ClientVersion sp.Version
	// HideABI leaves " abi=NAME" (the client ABI) out of the banner the
	// proxy sends its clients.
	HideABI bool
	// MaxClients bounds connected clients (C server: 256).
	MaxClients int
	// MaxInFlight bounds one client's requests in flight; beyond it the
	// client is answered TRYAGAIN (EAGAIN in 0.1), as a full server does.
	MaxInFlight int
	// MaxPendingForks bounds the PREFORK cookies remembered until a FORK
	// handshake claims them.
	MaxPendingForks int
	// MaxFrame bounds the frames either side may send.
	MaxFrame uint64
	// HandshakeTimeout bounds the time from accepting a client to its
	// completed first handshake.
	HandshakeTimeout time.Duration
	// DialTimeout bounds connecting to the upstream and reading its
	// banner.
	DialTimeout time.Duration
	// PadFill fills padding C leaves uninitialised in what the proxy
	// sends clients (rsp_sysresp on LP64) and argument slot padding sent
	// upstream is zero, as C 0.4 stubs write.
	PadFill byte
	// Logger receives connection events and refusals; nil discards them.
	Logger *slog.Logger
	// Trace, when set, sees every frame on both sides of the proxy and a
	// note for each translation. It is called from the connections'
	// goroutines and must not block for long.
	Trace func(Event)
}

// DefaultConfig returns C-like bounds; ClientABI and Upstream are left
// for the caller.
func DefaultConfig() Config {
	return Config{
		MaxClients:       256,
		MaxInFlight:      128,
		MaxPendingForks:  1024,
		MaxFrame:         sp.DefaultMaxFrame,
		HandshakeTimeout: 10 * time.Second,
		DialTimeout:      10 * time.Second,
		PadFill:          sp.DefaultPadFill,
	}
}

func (c *Config) verify() error {
	bad := func(field, why string) error { return fmt.Errorf("proxy: config: %s %s", field, why) }
	switch {
	case c.ClientABI == nil:
		return bad("ClientABI", "is nil")
	case c.Upstream == "" && c.Dial == nil:
		return bad("Upstream", "is empty (and no Dial is set)")
	case c.ClientVersion != (sp.Version{}) && c.ClientVersion != sp.Version01 && c.ClientVersion != sp.Version04:
		return bad("ClientVersion", fmt.Sprintf("is %s; want 0.1 or 0.4", c.ClientVersion))
	case c.MaxClients <= 0:
		return bad("MaxClients", "must be positive")
	case c.MaxInFlight <= 0:
		return bad("MaxInFlight", "must be positive")
	case c.MaxPendingForks <= 0:
		return bad("MaxPendingForks", "must be positive")
	case c.MaxFrame < sp.HeaderSize+64:
		return bad("MaxFrame", fmt.Sprintf("is %d; too small for any request", c.MaxFrame))
	case c.HandshakeTimeout <= 0:
		return bad("HandshakeTimeout", "must be positive")
	case c.DialTimeout <= 0:
		return bad("DialTimeout", "must be positive")
	}
	if c.Upstream != "" && c.Dial == nil {
		if _, err := sp.ParseURL(c.Upstream); err != nil {
			return fmt.Errorf("proxy: config: Upstream: %w", err)
		}
	}
	if err := c.ClientABI.Validate(); err != nil {
		return err
	}
	if c.ServerABI != nil {
		return c.ServerABI.Validate()
	}
	return nil
}
