package xlate

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

// TestEveryDescribedStructCrossesEveryPair converts each struct abi/netbsd
// describes, whole, between every two ABIs, both ways, and reads it back
// in the destination's layout. Structs with a flexible tail (dirent) or
// a pointer inside (rsp_copydata) are not element types: they must say so.
func TestEveryDescribedStructCrossesEveryPair(t *testing.T) {
	ts := netbsd.Timespec{Sec: -(1 << 40), Nsec: 999_999_999}
	values := map[string]any{
		"struct timespec": ts,
		"struct stat": netbsd.Stat{Dev: 1 << 50, Mode: netbsd.S_IFDIR | 0o755, Ino: 1<<40 + 1, Nlink: 2, UID: 7, GID: 8,
			Rdev: netbsd.NODEV, Atim: ts, Mtim: ts, Ctim: ts, Birthtim: ts, Size: 1 << 35, Blocks: 3, Blksize: 512, Flags: 1, Gen: 2},
		"struct rsp_sysresp":    netbsd.Sysresp{Error: -3, Retval: [2]uint64{5, 6}},
		"struct handshake_fork": netbsd.HandshakeFork{Auth: [4]uint32{1, 2, 3, 0xdeadbeef}, Cancel: 1},
		"struct timeval":        netbsd.Timeval{Sec: -(1 << 40), Usec: 999_999},
		"struct rlimit":         netbsd.Rlimit{Cur: 128, Max: 1<<63 + 5},
		"struct termios": netbsd.Termios{Iflag: 0x1234, Oflag: 0x2345, Cflag: 0x3456, Lflag: 0x4567,
			CC: [netbsd.NCCS]uint8{1, 2, 3, 19: 0xff}, Ispeed: 9600, Ospeed: -38400},
		"struct tmpfs_args": netbsd.TmpfsArgs{Version: netbsd.TMPFS_ARGS_VERSION, NodesMax: 1<<40 + 1, SizeMax: 1 << 35,
			RootUID: 7, RootGID: 8, RootMode: 0o1777},
	}
	for _, c := range abi.All() {
		for _, s := range abi.All() {
			p := NewPair(c, s)
			for _, ty := range netbsd.StructTypes() {
				t.Run(c.Name+"→"+s.Name+"/"+ty.Name(), func(t *testing.T) {
					e := p.elem(ty)
					v, ok := values[ty.Name()]
					if !ok {
						_, flex := abi.LayoutOf(c, ty).FlexOffset()
						require.True(t, flex, "%s needs a test value", ty.Name())
						assert.NotEmpty(t, e.bad, "a struct with a flexible tail (or a pointer) is no element type")
						return
					}
					require.Empty(t, e.bad)
					sess := NewSession(p, DefaultConfig())
					r := &region{el: e, arg: "x"}
					for _, toServer := range []bool{false, true} {
						from, to := e.s, e.c
						if toServer {
							from, to = e.c, e.s
						}
						in, err := from.Encode(v)
						require.NoError(t, err)
						two := append(append([]byte(nil), in...), in...)
						out, err := sess.elements(r, two, 2, toServer)
						require.NoError(t, err)
						require.Len(t, out, 2*to.Size)
						want, err := to.Encode(v)
						require.NoError(t, err)
						assert.Equal(t, want, out[:to.Size], "first element")
						assert.Equal(t, want, out[to.Size:], "second element")
					}
				})
			}
		}
	}
}
