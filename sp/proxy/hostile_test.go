package proxy_test

import (
	"context"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/proxy"
)

// TestAHostileUpstreamCannotHurtTheProxy: an upstream that sends
// nonsense (bodies of the wrong size, absurd lengths, unknown types and
// classes, answers to nothing) gets empty answers or is ignored, the
// client is never sent what a C client would choke on, a malformed
// syscall reply drops that client, and the proxy serves the next one.
func TestAHostileUpstreamCannotHurtTheProxy(t *testing.T) {
	_, good := cServer(t, "amd64", nil)
	gu, _ := sp.ParseURL(good)
	d := abi.MustLookup("amd64")
	hostile := make(chan []string, 1)
	var dials atomic.Int32
	_, url := startProxy(t, "mips", "amd64", "", func(c *proxy.Config) {
		c.Dial = func(ctx context.Context) (net.Conn, error) {
			if dials.Add(1) > 1 {
				return gu.Dial(ctx)
			}
			a, b := net.Pipe()
			go func() { hostile <- hostileServer(b, d) }()
			return a, nil
		}
	})
	cfg, _ := cClient("mips", lowBase)
	c := dial(t, url, cfg)
	require.NoError(t, c.HandshakeGuest(ctxT(t)))
	_, err := c.Syscall(ctxT(t), netbsd.SYS_getpid)
	assert.Error(t, err, "the malformed reply ends the connection")
	got := <-hostile
	assert.Equal(t, []string{
		"RESP COPYIN 0 bytes", // COPYIN with a short rsp_copydata
		"RESP COPYIN 0 bytes", // COPYIN of 1 TiB
		"RESP ANONMMAP 8 bytes",
	}, got, "every hostile request with an answer got an empty (failed) one")

	_, m := guest(t, url, "mips", nil)
	m.ok(netbsd.SYS_getpid)
}

// hostileServer plays a broken amd64 server on conn and returns what the
// proxy answered to its requests.
func hostileServer(conn net.Conn, d *abi.Descriptor) []string {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, "RUMPSP-0.4-NetBSD-9.3/amd64\n")
	fr := sp.NewFramer(conn, conn, d)
	cd := sp.NewCodec(d)
	f, err := fr.ReadFrame() // GUEST
	if err != nil {
		return []string{"guest: " + err.Error()}
	}
	fr.WriteFrame(sp.Header{Reqno: f.Reqno, Class: sp.ClassResp, Type: sp.TypeHandshake}, cd.Int(0))
	call, err := fr.ReadFrame() // getpid
	if err != nil {
		return []string{"getpid: " + err.Error()}
	}
	huge, _ := cd.Copydata(1<<40, 0x1000, nil)
	// net.Pipe does not buffer: write while reading the answers.
	go func() {
		for _, h := range []struct {
			h    sp.Header
			body []byte
		}{
			{sp.Header{Reqno: 0, Class: sp.ClassReq, Type: sp.TypeCopyIn}, []byte{1, 2, 3}},
			{sp.Header{Reqno: 1, Class: sp.ClassReq, Type: sp.TypeCopyIn}, huge},
			{sp.Header{Reqno: 2, Class: sp.ClassReq, Type: sp.TypeAnonMmap}, []byte{1}},
			{sp.Header{Reqno: 3, Class: sp.ClassReq, Type: 99}, nil},
			{sp.Header{Reqno: 4, Class: 7, Type: sp.TypeSyscall}, nil},
			{sp.Header{Reqno: 999, Class: sp.ClassResp, Type: sp.TypeSyscall}, cd.Sysresp(sp.Result{})},
			{sp.Header{Reqno: 5, Class: sp.ClassReq, Type: sp.TypeCopyOut}, []byte{9, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 1}},
		} {
			fr.WriteFrame(h.h, h.body)
		}
	}()
	var answers []string
	for len(answers) < 3 {
		f, err := fr.ReadFrame()
		if err != nil {
			return answers
		}
		answers = append(answers, f.Class.String()+" "+f.Type.String()+" "+itoa(len(f.Body))+" bytes")
	}
	fr.WriteFrame(sp.Header{Reqno: call.Reqno, Class: sp.ClassResp, Type: sp.TypeSyscall}, []byte{1, 2}) // short rsp_sysresp
	io.Copy(io.Discard, conn)
	return answers
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// FuzzEventString: the trace reads bodies from the network; nothing in
// them may make it panic.
func FuzzEventString(f *testing.F) {
	f.Add(uint16(0), uint16(1), uint32(199), []byte{1, 2, 3})
	f.Add(uint16(1), uint16(1), uint32(0), make([]byte, 24))
	f.Add(uint16(0), uint16(4), uint32(0), make([]byte, 20))
	f.Add(uint16(1), uint16(7), uint32(0), []byte{1})
	f.Add(uint16(0), uint16(0), uint32(2), make([]byte, 20))
	f.Add(uint16(1), uint16(2), uint32(0), []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, class, typ uint16, u uint32, body []byte) {
		for _, d := range abi.All() {
			e := proxy.Event{ABI: d, Frame: &sp.Frame{Header: sp.Header{Class: sp.Class(class), Type: sp.Type(typ), U: u}, Body: body}}
			_ = e.String()
		}
	})
}
