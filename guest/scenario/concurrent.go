package scenario

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/sp"
)

// call is one syscall's outcome from a goroutine. Goroutines must not
// call T's failing methods (they stop the scenario by panicking), so they
// hand their results to the scenario's goroutine.
type call struct {
	r   sp.Result
	err error
}

// scenarioConcurrent: several syscalls in flight on one connection. A
// read blocks in the kernel on an empty pipe while eight getpids come
// and go; then a write from another goroutine completes the read.
func scenarioConcurrent(t *T) {
	const getpids = 8
	t.guest()
	pid := t.getpid()
	pp := t.ok(netbsd.SYS_pipe)
	rfd, wfd := pp[0], pp[1]
	msg := []byte("from goroutine B")
	rbuf, rb := t.alloc(64, guardFill)
	wbuf := t.data(msg)

	// Every goroutine is done before the scenario returns, however it
	// ends: the connection closes after this, failing any call still out.
	// The calls share the scenario's deadline (--timeout), nothing
	// shorter: a busy machine is not a broken server.
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(t.ctx)
	defer func() {
		cancel()
		wg.Wait()
	}()
	run := func(out chan<- call, num netbsd.Sysno, args ...uint64) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := t.c.Syscall(ctx, num, anys(args)...)
			out <- call{r, err}
		}()
	}
	finish := func(what string, ch <-chan call) sp.Result {
		c := <-ch
		if c.err != nil {
			t.FailErr(what, c.err)
		}
		if c.r.Errno != 0 {
			t.FailValue(what+" errno", "0", errName(c.r.Errno))
		}
		t.Check()
		return c.r
	}

	// A: read from the empty pipe. Wait until its request is on the wire
	// and give the server a moment to start it.
	readA := make(chan call, 1)
	reads := t.frames.sent(uint32(netbsd.SYS_read))
	run(readA, netbsd.SYS_read, rfd, rbuf, uint64(len(rb)))
	for t.frames.sent(uint32(netbsd.SYS_read)) == reads {
		select {
		case c := <-readA:
			// The call ended before its request left: the client
			// refused it (an argument that does not fit the wire ABI,
			// say), which is the real cause to report.
			if c.err != nil {
				t.FailErr("goroutine A's read (never sent)", c.err)
			}
			t.FailValue("goroutine A's read of an empty pipe", "still blocked", fmt.Sprintf("returned %d, errno %s", c.r.Retval[0], errName(c.r.Errno)))
		default:
		}
		if ctx.Err() != nil {
			t.Fail(guestapi.LayerTimeout, "goroutine A's read request was never sent")
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	t.stillBlocked("read of an empty pipe", readA)

	// Eight getpids while A waits in the kernel.
	pids := make(chan call, getpids)
	for range getpids {
		run(pids, netbsd.SYS_getpid)
	}
	for i := range getpids {
		r := finish(fmt.Sprintf("concurrent getpid #%d", i), pids)
		expect(t, "concurrent getpid retval[0]", pid, r.Retval[0])
		expect(t, "concurrent getpid retval[1] (ppid)", uint64(1), r.Retval[1])
	}
	t.stillBlocked("read of an empty pipe, after the getpids", readA)
	if n := t.frames.maxInFlight(); n < 2 {
		t.FailValue("most syscalls in flight at once", ">= 2", n)
	}
	t.Check()

	// B: write; A must complete with B's bytes.
	writeB := make(chan call, 1)
	run(writeB, netbsd.SYS_write, wfd, wbuf, uint64(len(msg)))
	expect(t, "goroutine B's write retval", uint64(len(msg)), finish("goroutine B's write", writeB).Retval[0])
	expect(t, "goroutine A's read retval", uint64(len(msg)), finish("goroutine A's read", readA).Retval[0])
	t.expectBytes("bytes goroutine A read", msg, rb[:len(msg)])
	t.untouched("goroutine A's buffer past the bytes read", rb[len(msg):], guardFill)

	t.ok(netbsd.SYS_close, rfd)
	t.ok(netbsd.SYS_close, wfd)
}

// stillBlocked fails if the call on ch has already returned.
func (t *T) stillBlocked(what string, ch chan call) {
	select {
	case c := <-ch:
		if c.err != nil {
			// Ended by the transport or the deadline, not by the server:
			// no verdict on what the server did (a timeout is an error).
			t.FailErr(what+": the call ended", c.err)
		}
		t.FailValue(what, "still blocked (nothing written yet)", fmt.Sprintf("returned %d, errno %s, err %v", c.r.Retval[0], errName(c.r.Errno), c.err))
	default:
	}
	t.Check()
}
