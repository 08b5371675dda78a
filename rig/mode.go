package rig

import (
	"fmt"

	"github.com/rumpsprig/sprig/sp"
)

// Mode is how a run joins a client and a server of different ABIs: one of
// sp's three modes, in which the client or the server deals with the
// difference, or ModeProxy, in which an unmodified (native) client
// reaches a server that behaves exactly like a C server through a
// translating sprig proxy (package sp/proxy).
type Mode uint8

// The modes. The first three are sp's, with the same values.
const (
	ModeNative           = Mode(sp.ModeNative)
	ModeServerTranslates = Mode(sp.ModeServerTranslates)
	ModeClientTranslates = Mode(sp.ModeClientTranslates)
	ModeProxy            = Mode(sp.ModeClientTranslates + 1)
)

// Modes lists every mode in a stable order.
func Modes() []Mode {
	return []Mode{ModeNative, ModeServerTranslates, ModeClientTranslates, ModeProxy}
}

// Client is the mode the guest itself speaks: native through a proxy.
func (m Mode) Client() sp.Mode {
	if m == ModeProxy {
		return sp.ModeNative
	}
	return sp.Mode(m)
}

func (m Mode) String() string {
	if m == ModeProxy {
		return "proxy"
	}
	return sp.Mode(m).String()
}

// ParseMode accepts a mode's name.
func ParseMode(s string) (Mode, error) {
	if s == "proxy" {
		return ModeProxy, nil
	}
	m, err := sp.ParseMode(s)
	if err != nil {
		return 0, fmt.Errorf("unknown mode %q (want native, server-translates, client-translates or proxy)", s)
	}
	return Mode(m), nil
}
