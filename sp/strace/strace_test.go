package strace_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/strace"
)

// conversation feeds hook a client's view of n open calls: each sends
// SYSCALL open, serves a COPYINSTR of its path, and gets fd 3+i back.
func conversation(t *testing.T, wire *abi.Descriptor, hook func(sp.Direction, *sp.Frame), n int) {
	codec := sp.NewCodec(wire)
	args := netbsd.LayoutsFor(wire).Args(netbsd.SYS_open)
	require.NotNil(t, args)
	// One buffer for every response, as a reader that reuses its buffer
	// has: a tracer must not keep a frame's bytes past the hook.
	resp := make([]byte, codec.SysrespSize())
	var req []byte
	for i := range n {
		reqno := uint64(10 + i)
		path := fmt.Sprintf("/tmp/f%d", i)
		addr := uint64(0x1000 + 0x100*i)
		mode := uint64(0o600 + i)
		body, err := args.Encode(0, addr, uint64(netbsd.O_CREAT|netbsd.O_RDWR), mode)
		require.NoError(t, err)
		if req == nil {
			req = make([]byte, len(body))
		}
		copy(req, body)
		hook(sp.Sent, &sp.Frame{Header: sp.Header{Reqno: reqno, Class: sp.ClassReq, Type: sp.TypeSyscall, U: uint32(netbsd.SYS_open)}, Body: req})
		cd, err := codec.Copydata(uint64(len(path)+1), addr, nil)
		require.NoError(t, err)
		hook(sp.Received, &sp.Frame{Header: sp.Header{Reqno: 500 + reqno, Class: sp.ClassReq, Type: sp.TypeCopyInStr}, Body: cd})
		hook(sp.Sent, &sp.Frame{Header: sp.Header{Reqno: 500 + reqno, Class: sp.ClassResp, Type: sp.TypeCopyIn}, Body: append([]byte(path), 0)})
		copy(resp, codec.Sysresp(sp.Result{Retval: [2]uint64{uint64(3 + i), 0}}))
		hook(sp.Received, &sp.Frame{Header: sp.Header{Reqno: reqno, Class: sp.ClassResp, Type: sp.TypeSyscall}, Body: resp})
	}
}

// A ring keeps its lines unformatted until asked; what it then shows must
// be what a Tracer writing as it goes prints, newest n lines.
func TestARingShowsWhatAWritingTracerPrints(t *testing.T) {
	wire, err := abi.Lookup("i386")
	require.NoError(t, err)
	var out bytes.Buffer
	w := strace.New(&out, "i386")
	ring := strace.NewRing(3, "i386")
	conversation(t, wire, w.ClientFrame(1, wire), 5)
	conversation(t, wire, ring.ClientFrame(1, wire), 5)

	written := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, written, 5)
	assert.Equal(t, `i386 → open("/tmp/f0", O_CREAT|O_RDWR, 0600) = 3`, written[0])
	assert.Equal(t, written[2:], ring.Lines())
}

// A preloading client's path comes in its PRELOAD, not a COPYINSTR
// answer; the line shows it all the same, and only for its own call.
func TestAPreloadedPathIsShownAsACopiedInOne(t *testing.T) {
	wire := abi.MustLookup("amd64")
	codec := sp.NewCodec(wire)
	var out bytes.Buffer
	hook := strace.New(&out, "amd64").ClientFrame(1, wire)
	args := netbsd.LayoutsFor(wire).Args(netbsd.SYS_open)
	open := func(reqno, addr uint64, preload []byte) {
		body, err := args.Encode(0, addr, uint64(netbsd.O_RDONLY), 0)
		require.NoError(t, err)
		if preload != nil {
			hook(sp.Sent, &sp.Frame{Header: sp.Header{Reqno: reqno, Class: sp.ClassReq, Type: sp.TypePreload}, Body: preload})
		}
		hook(sp.Sent, &sp.Frame{Header: sp.Header{Reqno: reqno, Class: sp.ClassReq, Type: sp.TypeSyscall, U: uint32(netbsd.SYS_open)}, Body: body})
		hook(sp.Received, &sp.Frame{Header: sp.Header{Reqno: reqno, Class: sp.ClassResp, Type: sp.TypeSyscall}, Body: codec.Sysresp(sp.Result{Retval: [2]uint64{3}})})
	}
	entry, err := codec.Copydata(9, 0x1000, []byte("/tmp/pre\x00"))
	require.NoError(t, err)
	open(7, 0x1000, entry)
	open(8, 0x1000, nil) // no preload: nothing known of its path
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, lines, 2)
	assert.Equal(t, `amd64 → open("/tmp/pre", O_RDONLY, 0) = 3`, lines[0])
	assert.NotContains(t, lines[1], "/tmp/pre")
}
