package matrix

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"
)

// cellClass says how a table cell looks.
type cellClass uint8

const (
	classNone    cellClass = iota // not in this report (another shard's)
	classFull                     // every scenario passed
	classPartial                  // some passed
	classZero                     // none passed
	classWrong                    // observed and predicted disagree
)

// tableCell is one client × server entry of a mode's table.
type tableCell struct {
	text  string // "17/17", "9/17!", "·"
	class cellClass
}

// table returns mode's client × server table, rows by client.
func (r *Report) table(mode string) [][]tableCell {
	total := len(r.Scenarios)
	cols := r.columns()
	rows := make([][]tableCell, len(r.ABIs))
	for i, cl := range r.ABIs {
		rows[i] = make([]tableCell, len(cols))
		for j, sv := range cols {
			c := r.Cell(mode, cl, sv)
			switch {
			case c == nil:
				rows[i][j] = tableCell{"·", classNone}
			case c.Disagreements > 0:
				rows[i][j] = tableCell{fmt.Sprintf("%d/%d!", c.Passed, total), classWrong}
			case c.Passed == total:
				rows[i][j] = tableCell{fmt.Sprintf("%d/%d", c.Passed, total), classFull}
			case c.Passed == 0:
				rows[i][j] = tableCell{fmt.Sprintf("%d/%d", c.Passed, total), classZero}
			default:
				rows[i][j] = tableCell{fmt.Sprintf("%d/%d", c.Passed, total), classPartial}
			}
		}
	}
	return rows
}

// TextOptions adjust the text format.
type TextOptions struct {
	// Color marks cells with ANSI colours: green when every scenario
	// passed, yellow for some, red for none, bold red where observation
	// and prediction disagree. Only for terminals that want it.
	Color bool
}

var ansi = map[cellClass]string{
	classFull: "\x1b[32m", classPartial: "\x1b[33m", classZero: "\x1b[31m", classWrong: "\x1b[1;31m",
}

// WriteText writes the report for people: a headline, a client × server
// table per mode, the disagreements and missing cells if any, and the
// verdict on the C code's claim.
func (r *Report) WriteText(w io.Writer, o TextOptions) error {
	bw := bufio.NewWriter(w)
	total := len(r.Scenarios)
	ext := ""
	if len(r.KernelExtensions) > 0 {
		ext = ", kernel extensions " + strings.Join(r.KernelExtensions, ", ") + " on"
	}
	if r.Server != "" {
		fmt.Fprintf(bw, "sprig matrix: %d client ABIs × %d modes against the %s server at %s = %d cells of %d scenarios, protocol %s\n",
			len(r.ABIs), len(r.Modes), strings.Join(r.Servers, ","), r.Server, r.cellCount(), total, r.Protocol)
	} else {
		fmt.Fprintf(bw, "sprig matrix: %d ABIs × %d modes = %d cells of %d scenarios, protocol %s%s\n",
			len(r.ABIs), len(r.Modes), r.cellCount(), total, r.Protocol, ext)
	}
	if r.Shard != "" {
		fmt.Fprintf(bw, "shard %s: %d cells\n", r.Shard, len(r.Cells))
	}
	switch {
	case !r.OK():
		fmt.Fprintf(bw, "%s (%.1f s, %d workers)\n", r.problems(), r.WallMillis/1000, r.Workers)
	case r.PredictionOnly:
		fmt.Fprintf(bw, "prediction only: nothing ran, every outcome shown is the predicted one\n")
	default:
		fmt.Fprintf(bw, "observed = predicted in all %d results (%.1f s, %d workers)\n", r.Summary.Results, r.WallMillis/1000, r.Workers)
	}
	r.writeEmulators(bw)
	for _, m := range r.Modes {
		fmt.Fprintf(bw, "\n%s: scenarios passed of %d, client ↓ server →%s\n", m, total, r.markNote())
		writeGrid(bw, r.ABIs, r.columns(), r.table(m), o.Color)
	}
	r.writeProblems(bw, "  ")
	if r.Server != "" {
		// The verdict on the C code's claim needs every pair of machines;
		// one outside server is one column of it.
		return bw.Flush()
	}
	v := r.Verdict()
	fmt.Fprintf(bw, "\nVerdict\n")
	for _, line := range wrap(Claim, 76) {
		fmt.Fprintf(bw, "  %s\n", line)
	}
	for _, f := range v.Findings {
		for i, line := range wrap(f, 74) {
			lead := "  - "
			if i > 0 {
				lead = "    "
			}
			fmt.Fprintf(bw, "%s%s\n", lead, line)
		}
	}
	if v.Conclusion != "" {
		for _, line := range wrap(v.Conclusion, 76) {
			fmt.Fprintf(bw, "  %s\n", line)
		}
	}
	return bw.Flush()
}

// cellCount is how many cells the configuration has.
func (r *Report) cellCount() int { return len(r.ABIs) * len(r.columns()) * len(r.Modes) }

// markNote explains the marks a table may hold.
func (r *Report) markNote() string {
	var notes []string
	if r.Summary.Disagreements > 0 {
		notes = append(notes, "! = observed ≠ predicted")
	}
	if len(r.Cells) < r.cellCount() {
		notes = append(notes, "· = not in this report")
	}
	if len(notes) == 0 {
		return ""
	}
	return " (" + strings.Join(notes, ", ") + ")"
}

// problems is the headline of a report that is not OK.
func (r *Report) problems() string {
	var p []string
	if n := r.Summary.Disagreements; n > 0 {
		p = append(p, fmt.Sprintf("%d DISAGREEMENTS between observed and predicted", n))
	}
	if n := len(r.Summary.MissingCells); n > 0 {
		p = append(p, fmt.Sprintf("%d CELLS MISSING", n))
	}
	return strings.Join(p, ", ")
}

// writeGrid writes a table with the ABIs as row and column heads,
// padding by the visible width so colours do not upset the columns.
func writeGrid(w io.Writer, abis, cols []string, rows [][]tableCell, color bool) {
	head := "client"
	width := utf8.RuneCountInString(head)
	for _, a := range abis {
		width = max(width, len(a))
	}
	colw := make([]int, len(cols))
	for j, a := range cols {
		colw[j] = len(a)
		for i := range rows {
			colw[j] = max(colw[j], utf8.RuneCountInString(rows[i][j].text))
		}
	}
	var b strings.Builder
	b.WriteString(pad(head, width))
	for j, a := range cols {
		b.WriteString("  " + pad(a, colw[j]))
	}
	fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	for i, a := range abis {
		b.Reset()
		b.WriteString(pad(a, width))
		for j, c := range rows[i] {
			text := pad(c.text, colw[j])
			if color && ansi[c.class] != "" {
				text = ansi[c.class] + c.text + "\x1b[0m" + strings.Repeat(" ", colw[j]-utf8.RuneCountInString(c.text))
			}
			b.WriteString("  " + text)
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

func pad(s string, n int) string {
	return s + strings.Repeat(" ", max(0, n-utf8.RuneCountInString(s)))
}

// writeProblems lists every disagreement and missing cell.
func (r *Report) writeProblems(w io.Writer, indent string) {
	if r.Summary.Disagreements > 0 {
		fmt.Fprintf(w, "\nDisagreements between observed and predicted:\n")
		for _, d := range r.Disagreements() {
			fmt.Fprintf(w, "%s%s\n", indent, d.Headline())
			for _, line := range d.Lines() {
				fmt.Fprintf(w, "%s    %s\n", indent, line)
			}
		}
	}
	if len(r.Summary.MissingCells) > 0 {
		fmt.Fprintf(w, "\nCells no report covers:\n")
		for _, k := range r.Summary.MissingCells {
			fmt.Fprintf(w, "%s%s\n", indent, k)
		}
	}
}

// writeEmulators describes the emulated column: what ran, with which
// tools, and what could not run here.
func (r *Report) writeEmulators(w io.Writer) {
	if len(r.Emulators) == 0 {
		return
	}
	s := r.Summary.Emulated
	if s == nil {
		s = &EmulatedSummary{}
	}
	ran := 0
	for _, e := range r.Emulators {
		if e.Missing == "" {
			ran++
		}
	}
	verdict := fmt.Sprintf("observed = predicted in all %d results", s.Results)
	if s.Disagreements > 0 || s.Errors > 0 {
		verdict = fmt.Sprintf("%d DISAGREEMENTS, %d errors in %d results", s.Disagreements, s.Errors, s.Results)
	}
	fmt.Fprintf(w, "\nemulated: %d runs by %d programs in %d cells, %s\n", s.Runs, ran, s.Cells, verdict)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, e := range r.Emulators {
		if e.Missing != "" {
			continue
		}
		ran := "native"
		if e.Emulator != "" {
			ran = e.Emulator
		}
		fmt.Fprintf(tw, "  %s\t%s\tspeaks %s\t%d cells\t%s\t%s\n", e.Program, e.Target, e.ABI, e.Cells, e.Compiler, ran)
	}
	tw.Flush()
	for _, e := range r.Emulators {
		if e.Missing != "" {
			fmt.Fprintf(w, "  not run: %s %s (speaks %s): %s\n", e.Program, e.Target, e.ABI, e.Missing)
		}
	}
}

// Disagreement is one result, or one guest or program, that the theory
// did not predict.
type Disagreement struct {
	Cell   *Cell
	Result *Result // nil for a guest or program that ended abnormally
	// Emulated is the run of the emulated column it is in, nil for the
	// guest's.
	Emulated *EmulatedRun
}

// Disagreements lists the report's disagreements in cell order.
func (r *Report) Disagreements() []Disagreement {
	var out []Disagreement
	for i := range r.Cells {
		c := &r.Cells[i]
		out = appendDisagreements(out, c, nil, c.GuestError, c.Results)
		for j := range c.Emulated {
			e := &c.Emulated[j]
			out = appendDisagreements(out, c, e, e.Error, e.Results)
		}
	}
	return out
}

// appendDisagreements adds those of one client's results in c.
func appendDisagreements(out []Disagreement, c *Cell, e *EmulatedRun, ended string, results []Result) []Disagreement {
	if endDisagrees(ended, results) {
		out = append(out, Disagreement{Cell: c, Emulated: e})
	}
	for j := range results {
		x := &results[j]
		if !x.Agrees {
			out = append(out, Disagreement{Cell: c, Result: x, Emulated: e})
		}
		if x.Child != nil && !x.Child.Agrees {
			out = append(out, Disagreement{Cell: c, Result: x.Child, Emulated: e})
		}
	}
	return out
}

// Headline says in one line what disagreed.
func (d Disagreement) Headline() string {
	where := fmt.Sprintf("%s %s→%s", d.Cell.Mode, d.Cell.Client, d.Cell.Server)
	who := "the guest"
	if d.Emulated != nil {
		where += " [emulated " + d.Emulated.Target + "]"
		who = "the program"
	}
	if d.Result == nil {
		return where + ": " + who + " ended abnormally"
	}
	x := d.Result
	return fmt.Sprintf("%s %s: observed %s, predicted %s (%s)", where, x.Scenario, x.Status, x.Predicted, x.Reason)
}

// Lines gives the observed side: the failure and its explanation.
func (d Disagreement) Lines() []string {
	if d.Result == nil {
		if d.Emulated != nil {
			return []string{d.Emulated.Error}
		}
		return []string{d.Cell.GuestError}
	}
	var out []string
	if d.Result.Detail != "" {
		what := d.Result.Detail
		if d.Result.Layer != "" {
			what = string(d.Result.Layer) + ": " + what
		}
		out = append(out, what)
	}
	if d.Result.Explanation != "" {
		out = append(out, d.Result.Explanation)
	}
	return out
}

// wrap breaks s into lines of at most width runes at spaces.
func wrap(s string, width int) []string {
	var out []string
	var line strings.Builder
	for _, word := range strings.Fields(s) {
		if line.Len() > 0 && utf8.RuneCountInString(line.String())+1+utf8.RuneCountInString(word) > width {
			out = append(out, line.String())
			line.Reset()
		}
		if line.Len() > 0 {
			line.WriteByte(' ')
		}
		line.WriteString(word)
	}
	if line.Len() > 0 {
		out = append(out, line.String())
	}
	return out
}
