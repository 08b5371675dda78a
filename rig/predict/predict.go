// Package predict decides, from ABI descriptors alone, whether a sprig
// scenario works between a sysproxy client of one ABI and a server of
// another, and says why.
//
// The theory is the C code's: nothing on the wire is converted, so in
// native mode a scenario works exactly when every byte it depends on
// means the same to both sides. That is, the two ABIs share a byte order
// (the frame header's length is native-endian), and for everything the
// scenario's manifest entry (guestapi.Manifest) lists:
//
//   - each syscall's argument struct puts every argument's datum (the
//     bytes holding the value inside its slot) at the same offset with
//     the same size; the structs may differ in length, since missing
//     trailing bytes read as zero and extra ones are ignored;
//   - rsp_sysresp puts rsys_error and rsys_retval at the same offsets
//     with the same sizes (so results split over both retval words, as
//     lseek's off_t on 32-bit machines, agree as well);
//   - rsp_copydata, used by COPYIN, COPYINSTR and COPYOUT, agrees in
//     rcp_len, rcp_addr and its own size (COPYOUT data starts there);
//   - struct stat and struct dirent agree member by member and in size;
//     a size_t, the pointer ANONMMAP returns and handshake_fork agree in
//     size (C ints are 4 bytes on every supported ABI).
//
// In server-translates and client-translates modes one side lays out the
// frames in the other's ABI and converts typed data, and in proxy mode a
// sprig proxy between them does, so every scenario must pass. The rig compares these predictions with what it observes;
// a disagreement is a bug in sprig or in this theory, never noise.
//
// The package does not run anything; rig and rig/matrix do.
package predict

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/rig"
)

// Verdict is the theory's answer for one scenario of one pair in one mode.
type Verdict struct {
	Pass bool
	// Reason says why: the first layout the two ABIs disagree on for a
	// failure, what agrees or what translates for a pass.
	Reason string
}

// Difference is one layout two ABIs disagree on, seen from the first
// (client) to the second (server).
type Difference struct {
	// Kind says whether a frame or typed data differs.
	Kind Kind
	// Item names what differs: "byte order", "rsp_sysresp",
	// "sys_read_args", "struct stat", "size_t".
	Item string
	// Detail names the first differing member, as "st_ino at 12 vs 16"
	// (first ABI's value first); empty when the whole item differs.
	Detail string
}

func (d Difference) String() string {
	if d.Detail == "" {
		return d.Item
	}
	return d.Item + ": " + d.Detail
}

// Kind sorts checks into wire frames and the typed data inside them.
type Kind uint8

// Kinds of check.
const (
	// Frame checks are about frames: the header, syscall arguments,
	// rsp_sysresp and the bodies of the other messages.
	Frame Kind = iota + 1
	// Data checks are about typed data copied between memories.
	Data
)

// Check is one layout a scenario needs two ABIs to agree on.
type Check struct {
	// Name is the item ("rsp_sysresp", "sys_lseek_args", "struct stat").
	Name string
	Kind Kind
	// Syscall is the syscall whose arguments this checks, or zero.
	Syscall netbsd.Sysno
	diff    func(a, b *abi.Descriptor) string
}

// Diff returns how a and b differ in this item, or "" when they agree.
func (c Check) Diff(a, b *abi.Descriptor) string { return c.diff(a, b) }

// The checks every scenario needs, in the order a failure is reported:
// from the header inward, frames before data.
var (
	checkByteOrder = Check{Name: "byte order", Kind: Frame, diff: func(a, b *abi.Descriptor) string {
		if a.Endian == b.Endian {
			return ""
		}
		return fmt.Sprintf("%s vs %s-endian, so even the frame header's length is unreadable", a.Endian, b.Endian)
	}}
	checkSysresp = Check{Name: "rsp_sysresp", Kind: Frame, diff: func(a, b *abi.Descriptor) string {
		return diffLeaves(netbsd.LayoutsFor(a).Sysresp, netbsd.LayoutsFor(b).Sysresp, false)
	}}
	checkCopydata = Check{Name: "rsp_copydata", Kind: Frame, diff: func(a, b *abi.Descriptor) string {
		return diffLeaves(netbsd.LayoutsFor(a).Copydata, netbsd.LayoutsFor(b).Copydata, true)
	}}
	checkAnonMmap = Check{Name: "ANONMMAP", Kind: Frame, diff: func(a, b *abi.Descriptor) string {
		if d := diffScalar("size_t", a.SizeT, b.SizeT); d != "" {
			return "request " + d
		}
		if d := diffScalar("void *", a.Pointer, b.Pointer); d != "" {
			return "reply " + d
		}
		return ""
	}}
	checkHandshakeFork = Check{Name: "handshake_fork", Kind: Frame, diff: func(a, b *abi.Descriptor) string {
		return diffLeaves(netbsd.LayoutsFor(a).HandshakeFork, netbsd.LayoutsFor(b).HandshakeFork, true)
	}}
	checkStat = Check{Name: "struct stat", Kind: Data, diff: func(a, b *abi.Descriptor) string {
		return diffLeaves(netbsd.LayoutsFor(a).Stat, netbsd.LayoutsFor(b).Stat, true)
	}}
	checkDirent = Check{Name: "struct dirent", Kind: Data, diff: func(a, b *abi.Descriptor) string {
		return diffLeaves(netbsd.LayoutsFor(a).Dirent, netbsd.LayoutsFor(b).Dirent, true)
	}}
	checkSizeT = Check{Name: "size_t", Kind: Data, diff: func(a, b *abi.Descriptor) string {
		return diffScalar("", a.SizeT, b.SizeT)
	}}
	checkInt = Check{Name: "int", Kind: Data, diff: func(a, b *abi.Descriptor) string {
		return diffScalar("", a.Int, b.Int)
	}}
	checkTmpfsArgs = Check{Name: "struct tmpfs_args", Kind: Data, diff: func(a, b *abi.Descriptor) string {
		return diffLeaves(netbsd.LayoutsFor(a).TmpfsArgs, netbsd.LayoutsFor(b).TmpfsArgs, true)
	}}
)

// argsCheck compares the argument struct of syscall n.
func argsCheck(n netbsd.Sysno) Check {
	return Check{Name: "sys_" + n.String() + "_args", Kind: Frame, Syscall: n, diff: func(a, b *abi.Descriptor) string {
		return diffArgs(netbsd.LayoutsFor(a).Args(n), netbsd.LayoutsFor(b).Args(n))
	}}
}

// Checks returns what scenario s, and the child it starts, need two ABIs
// to agree on, each item once, in reporting order.
func Checks(s guestapi.Scenario) []Check {
	all := []guestapi.Scenario{s}
	if s.Child != "" {
		if c, ok := guestapi.LookupScenario(s.Child); ok {
			all = append(all, c)
		}
	}
	var sys []netbsd.Sysno
	msgs := map[guestapi.Message]bool{}
	data := map[guestapi.Data]bool{}
	for _, x := range all {
		sys = append(sys, x.Syscalls...)
		for _, m := range x.Messages {
			msgs[m] = true
		}
		for _, d := range x.Data {
			data[d] = true
		}
	}
	slices.Sort(sys)
	sys = slices.Compact(sys)

	out := []Check{checkByteOrder}
	// Results in one or both retval words, off_t split over them or a
	// pointer in one, are all rsp_sysresp's business.
	if len(sys) > 0 {
		out = append(out, checkSysresp)
	}
	for _, n := range sys {
		if netbsd.Lookup(n) != nil && len(netbsd.Lookup(n).Args) > 0 {
			out = append(out, argsCheck(n))
		}
	}
	if msgs[guestapi.MsgCopyIn] || msgs[guestapi.MsgCopyInStr] || msgs[guestapi.MsgCopyOut] {
		out = append(out, checkCopydata)
	}
	if msgs[guestapi.MsgAnonMmap] {
		out = append(out, checkAnonMmap)
	}
	if msgs[guestapi.MsgFork] {
		out = append(out, checkHandshakeFork)
	}
	if data[guestapi.DataStat] {
		out = append(out, checkStat)
	}
	if data[guestapi.DataDirent] {
		out = append(out, checkDirent)
	}
	if data[guestapi.DataSizeT] {
		out = append(out, checkSizeT)
	}
	if data[guestapi.DataInts] {
		out = append(out, checkInt)
	}
	if data[guestapi.DataTmpfsArgs] {
		out = append(out, checkTmpfsArgs)
	}
	return out
}

// Scenario predicts scenario s for a client of ABI client against a
// server of ABI server in mode.
func Scenario(client, server *abi.Descriptor, mode rig.Mode, s guestapi.Scenario) Verdict {
	switch mode {
	case rig.ModeProxy:
		return Verdict{Pass: true, Reason: "the proxy translates every frame and the typed data in it between the two ABIs"}
	case rig.ModeServerTranslates:
		return Verdict{Pass: true, Reason: "the server lays out this client's frames in the client's ABI"}
	case rig.ModeClientTranslates:
		return Verdict{Pass: true, Reason: "the client lays out its frames in the server's ABI and converts typed data"}
	}
	checks := Checks(s)
	for _, c := range checks {
		if d := c.diff(client, server); d != "" {
			return Verdict{Reason: Difference{Item: c.Name, Detail: d}.String()}
		}
	}
	return Verdict{Pass: true, Reason: "both ABIs agree on " + describeChecks(checks)}
}

// ScenarioByName is Scenario for a manifest entry named name; false when
// the manifest has none.
func ScenarioByName(client, server *abi.Descriptor, mode rig.Mode, name string) (Verdict, bool) {
	s, ok := guestapi.LookupScenario(name)
	if !ok {
		return Verdict{}, false
	}
	return Scenario(client, server, mode, s), true
}

// describeChecks names checked items compactly: "byte order,
// rsp_sysresp, the arguments of 7 syscalls, rsp_copydata and struct stat".
func describeChecks(cs []Check) string {
	var parts []string
	args := 0
	for _, c := range cs {
		if c.Syscall != 0 {
			args++
			continue
		}
		parts = append(parts, c.Name)
	}
	if args > 0 {
		what := fmt.Sprintf("the arguments of %d syscalls", args)
		if args == 1 {
			what = "the arguments of 1 syscall"
		}
		// After rsp_sysresp, before the message bodies.
		i := slices.IndexFunc(parts, func(p string) bool { return p == checkSysresp.Name })
		parts = slices.Insert(parts, i+1, what)
	}
	return joinAnd(parts)
}

func joinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return "nothing"
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// Compare returns every item the manifest's scenarios use on which a and
// b differ, in reporting order. A byte-order difference is returned
// alone: nothing else can be read across it.
func Compare(a, b *abi.Descriptor) []Difference {
	if d := checkByteOrder.diff(a, b); d != "" {
		return []Difference{{Kind: Frame, Item: checkByteOrder.Name, Detail: d}}
	}
	var out []Difference
	for _, c := range AllChecks() {
		if d := c.diff(a, b); d != "" {
			out = append(out, Difference{Kind: c.Kind, Item: c.Name, Detail: d})
		}
	}
	return out
}

// AllChecks returns the union of Checks over the whole manifest, in
// reporting order.
func AllChecks() []Check {
	var u guestapi.Scenario
	for _, s := range guestapi.Manifest() {
		u.Syscalls = append(u.Syscalls, s.Syscalls...)
		u.Messages = append(u.Messages, s.Messages...)
		u.Data = append(u.Data, s.Data...)
	}
	return Checks(u)
}

// Identical reports whether a and b agree on everything the manifest
// uses, so every scenario works between them unmodified.
func Identical(a, b *abi.Descriptor) bool { return len(Compare(a, b)) == 0 }
