package rig

import (
	"sync"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// observer keeps what the server side saw, so a failure the guest reports
// can be explained from both sides: the ABI the server assumed for the
// client and the last structs it copied out.
type observer struct {
	mu       sync.Mutex
	assumed  *abi.Descriptor         // ABI the server lays the guest's frames out with
	copyouts [][]byte                // recent COPYOUT data, newest last
	args     map[netbsd.Sysno][]byte // last argument struct per syscall
	sysresp  []byte                  // last rsp_sysresp sent
	hsLen    uint64                  // length of the last handshake request
}

const keptCopyouts = 32

func (o *observer) frame(c *sp.ConnInfo, d sp.Direction, f *sp.Frame) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.assumed = c.ABI
	switch {
	case d == sp.Received && f.Class == sp.ClassReq && f.Type == sp.TypeSyscall:
		if o.args == nil {
			o.args = map[netbsd.Sysno][]byte{}
		}
		o.args[netbsd.Sysno(f.U)] = append([]byte(nil), f.Body...)
		return
	case d == sp.Received && f.Class == sp.ClassReq && f.Type == sp.TypeHandshake:
		o.hsLen = f.Len
		return
	case d == sp.Sent && f.Class == sp.ClassResp && f.Type == sp.TypeSyscall:
		o.sysresp = append(o.sysresp[:0], f.Body...)
		return
	case d != sp.Sent || f.Class != sp.ClassReq || f.Type != sp.TypeCopyOut:
		return
	}
	_, _, data, err := sp.NewCodec(c.ABI).ParseCopydata(f.Body, true)
	if err != nil {
		return
	}
	o.copyouts = append(o.copyouts, append([]byte(nil), data...))
	if len(o.copyouts) > keptCopyouts {
		o.copyouts = o.copyouts[1:]
	}
}

// lastCopyout returns the newest COPYOUT of exactly n bytes.
func (o *observer) lastCopyout(n int) []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := len(o.copyouts) - 1; i >= 0; i-- {
		if len(o.copyouts[i]) == n {
			return o.copyouts[i]
		}
	}
	return nil
}

func (o *observer) lastArgs(n netbsd.Sysno) []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.args[n]
}

func (o *observer) handshakeLen() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.hsLen
}

func (o *observer) lastSysresp() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]byte(nil), o.sysresp...)
}

func (o *observer) serverABI() *abi.Descriptor {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.assumed
}
