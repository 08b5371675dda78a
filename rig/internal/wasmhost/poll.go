package wasmhost

import (
	"context"
	"encoding/binary"
	"io/fs"
	"sync"
	"time"

	"github.com/tetratelabs/wazero/api"
	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/sys"
)

// How a guest waits for data without burning CPU or deadlocking.
//
// A host call blocks every goroutine of a Go guest, so a recv that blocks
// until its socket is readable can hold up a goroutine that still has to
// send the request that reply answers, or one whose timer is due. The one
// place that knows both (that no goroutine can run, and when the next
// timer fires) is the Go runtime's scheduler: when it has nothing to run
// it calls WASI poll_oneoff with a clock subscription for its next timer
// and a read subscription for every file a goroutine is parked on. So a
// guest parks its reader on a file (the wake file, bound to the
// connection with the host function bind), and this poll_oneoff, which
// replaces wazero's, waits until one of the bound connections is readable
// or the clock passes. Nothing spins, every goroutine that can run has
// run, and every timer fires on time.
//
// That path costs Go's wasm runtime a park, a trip through its scheduler
// and two poll_oneoff calls per wait, several times what a blocking recv
// costs; for a reply that comes within microseconds it is most of a
// syscall's CPU. So a guest first calls recv with a short wait
// (guest/internal/host waits 20 ms), parking only when nothing came. The
// host ends such a wait early at the guest's next timer as the last
// poll_oneoff with a clock told it (setNextTimer), so only a timer set
// since then can be late, by that short wait at most.

// WakeDir is where each instance finds WakeFile.
const WakeDir = "/sprig"

// WakeFile is the file a guest opens once per connection and binds to
// it: poll_oneoff read subscriptions on its descriptor wait for the
// connection. It is empty and never read.
const WakeFile = WakeDir + "/wake"

// WASI preview 1 poll_oneoff layouts and numbers.
const (
	subscriptionSize = 48
	eventSize        = 32

	eventtypeClock   = 0
	eventtypeFdRead  = 1
	eventtypeFdWrite = 2

	wasiBadf   = 8
	wasiFault  = 21
	wasiInval  = 28
	wasiNotsup = 58
)

var le = binary.LittleEndian

// pollOneoff(in, out, nsubscriptions, nevents_ptr) → errno, as WASI
// defines it: relative clocks are timeouts (the smallest wins), read
// subscriptions on a bound file wait for its connection, any other
// descriptor is ready at once (as wazero answers for non-blocking files)
// and write subscriptions are not supported (wazero's answer too).
func pollOneoff(ctx context.Context, m api.Module, stack []uint64) {
	in, out := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	nsubs, neventsPtr := api.DecodeU32(stack[2]), api.DecodeU32(stack[3])
	stack[0] = uint64(pollErrno(ctx, m, in, out, nsubs, neventsPtr))
}

func pollErrno(ctx context.Context, m api.Module, in, out, nsubs, neventsPtr uint32) uint32 {
	if nsubs == 0 || nsubs > 1<<16 {
		return wasiInval
	}
	mem := m.Memory()
	subs, ok := mem.Read(in, nsubs*subscriptionSize)
	if !ok {
		return wasiFault
	}
	evs, ok := mem.Read(out, nsubs*eventSize)
	if !ok {
		return wasiFault
	}
	st := stateOf(ctx)

	var p poll
	p.timeout = -1
	for i := range nsubs {
		s := subs[i*subscriptionSize:][:subscriptionSize]
		switch s[8] {
		case eventtypeClock:
			if le.Uint16(s[40:]) != 0 { // subscription_clock_abstime: Go never asks
				return wasiNotsup
			}
			if d := time.Duration(min(le.Uint64(s[24:]), 1<<62)); p.timeout < 0 || d < p.timeout {
				p.timeout = d
			}
			p.clocks = append(p.clocks, i)
		case eventtypeFdRead:
			fd := int32(le.Uint32(s[16:]))
			if hc := st.bound(fd); hc != nil {
				p.waits = append(p.waits, pollWait{sub: i, hc: hc})
			} else {
				p.ready = append(p.ready, readyEvent{sub: i})
			}
		case eventtypeFdWrite:
			p.ready = append(p.ready, readyEvent{sub: i, errno: wasiNotsup})
		default:
			return wasiInval
		}
	}

	var next time.Time // none pending
	if p.timeout >= 0 {
		next = time.Now().Add(p.timeout)
	}
	st.setNextTimer(next)
	p.run(ctx, st)

	n := uint32(0)
	emit := func(sub uint32, typ byte, errno uint16) {
		e := evs[n*eventSize:][:eventSize]
		clear(e)
		copy(e[0:8], subs[sub*subscriptionSize:][:8]) // userdata
		le.PutUint16(e[8:], errno)
		e[10] = typ
		n++
	}
	for _, r := range p.ready {
		emit(r.sub, subs[r.sub*subscriptionSize+8], r.errno)
	}
	woke := false
	for _, w := range p.waits {
		if w.hc.ready() {
			emit(w.sub, eventtypeFdRead, 0)
			woke = true
		}
	}
	if !woke && len(p.ready) == 0 && p.timedOut {
		for _, c := range p.clocks {
			emit(c, eventtypeClock, 0)
		}
	}
	if !mem.WriteUint32Le(neventsPtr, n) {
		return wasiFault
	}
	return 0
}

// poll is one poll_oneoff call's work.
type poll struct {
	timeout  time.Duration // the smallest clock; < 0: none
	clocks   []uint32      // clock subscriptions
	waits    []pollWait    // read subscriptions on bound connections
	ready    []readyEvent  // subscriptions answered at once
	timedOut bool          // the clock passed before any connection was readable
}

type pollWait struct {
	sub uint32
	hc  *hostConn
}

type readyEvent struct {
	sub   uint32
	errno uint16
}

// run waits as the subscriptions ask: not at all when something is ready
// or the timeout is zero, else until a bound connection is readable, the
// timeout passes or the instance is stopped.
func (p *poll) run(ctx context.Context, st *instanceState) {
	for _, w := range p.waits {
		if w.hc.ready() {
			return
		}
	}
	if len(p.ready) > 0 {
		return
	}
	if p.timeout == 0 {
		for _, w := range p.waits {
			w.hc.fill()
		}
		p.timedOut = !p.anyReady()
		return
	}
	var deadline time.Time
	if p.timeout > 0 {
		deadline = time.Now().Add(p.timeout)
	}
	switch {
	case len(p.waits) == 0 && p.timeout < 0:
		// Nothing can ever wake this poll; Go never asks for one.
		<-ctx.Done()
		return
	case len(p.waits) == 0:
		t := time.NewTimer(p.timeout)
		select {
		case <-t.C:
			p.timedOut = true
		case <-ctx.Done():
			t.Stop()
		}
		return
	case len(p.waits) == 1:
		if st.alive() {
			p.waits[0].hc.wait(deadline)
		}
	default:
		p.waitAny(st, deadline)
	}
	p.timedOut = !p.anyReady() && ctx.Err() == nil
}

func (p *poll) anyReady() bool {
	for _, w := range p.waits {
		if w.hc.ready() {
			return true
		}
	}
	return false
}

// waitAny waits on several connections at once, one goroutine each; the
// first to see data (or the deadline) interrupts the others.
func (p *poll) waitAny(st *instanceState, deadline time.Time) {
	var wg sync.WaitGroup
	var once sync.Once
	stopOthers := func() {
		once.Do(func() {
			for _, w := range p.waits {
				w.hc.interrupt()
			}
		})
	}
	if !st.alive() {
		return
	}
	for _, w := range p.waits {
		wg.Go(func() {
			w.hc.wait(deadline)
			stopOthers()
		})
	}
	wg.Wait()
	for _, w := range p.waits {
		w.hc.clearInterrupt()
	}
}

// wakeFS is the directory mounted at WakeDir: one empty file, "wake",
// which a guest may put in non-blocking mode (Go does, to poll it).
type wakeFS struct {
	experimentalsys.UnimplementedFS
}

func (wakeFS) OpenFile(path string, flag experimentalsys.Oflag, _ fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	if flag&(experimentalsys.O_WRONLY|experimentalsys.O_RDWR|experimentalsys.O_CREAT|experimentalsys.O_TRUNC) != 0 {
		return nil, experimentalsys.EROFS
	}
	switch path {
	case ".", "":
		return &wakeFile{dir: true}, 0
	case "wake":
		return &wakeFile{}, 0
	}
	return nil, experimentalsys.ENOENT
}

func (w wakeFS) Stat(path string) (sys.Stat_t, experimentalsys.Errno) {
	f, errno := w.OpenFile(path, experimentalsys.O_RDONLY, 0)
	if errno != 0 {
		return sys.Stat_t{}, errno
	}
	return f.Stat()
}

func (w wakeFS) Lstat(path string) (sys.Stat_t, experimentalsys.Errno) { return w.Stat(path) }

// wakeFile is the directory or the wake file, open. Nothing is ever read
// from it: poll_oneoff subscriptions on it are all it is for.
type wakeFile struct {
	experimentalsys.UnimplementedFile
	dir      bool
	nonblock bool
}

func (f *wakeFile) IsDir() (bool, experimentalsys.Errno) { return f.dir, 0 }

func (f *wakeFile) Stat() (sys.Stat_t, experimentalsys.Errno) {
	mode := fs.ModeNamedPipe | 0o444 // not a regular file: no seeking, no append mode
	if f.dir {
		mode = fs.ModeDir | 0o555
	}
	return sys.Stat_t{Mode: mode, Nlink: 1}, 0
}

func (f *wakeFile) Read([]byte) (int, experimentalsys.Errno) {
	if f.dir {
		return 0, experimentalsys.EISDIR
	}
	if f.nonblock {
		return 0, experimentalsys.EAGAIN
	}
	return 0, 0 // end of file
}

func (f *wakeFile) Readdir(int) ([]experimentalsys.Dirent, experimentalsys.Errno) {
	if !f.dir {
		return nil, experimentalsys.ENOTDIR
	}
	return nil, 0
}

func (f *wakeFile) IsNonblock() bool { return f.nonblock }

func (f *wakeFile) SetNonblock(on bool) experimentalsys.Errno {
	f.nonblock = on
	return 0
}

// Poll is what wazero's own poll_oneoff would ask; this package's answers
// for bound descriptors instead, so it says only "not readable".
func (f *wakeFile) Poll(experimentalsys.Pflag, int32) (bool, experimentalsys.Errno) { return false, 0 }
