// Package xlate translates syscalls between the ABI of a client and the
// ABI of a server: argument values, the typed data behind pointer
// arguments (struct stat, dirents, sysctl values, size_t, int arrays...),
// return values, and, between a 64-bit client and a 32-bit server, the
// addresses themselves. It is the one mechanism behind sp.Client's
// client-translates mode and sp/proxy.
//
// What each pointer argument points at comes from abi/netbsd's table
// (netbsd.Syscall.Pointees). A Session keeps, per connection, the typed
// regions of the syscalls in flight; a copy request of the server is
// attributed to the region its address falls in, so the bytes can be
// re-laid in the other ABI. Between a 64-bit client and a 32-bit server
// every region gets a window: a range of 32-bit addresses the server sees
// in place of the client's, freed when the syscall completes.
//
// It is not a protocol implementation: frames, request numbers, eras and
// transports are its callers' business.
package xlate

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

// Memory is a client's address space: sp.Memory's method set, repeated
// here so that package sp can use this one without a cycle.
type Memory interface {
	CopyIn(ctx context.Context, addr uint64, n int) ([]byte, error)
	CopyInStr(ctx context.Context, addr uint64, max int) (string, error)
	CopyOut(ctx context.Context, addr uint64, data []byte) error
	AnonMmap(ctx context.Context, size uint64) (uint64, error)
}

// ErrFault is wrapped by the errors of a View for an address no window or
// region can serve, or typed data that cannot be translated; it wraps
// netbsd.EFAULT, as sp.ErrFault does, so the kernel answers EFAULT.
var ErrFault = fmt.Errorf("xlate: bad address: %w", netbsd.EFAULT)

// Refusal is why Begin would not translate a syscall, and the errno the
// client is answered with instead: ENOSYS for data whose type is unknown,
// EINVAL for a value the server's ABI cannot hold, ENOMEM when windows
// run out, EFAULT when the client's memory could not be read.
type Refusal struct {
	Num   netbsd.Sysno
	Errno netbsd.Errno
	Why   string
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("%s refused with %s: %s", r.Num, r.Errno.String(), r.Why)
}

// Unwrap lets errors.Is match the errno.
func (r *Refusal) Unwrap() error { return r.Errno }

func refuse(num netbsd.Sysno, e netbsd.Errno, format string, args ...any) error {
	return &Refusal{Num: num, Errno: e, Why: fmt.Sprintf(format, args...)}
}

// IsRefusal returns the refusal inside err, or nil.
func IsRefusal(err error) *Refusal {
	var r *Refusal
	if errors.As(err, &r) {
		return r
	}
	return nil
}

// Pair is a client ABI and a server ABI, with everything about them that
// does not change per call: which layouts are identical, which syscalls
// and element types can be translated. Pairs are safe to share.
type Pair struct {
	Client, Server *abi.Descriptor

	cl, sl *netbsd.Layouts
	same   bool // every scalar and the byte order agree: bytes pass as they are
	narrow bool // server pointers are narrower than the client's: windows

	plans sync.Map // netbsd.Sysno → *plan
	elems sync.Map // *abi.Type → *elem
}

// NewPair returns the pair of a client of ABI client and a server of ABI
// server.
func NewPair(client, server *abi.Descriptor) *Pair {
	return &Pair{
		Client: client, Server: server,
		cl: netbsd.LayoutsFor(client), sl: netbsd.LayoutsFor(server),
		same:   sameLayout(client, server),
		narrow: server.Pointer.Size < client.Pointer.Size,
	}
}

// Same reports whether the two ABIs lay out every C type identically, so
// that the bytes of any frame, even of a syscall sprig does not describe,
// mean the same on both sides.
func (p *Pair) Same() bool { return p.same }

// Narrow reports whether the server's pointers are narrower than the
// client's, so that client addresses are mapped to windows.
func (p *Pair) Narrow() bool { return p.narrow }

func sameLayout(a, b *abi.Descriptor) bool {
	if a == b {
		return true
	}
	if a.Endian != b.Endian {
		return false
	}
	for _, base := range []abi.Base{abi.BaseChar, abi.BaseShort, abi.BaseInt, abi.BaseLong, abi.BaseLongLong,
		abi.BasePointer, abi.BaseSizeT, abi.BaseRegisterT, abi.BaseFloat, abi.BaseDouble} {
		if a.Scalar(base) != b.Scalar(base) {
			return false
		}
	}
	return true
}

// elem is a C type the data behind a pointer is made of, laid out on both
// sides.
type elem struct {
	t    *abi.Type
	c, s *abi.Layout // client's and server's
	raw  bool        // identical bytes on both sides
	bad  string      // why it cannot be translated; "" when it can
}

func (p *Pair) elem(t *abi.Type) *elem {
	if e, ok := p.elems.Load(t); ok {
		return e.(*elem)
	}
	e := &elem{t: t, c: abi.LayoutOf(p.Client, t), s: abi.LayoutOf(p.Server, t)}
	e.bad = untranslatable(t)
	e.raw = e.bad == "" && p.Client.Endian == p.Server.Endian && e.c.Size == e.s.Size &&
		sameLeaves(e.c.Leaves(), e.s.Leaves())
	actual, _ := p.elems.LoadOrStore(t, e)
	return actual.(*elem)
}

func sameLeaves(a, b []abi.Leaf) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Offset != b[i].Offset || a[i].Size != b[i].Size {
			return false
		}
	}
	return true
}

// untranslatable says why data of type t cannot be re-laid from one ABI
// to another: a pointer inside it (the address would need a window of
// its own), a union (which member is live is unknown), a flexible tail.
func untranslatable(t *abi.Type) string {
	switch t.Kind() {
	case abi.KindScalar:
		if t.Base() == abi.BasePointer {
			return t.Name() + " holds a pointer"
		}
	case abi.KindUnion:
		return t.Name() + " is a union"
	case abi.KindArray:
		if t.IsFlexible() {
			return t.Name() + " has a flexible tail"
		}
		return untranslatable(t.Elem())
	case abi.KindStruct:
		for _, f := range t.Fields() {
			if why := untranslatable(f.Type); why != "" {
				return why
			}
		}
	}
	return ""
}

// SplitOff places a 64-bit result into retval the way ABI d returns an
// off_t: in retval[0] on 64-bit register_t, over retval[0..1] in memory
// order on 32-bit (little-endian: low word first).
func SplitOff(d *abi.Descriptor, v uint64) [2]uint64 {
	if d.RegisterT.Size >= 8 {
		return [2]uint64{v, 0}
	}
	lo, hi := v&0xffffffff, v>>32
	if d.BigEndian() {
		return [2]uint64{hi, lo}
	}
	return [2]uint64{lo, hi}
}

// JoinOff is the inverse of SplitOff.
func JoinOff(d *abi.Descriptor, rv [2]uint64) uint64 {
	if d.RegisterT.Size >= 8 {
		return rv[0]
	}
	if d.BigEndian() {
		return rv[0]<<32 | rv[1]&0xffffffff
	}
	return rv[1]<<32 | rv[0]&0xffffffff
}
