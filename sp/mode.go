package sp

import "fmt"

// Mode is how a client and a server of different ABIs agree on bytes.
type Mode uint8

// Cross-ABI modes. All three run on the same code path; they differ only
// in which descriptor lays out the frames each side writes and reads.
const (
	// ModeNative: each side uses its own ABI, exactly like the C code, so
	// a mismatch shows as it would between real machines.
	ModeNative Mode = iota
	// ModeServerTranslates: the client declares its ABI in the GUEST
	// handshake and a sprig server lays out that client's frames with it.
	ModeServerTranslates
	// ModeClientTranslates: the client lays out its frames with the
	// server's ABI (from the banner or configuration) and converts typed
	// data (struct stat, dirents, size_t, int arrays) between the
	// server's layout and its own memory; it works against unmodified C
	// servers.
	ModeClientTranslates
)

var modeNames = [...]string{
	ModeNative: "native", ModeServerTranslates: "server-translates", ModeClientTranslates: "client-translates",
}

func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// Modes lists every mode in a stable order.
func Modes() []Mode { return []Mode{ModeNative, ModeServerTranslates, ModeClientTranslates} }

// ParseMode accepts a mode's name.
func ParseMode(s string) (Mode, error) {
	for i, n := range modeNames {
		if n == s {
			return Mode(i), nil
		}
	}
	return 0, fmt.Errorf("sp: unknown mode %q (want native, server-translates or client-translates)", s)
}
