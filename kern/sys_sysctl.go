package kern

import (
	"bytes"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/sp"
)

// mibNode is one node of the sysctl tree kern serves: an inner node with
// children, or a leaf holding a string or an int.
type mibNode struct {
	num      int32
	children []*mibNode
	str      func(k *Kernel) string
	setStr   func(k *Kernel, v string) // nil: read-only
	int      func(k *Kernel) int32
}

// mibRoot holds the nodes a rump kernel's sysctl tree has that sprig
// serves. Others, kern.maxfiles, kern.maxproc and kern.argmax among
// them (a rump kernel has none of the three), are ENOENT.
var mibRoot = &mibNode{children: []*mibNode{
	{num: netbsd.CTL_KERN, children: []*mibNode{
		{num: netbsd.KERN_OSTYPE, str: func(*Kernel) string { return "NetBSD" }},
		{num: netbsd.KERN_OSRELEASE, str: func(k *Kernel) string { return k.cfg.OSRelease }},
		{num: netbsd.KERN_OSREV, int: func(k *Kernel) int32 { return k.cfg.osRevision() }},
		{num: netbsd.KERN_VERSION, str: func(k *Kernel) string { return k.cfg.version() }},
		{num: netbsd.KERN_HOSTNAME, str: (*Kernel).Hostname, setStr: (*Kernel).setHostname},
	}},
	{num: netbsd.CTL_HW, children: []*mibNode{
		{num: netbsd.HW_MACHINE, str: func(k *Kernel) string { return k.cfg.machine() }},
		{num: netbsd.HW_NCPU, int: func(k *Kernel) int32 { return k.cfg.ncpu() }},
		{num: netbsd.HW_BYTEORDER, int: func(k *Kernel) int32 {
			if k.cfg.ABI.BigEndian() {
				return netbsd.BIG_ENDIAN
			}
			return netbsd.LITTLE_ENDIAN
		}},
		{num: netbsd.HW_PAGESIZE, int: func(k *Kernel) int32 { return int32(k.cfg.PageSize) }},
		{num: netbsd.HW_MACHINE_ARCH, str: func(k *Kernel) string { return k.cfg.machineArch() }},
	}},
}}

func (n *mibNode) leaf() bool { return n.children == nil }

func (n *mibNode) child(num int32) *mibNode {
	for _, c := range n.children {
		if c.num == num {
			return c
		}
	}
	return nil
}

// Hostname returns kern.hostname.
func (k *Kernel) Hostname() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.hostname
}

func (k *Kernel) setHostname(v string) {
	k.mu.Lock()
	k.hostname = v
	k.mu.Unlock()
}

// sysctlReq is the state of one __sysctl call.
type sysctlReq struct {
	oldv   uint64
	oldlen uint64 // in: the caller's buffer size; out: the value's size
	newv   uint64
	newlen uint64
}

// __sysctl(2): name, namelen, oldv, oldlenp, newv, newlen. As in NetBSD:
// *oldlenp is read first; namelen must be 1 to CTL_MAXNAME; the value's
// full size is stored back at oldlenp even when the call fails; a value
// larger than the buffer is copied as far as it fits and the call then
// answers ENOMEM.
func sysSysctl(c *call) sp.Result {
	namep, namelen, oldlenp := c.arg(0), c.arg(1), c.arg(3)
	sizeT := c.abi().SizeT.Size
	r := sysctlReq{oldv: c.arg(2), newv: c.arg(4), newlen: c.arg(5)}
	if oldlenp != 0 {
		b, e := c.copyIn(oldlenp, sizeT)
		if e != 0 {
			return fail(e)
		}
		r.oldlen = abi.Uint(c.abi().ByteOrder(), b, sizeT)
	}
	saved := r.oldlen
	if namelen < 1 || namelen > netbsd.CTL_MAXNAME {
		return fail(netbsd.EINVAL)
	}
	intSize := c.abi().Int.Size
	raw, e := c.copyIn(namep, int(namelen)*intSize)
	if e != 0 {
		return fail(e)
	}
	name := make([]int32, namelen)
	for i := range name {
		name[i] = int32(abi.Uint(c.abi().ByteOrder(), raw[i*intSize:], intSize))
	}
	e = c.sysctl(name, &r)
	if oldlenp != 0 {
		b := make([]byte, sizeT)
		abi.PutUint(c.abi().ByteOrder(), b, sizeT, r.oldlen)
		if e2 := c.copyOut(oldlenp, b); e == 0 {
			e = e2
		}
	}
	if e == 0 && r.oldv != 0 && saved < r.oldlen {
		e = netbsd.ENOMEM
	}
	return done(e)
}

// sysctl finds the node name names and reads (and perhaps writes) it.
func (c *call) sysctl(name []int32, r *sysctlReq) netbsd.Errno {
	node := mibRoot
	for i, num := range name {
		if node.leaf() {
			return netbsd.ENOTDIR
		}
		next := node.child(num)
		if next == nil {
			if i == len(name)-1 && num < 0 {
				// CTL_QUERY and the other meta-operations, which
				// kern does not serve.
				return netbsd.EOPNOTSUPP
			}
			return netbsd.ENOENT
		}
		node = next
	}
	if !node.leaf() {
		return netbsd.EINVAL // a node can be queried, not read
	}
	if r.newlen == 0 {
		r.newv = 0
	}
	if r.newv != 0 && (!c.p.creds().root() || node.setStr == nil) {
		return netbsd.EPERM
	}
	var val []byte
	if node.int != nil {
		val = c.cint(node.int(c.k))
	} else {
		val = append([]byte(node.str(c.k)), 0)
	}
	if r.oldv != 0 {
		if e := c.copyOut(r.oldv, val[:min(uint64(len(val)), r.oldlen)]); e != 0 {
			return e
		}
	}
	r.oldlen = uint64(len(val))
	if r.newv == 0 {
		return 0
	}
	// A new string may come without its NUL, unless it fills the
	// whole buffer.
	if r.newlen > netbsd.MAXHOSTNAMELEN {
		return netbsd.EINVAL
	}
	b, e := c.copyIn(r.newv, int(r.newlen))
	if e != 0 {
		return e
	}
	if b[len(b)-1] != 0 && len(b) == netbsd.MAXHOSTNAMELEN {
		return netbsd.EINVAL
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	node.setStr(c.k, string(b))
	return 0
}
