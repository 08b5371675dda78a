//go:build unix

package bench

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The floor is a C-like ping-pong: both of its ends block in read(2)
// and write(2), with no netpoller in between, and each turn's bytes
// arrive whole. The go floor's ends wait in Go's netpoller, as sprig's
// client and server do: their sockets stay non-blocking.
func TestEachFloorsSocketsWaitWhereItSays(t *testing.T) {
	for _, raw := range []bool{true, false} {
		name := map[bool]string{true: "floor blocks in the kernel", false: "go floor waits in the netpoller"}[raw]
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "floor.sock")
			ln, err := net.Listen("unix", path)
			require.NoError(t, err)
			defer ln.Close()
			peer := make(chan syscall.RawConn, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					close(peer)
					return
				}
				rc, _ := c.(*net.UnixConn).SyscallConn()
				peer <- rc
				servePeer(c)
			}()
			s := Script{{In: 24, Out: 48}, {In: 40, Out: 152}}
			f, err := dialFloor(path, s, raw)
			require.NoError(t, err)
			defer f.Close()
			for range 3 {
				require.NoError(t, f.iteration())
			}
			assert.Equal(t, raw, endBlocks(t, f.c), "the client's end blocks")
			rc := <-peer
			require.NotNil(t, rc)
			rc.Control(func(fd uintptr) { assert.Equal(t, raw, fdBlocks(t, fd), "the peer's end blocks") })
		})
	}
}

// The session times each floor variant on its own connection: Floor's
// blocks in the kernel, GoFloor's waits in the netpoller.
func TestTheSessionsFloorVariantsWaitWhereTheySay(t *testing.T) {
	ctx := context.Background()
	s, err := Start(ctx, DefaultConfig())
	require.NoError(t, err)
	defer s.Close()
	op, err := Op("getpid")
	require.NoError(t, err)
	res, err := s.MeasureOp(ctx, op, Blocks, 1, []Variant{Floor, GoFloor}, 0)
	require.NoError(t, err)
	for v, raw := range map[Variant]bool{Floor: true, GoFloor: false} {
		assert.Positive(t, res[v], v)
		f := s.floors[floorKey{op: "getpid", raw: raw}]
		require.NotNil(t, f, v)
		assert.Equal(t, raw, endBlocks(t, f.c), "%s's end blocks", v)
	}
}

// endBlocks reports whether the socket behind c is in blocking mode.
func endBlocks(t *testing.T, c net.Conn) bool {
	if bs, ok := c.(*blockingSocket); ok {
		return fdBlocks(t, uintptr(bs.fd))
	}
	uc, ok := c.(*net.UnixConn)
	require.True(t, ok, "a floor's end is a %T", c)
	rc, err := uc.SyscallConn()
	require.NoError(t, err)
	var b bool
	require.NoError(t, rc.Control(func(fd uintptr) { b = fdBlocks(t, fd) }))
	return b
}

func fdBlocks(t *testing.T, fd uintptr) bool {
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
	require.Zero(t, errno)
	return flags&syscall.O_NONBLOCK == 0
}

// TestMeasureOpsRunsEveryOperationByEveryVariantInEachBlock: the copy
// pair is pairs/N less getpid, so both are timed in every block, with the
// wasm guest's blocks among them and without.
func TestMeasureOpsRunsEveryOperationByEveryVariantInEachBlock(t *testing.T) {
	ctx := context.Background()
	s, err := Start(ctx, DefaultConfig())
	require.NoError(t, err)
	defer s.Close()
	for _, variants := range [][]Variant{{Floor, Native, Wasm}, {Floor, Native}} {
		t.Run(fmt.Sprint(variants), func(t *testing.T) { measureOpsInEachBlock(t, s, variants) })
	}
}

func measureOpsInEachBlock(t *testing.T, s *Session, variants []Variant) {
	ctx := context.Background()
	var timed []Timed
	for _, name := range []string{"getpid", "pairs/1"} {
		op, err := Op(name)
		require.NoError(t, err)
		timed = append(timed, Timed{Op: op, Iterations: 2 * Blocks, Warmup: 1})
	}
	wasm := slices.Contains(variants, Wasm)
	type turn struct {
		op string
		v  Variant
	}
	type timedTurn struct {
		block int
		turn
	}
	var order []timedTurn
	s.testHookTurn = func(block int, op string, v Variant) { order = append(order, timedTurn{block, turn{op, v}}) }
	defer func() { s.testHookTurn = nil }()
	res, err := s.MeasureOps(ctx, timed, variants, 0)
	require.NoError(t, err)
	require.Len(t, res, 2)
	for i, o := range timed {
		for _, v := range variants {
			assert.Positive(t, res[i][v], "%s by %s", o.Op.Name, v)
		}
	}
	seen := make([]map[turn]int, Blocks)
	for b := range seen {
		seen[b] = map[turn]int{}
	}
	for i, e := range order {
		if i > 0 {
			assert.GreaterOrEqual(t, e.block, order[i-1].block, "turn %d: %+v after block %d", i, e, order[i-1].block)
		}
		seen[e.block][e.turn]++
	}
	// An operation's variants take their turns of a block side by side
	// (the guest's first), the others' order rotating.
	firsts := map[string]map[Variant]bool{}
	for i := 0; i < len(order); i += len(variants) {
		g := order[i:min(i+len(variants), len(order))]
		require.Len(t, g, len(variants))
		for _, e := range g {
			assert.Equal(t, g[0].block, e.block, "turn %d: %+v", i, e)
			assert.Equal(t, g[0].op, e.op, "turn %d: %+v", i, e)
		}
		first := g[0]
		if wasm {
			assert.Equal(t, Wasm, g[0].v, "the guest's turn comes first, then the others' while it waits")
			first = g[1]
		}
		if firsts[first.op] == nil {
			firsts[first.op] = map[Variant]bool{}
		}
		firsts[first.op][first.v] = true
	}
	for _, o := range timed {
		assert.Len(t, firsts[o.Op.Name], 2, "%s: the floor and the native client take turns going first", o.Op.Name)
	}
	for b := range seen {
		want := map[turn]int{}
		for _, o := range timed {
			for _, v := range variants {
				want[turn{o.Op.Name, v}] = 1
			}
		}
		assert.Equal(t, want, seen[b], "block %d", b)
	}
}
