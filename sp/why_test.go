package sp_test

// One test per item of issue 12's "Why": each reproduces what a hostile
// or unlucky client could do to the server before, and checks it no
// longer can. They use only the wire and the test kernel, so they also
// run against the server as it was (see the report of issue 12).

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// heapInUse returns the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func TestWhyStarvationPipeliningWithoutReadingHoldsNoOtherClientsWorkers(t *testing.T) {
	h := newHostile(t, "unix", func(c *sp.ServerConfig) { c.WriteTimeout = 10 * time.Second })
	p := h.guest()
	frame := rawHeader(sp.HeaderSize, 7, sp.ClassReq, sp.TypeSyscall, uint32(netbsd.SYS_getpid))
	flood := bytes.Repeat(frame, 1000)
	go func() {
		for {
			p.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if sp.WriteRaw(p.fr, flood) != nil {
				return
			}
		}
	}()
	// The flood fills the socket and workers block writing to it; other
	// clients must be served all along.
	for range 5 {
		time.Sleep(500 * time.Millisecond)
		h.innocent()
	}
}

func TestWhyStarvationNeverAnsweringCopyinHoldsNoOtherClientsWorkers(t *testing.T) {
	h := newHostile(t, "unix", nil)
	p := h.guest()
	for range 130 {
		p.send(netbsd.SYS_open, p.args(netbsd.SYS_open, 0x1000, 0, 0))
	}
	time.Sleep(300 * time.Millisecond)
	h.innocent()
}

func TestWhyStarvation130BlockingReadsHoldNoOtherClientsWorkers(t *testing.T) {
	h := newHostile(t, "unix", nil)
	p := h.guest()
	rfd, _ := p.pipe()
	blockingReads(p, rfd, 130)
	time.Sleep(300 * time.Millisecond)
	h.innocent()
}

func TestWhyStarvationABurstOf10000GetpidsIsQueuedNotTryAgain(t *testing.T) {
	h := newHostile(t, "unix", nil)
	p := h.guest()
	const n = 10000
	tryAgain := make(chan int, 1)
	go func() {
		errs := 0
		for range n {
			p.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			f, err := p.fr.ReadFrame()
			if err != nil {
				errs = -1
				break
			}
			if f.Class == sp.ClassError {
				errs++
			}
		}
		tryAgain <- errs
	}()
	p.writeRaw(bytes.Repeat(rawHeader(sp.HeaderSize, 9, sp.ClassReq, sp.TypeSyscall, uint32(netbsd.SYS_getpid)), n))
	assert.Zero(t, <-tryAgain, "getpids answered TRYAGAIN (or -1: the answers stopped)")
	h.innocent()
}

func TestWhyMemoryRetainedASyscallBodyIsCutToItsStruct(t *testing.T) {
	h := newHostile(t, "unix", nil)
	p := h.guest()
	r := p.syscall(netbsd.SYS_open, p.args(netbsd.SYS_open, 0x1000, netbsd.O_CREAT|netbsd.O_RDWR, 0), func(*sp.Frame) []byte { return []byte("/f\x00") })
	require.Zero(t, r.Errno)
	before := heapInUse()
	pad := make([]byte, mib16)
	for range 10 {
		p.send(netbsd.SYS_write, append(p.args(netbsd.SYS_write, r.Retval[0], 0x1000, 8), pad...))
		assert.Equal(t, sp.TypeCopyIn, p.read().Type, "the write waits for its COPYIN, never answered")
	}
	pad = nil
	grown := int64(heapInUse()) - int64(before)
	t.Logf("heap grown by %d KiB holding 10 writes with 16 MiB bodies", grown>>10)
	assert.Less(t, grown, int64(32<<20), "the server keeps the 16 MiB bodies")
	h.innocent()
}

func TestWhyMemoryRetainedAGuestNameIsCutToMaxComLen(t *testing.T) {
	h := newHostile(t, "unix", func(c *sp.ServerConfig) { c.HandshakeTimeout = 10 * time.Second })
	before := heapInUse()
	name := append(bytes.Repeat([]byte("N"), mib16), 0)
	for range 8 {
		p := h.raw()
		reqno := p.write(sp.Header{Class: sp.ClassReq, Type: sp.TypeHandshake, U: uint32(sp.HandshakeGuest)}, name)
		require.Equal(t, reqno, p.read().Reqno)
	}
	name = nil
	grown := int64(heapInUse()) - int64(before)
	t.Logf("heap grown by %d KiB holding 8 clients with 16 MiB names", grown>>10)
	assert.Less(t, grown, int64(32<<20), "the server keeps the 16 MiB names")
	assert.LessOrEqual(t, len(h.k.lastName()), sp.MaxComLen)
	h.innocent()
}

func TestWhyMemoryRetainedAGuestNameIsLoggedCutAndEscaped(t *testing.T) {
	h := newHostile(t, "unix", nil)
	p := h.raw()
	name := append([]byte("evil\n"), bytes.Repeat([]byte("N"), 1<<20)...)
	reqno := p.write(sp.Header{Class: sp.ClassReq, Type: sp.TypeHandshake, U: uint32(sp.HandshakeGuest)}, append(name, 0))
	require.Equal(t, reqno, p.read().Reqno)
	h.innocent()
	assert.Less(t, h.logs.Len(), 4<<10, "log bytes for a 1 MiB name")
	assert.Contains(t, h.logs.String(), `evil\\nNNNN`, "the name is logged escaped")
}

func TestWhyLogAmplificationIsRateLimitedPerConnection(t *testing.T) {
	h := newHostile(t, "unix", nil)
	p := h.guest()
	junk := append(bytes.Repeat(rawHeader(sp.HeaderSize, 5, sp.ClassError, sp.TypeHandshake, 1), 10000),
		bytes.Repeat(rawHeader(sp.HeaderSize, 77, sp.ClassResp, sp.TypeAnonMmap, 0), 10000)...)
	received := len(junk)
	p.writeRaw(junk)
	assert.Equal(t, [2]uint64{2, 1}, p.getpid())
	h.innocent()
	t.Logf("%d bytes of junk received, %d bytes of log written", received, h.logs.Len())
	assert.Less(t, h.logs.Len(), 16<<10, "log bytes for %d bytes of junk", received)
}

func TestWhyServerWideLimitsOneClientsPreforksLeaveOthersRoom(t *testing.T) {
	h := newHostile(t, "unix", func(c *sp.ServerConfig) { c.MaxPendingForks = 32 })
	p := h.guest()
	for range 40 {
		p.write(sp.Header{Class: sp.ClassReq, Type: sp.TypePrefork}, nil)
		p.read()
	}
	other := h.guest()
	other.prefork() // fails the test on NOMEM
	h.innocent()
}

func TestWhyServerWideLimitsDeclarationSlotsFreeWithTheirClients(t *testing.T) {
	h := newHostile(t, "unix", nil)
	for i := range 65 {
		p := h.declare(customABI(i + 1))
		p.conn.Close()
		waitFor(t, 5*time.Second, "the declaring client leaves", func() bool { return h.srv.Clients() == 0 })
	}
	h.innocent()
}

func TestWhyNoHandshakeTimeoutSilentConnectionsLoseTheirSlots(t *testing.T) {
	h := newHostile(t, "unix", func(c *sp.ServerConfig) { c.MaxClients = 4 })
	for range 4 {
		h.raw()
	}
	waitFor(t, 5*time.Second, "the silent connections are dropped", func() bool { return h.srv.Clients() == 0 })
	h.innocent()
}

func TestWhyNoIdleTimeoutIdleClientsAreDropped(t *testing.T) {
	h := newHostile(t, "unix", func(c *sp.ServerConfig) { c.IdleTimeout = 300 * time.Millisecond })
	p := h.guest()
	p.expectDropped(3 * time.Second)
	h.innocent()
}

func TestWhyProtocolPreforkDuringExecIsInexecAndClose(t *testing.T) {
	h := newHostile(t, "unix", nil)
	h.k.ExecGate = make(chan struct{})
	defer close(h.k.ExecGate)
	p := h.guest()
	p.write(sp.Header{Class: sp.ClassReq, Type: sp.TypeHandshake, U: uint32(sp.HandshakeExec)}, []byte("new\x00"))
	reqno := p.write(sp.Header{Class: sp.ClassReq, Type: sp.TypePrefork}, nil)
	p.expectError(reqno, sp.ErrorInExec)
	p.expectClosed()
	h.innocent()
}

func TestWhyProtocolExecEndsABlockedSyscallInsteadOfWaitingForIt(t *testing.T) {
	h := newHostile(t, "unix", nil)
	p := h.guest()
	rfd, _ := p.pipe()
	read := blockingReads(p, rfd, 1)[0]
	time.Sleep(100 * time.Millisecond)
	exec := p.write(sp.Header{Class: sp.ClassReq, Type: sp.TypeHandshake, U: uint32(sp.HandshakeExec)}, []byte("new\x00"))
	for got := 0; got < 2; got++ {
		f := p.read()
		switch f.Reqno {
		case read:
			r, err := p.codec.ParseSysresp(f.Body)
			require.NoError(t, err)
			assert.Equal(t, netbsd.EINTR, r.Errno, "the blocked read")
		case exec:
			assert.Equal(t, sp.ClassResp, f.Class, "the EXEC")
		}
	}
	h.innocent()
}

func TestWhyProtocolACopyinReplyTheClientCannotSendIsAnsweredEmpty(t *testing.T) {
	ts := startServer(t, "unix", sp.DefaultServerConfig(mustABI("amd64")))
	cfg := sp.DefaultClientConfig(mustABI("amd64"))
	cfg.MaxFrame = 4096
	c, mem := dialClient(t, ts.url, cfg)
	ctx := ctxT(t)
	require.NoError(t, c.HandshakeGuest(ctx))
	r, err := c.Syscall(ctx, netbsd.SYS_open, mem.AllocString("/big"), netbsd.O_CREAT|netbsd.O_RDWR, 0o644)
	require.NoError(t, err)
	buf := mem.Alloc(8192, bytes.Repeat([]byte("b"), 8192))
	done := make(chan sp.Result, 1)
	go func() {
		r, err := c.Syscall(ctx, netbsd.SYS_write, r.Retval[0], buf, 8192)
		assert.NoError(t, err)
		done <- r
	}()
	select {
	case r := <-done:
		assert.Equal(t, netbsd.EFAULT, r.Errno, "the kernel sees the empty reply as EFAULT")
	case <-time.After(5 * time.Second):
		require.FailNow(t, "the write waits for ever for a COPYIN reply the client could not send")
	}
}

func TestWhyProtocolAParentThatLeavesRightAfterPreforkKeepsTheFork(t *testing.T) {
	h := newHostile(t, "unix", nil)
	p := h.guest()
	ck := p.prefork()
	p.conn.Close() // rumpclient_daemon: the parent _exits right after fork()
	waitFor(t, 5*time.Second, "the parent is gone", func() bool { return h.srv.Clients() == 0 })
	child := h.fork(ck)
	assert.Equal(t, uint64(3), child.getpid()[0])
	h.innocent()
}

func TestWhyProtocolKillStaysInTheConnectionTreeEvenForForksAttachedAfterTheirParentLeft(t *testing.T) {
	// The kernel keeps signals inside a tree (package kern); the server's
	// part is to name the tree right.
	h := newHostile(t, "unix", nil)
	p := h.guest()
	parentTree := h.k.Process(2).Client().Conn
	ck := p.prefork()
	p.conn.Close()
	waitFor(t, 5*time.Second, "the parent is gone", func() bool { return h.srv.Clients() == 0 })
	child := h.fork(ck)
	pid := child.getpid()[0]
	assert.Equal(t, parentTree, h.k.Process(int(pid)).Client().Conn, "the fork joins its parent's tree")
	other := h.guest()
	opid := other.getpid()[0]
	assert.NotEqual(t, parentTree, h.k.Process(int(opid)).Client().Conn, "another client has its own tree")
}

var (
	_ = context.Background
	_ = strings.Repeat
)
