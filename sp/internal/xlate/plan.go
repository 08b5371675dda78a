package xlate

import (
	"fmt"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
)

// plan is how one syscall translates for a pair, worked out once from
// netbsd's pointee table.
type plan struct {
	sc    *netbsd.Syscall
	args  []argPlan      // one per value: PAD arguments are not values
	index map[string]int // value index by argument name
	bad   string         // why the whole syscall cannot be translated
	// mem: Begin reads the client's memory (a sysctl MIB, a file system
	// type, a length behind a pointer), so it may block on a remote one.
	mem bool
}

// argPlan is one argument value.
type argPlan struct {
	name string
	pt   netbsd.Pointee
	el   *elem // PointsData
	// The server's datum: how wide a value may be there.
	size   int
	signed bool
	// Value indexes of the arguments the pointee names; -1 for none.
	lenArg, countArg, lenPtr int
}

func (p *Pair) plan(num netbsd.Sysno) *plan {
	if pl, ok := p.plans.Load(num); ok {
		return pl.(*plan)
	}
	pl := p.makePlan(num)
	actual, _ := p.plans.LoadOrStore(num, pl)
	return actual.(*plan)
}

func (p *Pair) makePlan(num netbsd.Sysno) *plan {
	sc := netbsd.Lookup(num)
	if sc == nil {
		return &plan{bad: "sprig does not describe this syscall"}
	}
	pl := &plan{sc: sc, index: map[string]int{}}
	sa := p.sl.Args(num)
	index := pl.index
	pts := sc.Pointees()
	vi := 0
	for i, f := range sc.Args {
		if f.Type == abi.Pad {
			continue
		}
		slot := sa.Slots[i]
		pl.args = append(pl.args, argPlan{name: f.Name, pt: pts[i], size: slot.Datum.Size,
			signed: f.Type.Signed(p.Server), lenArg: -1, countArg: -1, lenPtr: -1})
		index[f.Name] = vi
		vi++
	}
	ref := func(name string) int {
		if name == "" {
			return -1
		}
		if i, ok := index[name]; ok {
			return i
		}
		if pl.bad == "" {
			pl.bad = fmt.Sprintf("the pointee table names argument %q, which %s does not have", name, sc.Name)
		}
		return -1
	}
	for i := range pl.args {
		a := &pl.args[i]
		a.lenArg, a.countArg, a.lenPtr = ref(a.pt.LenArg), ref(a.pt.CountArg), ref(a.pt.LenPtr)
		switch a.pt.Depends {
		case netbsd.DependsSysctl, netbsd.DependsMount:
			pl.mem = true
		}
		if a.lenPtr >= 0 && p.narrow {
			pl.mem = true
		}
		switch a.pt.Points {
		case netbsd.PointsData:
			a.el = p.elem(a.pt.Elem)
		case netbsd.PointsDirents:
			if !p.direntsAgree() {
				a.pt.Points = netbsd.PointsUnknown
			}
		}
	}
	return pl
}

// direntsAgree reports whether struct dirent's fixed fields sit at the
// same offsets on both sides, so records keep their lengths and only
// their integers' byte order changes. It holds for every built-in ABI.
func (p *Pair) direntsAgree() bool {
	return sameLeaves(p.cl.Dirent.Leaves(), p.sl.Dirent.Leaves())
}

// ReadsMemory reports whether Begin reads the client's memory for
// syscall num (a sysctl MIB, a file system type, a length behind a
// pointer), so that a caller whose memory is remote runs it where it may
// block.
func (p *Pair) ReadsMemory(num netbsd.Sysno) bool {
	return !p.same && p.plan(num).mem
}
