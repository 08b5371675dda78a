package matrix

import (
	"fmt"
	"github.com/rumpsprig/sprig/rig"
	"slices"
	"strings"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/rig/predict"
)

// Claim quotes NetBSD's C sysproxy code on running client and server on
// different machines.
const Claim = `NetBSD's C implementation says client and server "must share the same ABI" and that it "even *might* work correctly from one hardware architecture to another".`

// Verdict is what a report says about that claim: which pairs of
// different ABIs work unmodified, which only with translation, and why.
type Verdict struct {
	// Findings are the observations, one sentence each, most favourable
	// first.
	Findings []string
	// Conclusion answers the claim in a sentence or two.
	Conclusion string
}

// group is a set of pairs that the verdict describes together.
type group struct {
	a, b     []string // the two classes of ABIs
	min, max int      // passes per cell, over both directions
	failing  []string // scenarios failing in some cell
	diffs    []predict.Difference
}

// Verdict derives the verdict from the report's native cells (what works
// unmodified), its translating cells and the layouts of its ABIs. When
// some ABI's descriptor is unknown (a report read from JSON that names a
// user descriptor), pairs are described by their numbers alone.
func (r *Report) Verdict() Verdict {
	var v Verdict
	total := len(r.Scenarios)
	descs := map[string]*abi.Descriptor{}
	for _, n := range r.ABIs {
		if d := r.descs[n]; d != nil {
			descs[n] = d
		} else if d, err := abi.Lookup(n); err == nil && d.Name == n {
			descs[n] = d
		}
	}
	theory := len(descs) == len(r.ABIs)
	native := slices.Contains(r.Modes, rig.ModeNative.String())

	var full, partly, none int // unordered pairs of different ABIs
	if native && len(r.ABIs) > 1 {
		classes := r.classes(descs, theory)
		var same, partial, broken []group
		var endian group
		for i, ca := range classes {
			if len(ca) > 1 {
				same = append(same, r.group(ca, ca, nil))
				full += len(ca) * (len(ca) - 1) / 2
			}
			for _, cb := range classes[i+1:] {
				var diffs []predict.Difference
				if theory {
					diffs = predict.Compare(descs[ca[0]], descs[cb[0]])
				}
				g := r.group(ca, cb, diffs)
				n := len(ca) * len(cb)
				switch {
				case theory && diffs[0].Item == "byte order":
					endian = joinGroups(endian, g)
					none += n
				case theory && diffs[0].Kind == predict.Data, !theory && g.max > 0:
					partial = append(partial, g)
					partly += n
				default:
					broken = append(broken, g)
					none += n
				}
			}
		}
		if len(same) > 0 {
			var names []string
			var all group
			for _, g := range same {
				names = append(names, strings.Join(g.a, " ↔ "))
				all = joinGroups(all, g)
			}
			what := "identical in every frame and struct the scenarios use"
			if !theory {
				what = "every scenario passed"
			}
			v.Findings = append(v.Findings, fmt.Sprintf("Unmodified across architectures: %s (%s both ways): %s.",
				strings.Join(names, "; "), score(all, total), what))
		}
		for _, g := range partial {
			v.Findings = append(v.Findings, fmt.Sprintf("Partly: %s ↔ %s (%s both ways): %s.",
				className(g.a), className(g.b), score(g, total), explainPartial(g, total)))
		}
		for _, g := range broken {
			v.Findings = append(v.Findings, fmt.Sprintf("Not at all: %s ↔ %s (%s%s): %s.",
				className(g.a), className(g.b), score(g, total), passingNote(g, r, total), explainBroken(g)))
		}
		if len(endian.a) > 0 {
			v.Findings = append(v.Findings, fmt.Sprintf("Not at all: any little-endian ↔ big-endian pair (%s): the byte order differs, so even the frame header's length is unreadable.",
				score(endian, total)))
		}
		if self := r.selfGroup(); len(self.a) > 0 {
			v.Findings = append(v.Findings, fmt.Sprintf("Each ABI with itself: %s.", score(self, total)))
		}
	}
	var translated []string
	allTranslate := true
	for _, m := range []rig.Mode{rig.ModeServerTranslates, rig.ModeClientTranslates, rig.ModeProxy} {
		if !slices.Contains(r.Modes, m.String()) {
			continue
		}
		cells, ok := r.fullCells(m.String(), total)
		if ok == cells {
			translated = append(translated, m.String())
		} else {
			allTranslate = false
			v.Findings = append(v.Findings, fmt.Sprintf("With %s: %d of %d cells pass every scenario.", m, ok, cells))
		}
	}
	if len(translated) > 0 {
		v.Findings = append(v.Findings, fmt.Sprintf("With translation (%s): every pair passes %d/%d.", strings.Join(translated, ", "), total, total))
	}
	v.Conclusion = conclusion(native && len(r.ABIs) > 1, full, partly, none, len(translated) > 0 && allTranslate)
	return v
}

// classes partitions the ABIs into sets whose layouts are identical in
// everything the scenarios use (by theory), or, without the theory,
// whose native cells pass everything both ways.
func (r *Report) classes(descs map[string]*abi.Descriptor, theory bool) [][]string {
	total := len(r.Scenarios)
	var out [][]string
	for _, n := range r.ABIs {
		placed := false
		for i, c := range out {
			same := false
			if theory {
				same = predict.Identical(descs[c[0]], descs[n])
			} else {
				a, b := r.Cell("native", c[0], n), r.Cell("native", n, c[0])
				same = a != nil && b != nil && a.Passed == total && b.Passed == total
			}
			if same {
				out[i] = append(out[i], n)
				placed = true
				break
			}
		}
		if !placed {
			out = append(out, []string{n})
		}
	}
	return out
}

// group collects the native cells between two classes, both ways (within
// one class when a and b are the same).
func (r *Report) group(a, b []string, diffs []predict.Difference) group {
	g := group{a: a, b: b, min: -1, diffs: diffs}
	failing := map[string]bool{}
	for _, x := range a {
		for _, y := range b {
			if x == y {
				continue
			}
			for _, c := range []*Cell{r.Cell("native", x, y), r.Cell("native", y, x)} {
				if c == nil {
					continue
				}
				g.add(c.Passed)
				for _, res := range c.Results {
					if res.Status != guestapi.Pass {
						failing[res.Scenario] = true
					}
				}
			}
		}
	}
	for _, s := range r.Scenarios {
		if failing[s.Name] {
			g.failing = append(g.failing, s.Name)
		}
	}
	return g
}

// selfGroup collects the native cells of each ABI with itself.
func (r *Report) selfGroup() group {
	g := group{min: -1}
	for _, n := range r.ABIs {
		if c := r.Cell("native", n, n); c != nil {
			g.a = append(g.a, n)
			g.add(c.Passed)
		}
	}
	return g
}

func (g *group) add(passed int) {
	if g.min < 0 || passed < g.min {
		g.min = passed
	}
	g.max = max(g.max, passed)
}

// joinGroups joins g into acc, keeping the pass range and the failing
// scenarios.
func joinGroups(acc, g group) group {
	if len(acc.a) == 0 {
		return g
	}
	acc.a = append(slices.Clone(acc.a), g.a...)
	if g.min >= 0 && (acc.min < 0 || g.min < acc.min) {
		acc.min = g.min
	}
	acc.max = max(acc.max, g.max)
	for _, f := range g.failing {
		if !slices.Contains(acc.failing, f) {
			acc.failing = append(acc.failing, f)
		}
	}
	return acc
}

// fullCells counts the cells a mode should have and those present that
// pass every scenario with a guest that ended normally.
func (r *Report) fullCells(mode string, total int) (cells, full int) {
	for i := range r.Cells {
		if c := &r.Cells[i]; c.Mode == mode && c.Passed == total && c.GuestError == "" {
			full++
		}
	}
	return len(r.ABIs) * len(r.ABIs), full
}

// score formats a pass range: "10/17", or "9–10/17" when cells differ.
func score(g group, total int) string {
	if g.min < 0 {
		return fmt.Sprintf("?/%d", total)
	}
	if g.min == g.max {
		return fmt.Sprintf("%d/%d", g.min, total)
	}
	return fmt.Sprintf("%d–%d/%d", g.min, g.max, total)
}

func className(c []string) string { return strings.Join(c, "/") }

// explainPartial says what agrees and what does not for a pair whose
// frames agree.
func explainPartial(g group, total int) string {
	var data []string
	for _, d := range g.diffs {
		data = append(data, fmt.Sprintf("%s (%s)", d.Item, d.Detail))
	}
	msg := "every frame agrees (syscall arguments, rsp_sysresp, rsp_copydata)"
	if len(data) > 0 {
		msg += ", but " + joinAnd(data) + " differ"
		if len(data) == 1 {
			msg = strings.TrimSuffix(msg, " differ") + " differs"
		}
	}
	if n := len(g.failing); n > 0 && n < total {
		verb := "fail"
		if n == 1 {
			verb = "fails"
		}
		msg += fmt.Sprintf(", so %s %s", joinAnd(g.failing), verb)
	}
	return msg
}

// explainBroken names the first difference and counts the rest.
func explainBroken(g group) string {
	if len(g.diffs) == 0 {
		return "the scenarios that make syscalls fail"
	}
	msg := g.diffs[0].String()
	if n := len(g.diffs) - 1; n > 0 {
		args := 0
		var rest []string
		for _, d := range g.diffs[1:] {
			if strings.HasPrefix(d.Item, "sys_") {
				args++
			} else {
				rest = append(rest, d.Item)
			}
		}
		if args > 0 {
			rest = append([]string{fmt.Sprintf("%d syscall argument structs", args)}, rest...)
		}
		msg += "; also " + joinAnd(rest)
	}
	return msg
}

// passingNote names the scenarios that still pass in a mostly broken
// group (the handshake, which sends no syscall).
func passingNote(g group, r *Report, total int) string {
	if g.max == 0 || g.max == total {
		return ""
	}
	var passing []string
	for _, s := range r.Scenarios {
		if !slices.Contains(g.failing, s.Name) {
			passing = append(passing, s.Name)
		}
	}
	if len(passing) == 0 {
		return ""
	}
	return ": only " + joinAnd(passing) + " passes"
}

func joinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// conclusion answers the claim from the pair counts.
func conclusion(native bool, full, partly, none int, translationWorks bool) string {
	var parts []string
	if native {
		pairs := full + partly + none
		counts := []string{fmt.Sprintf("%s unmodified", works(full))}
		if partly > 0 {
			counts = append(counts, fmt.Sprintf("%d only for programs that avoid the structs that differ", partly))
		}
		if none > 0 {
			counts = append(counts, fmt.Sprintf("%d not at all", none))
		}
		what := fmt.Sprintf("Of the %d pairs of different ABIs, %s.", pairs, joinAnd(counts))
		if full > 0 {
			what = "Sharing an ABI is sufficient but not necessary: what must match is the byte layout of the frames and structs a program uses. " + what
		}
		parts = append(parts, what)
	}
	if translationWorks {
		parts = append(parts, "With sprig translating on either side, every pair works.")
	}
	return strings.Join(parts, " ")
}

// works says how many pairs work: "none works", "1 works", "5 work".
func works(n int) string {
	switch n {
	case 0:
		return "none works"
	case 1:
		return "1 works"
	}
	return fmt.Sprintf("%d work", n)
}
