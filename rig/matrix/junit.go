package matrix

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/internal/junit"
)

// JUnit returns the report as JUnit XML: a testsuite per mode, a testcase
// per pair and scenario (classname "mode.client-server"). A testcase
// fails exactly when what happened is not what the theory predicted, so
// a scenario that fails as predicted (a native pair whose layouts
// differ) is a passing testcase, with the failure described in its
// system-out, and a scenario that passes against the prediction is a
// failing one. A guest that ended abnormally is one more failing
// testcase, named "(guest)". The emulated column's runs are testcases
// of classname "mode.client-server.emulated-TARGET".
func (r *Report) JUnit() *junit.Suites {
	root := &junit.Suites{Name: "sprig matrix", Time: junit.Seconds(r.WallMillis)}
	for _, m := range r.Modes {
		s := junit.Suite{Name: m, Properties: []junit.Property{
			{Name: "sprig_version", Value: r.SprigVersion}, {Name: "protocol", Value: r.Protocol},
		}}
		if !r.Start.IsZero() {
			s.Timestamp = r.Start.UTC().Format(time.RFC3339)
		}
		var ms float64
		for i := range r.Cells {
			c := &r.Cells[i]
			if c.Mode != m {
				continue
			}
			ms += c.Millis
			class := fmt.Sprintf("%s.%s-%s", c.Mode, c.Client, c.Server)
			if c.GuestError != "" {
				s.Cases = append(s.Cases, junit.Case{Classname: class, Name: "(guest)", Time: "0",
					Failure: &junit.Problem{Message: "the guest ended abnormally", Type: "guest", Text: c.GuestError}})
			}
			s.Cases = appendJUnitCases(s.Cases, class, c.Results)
			for _, e := range c.Emulated {
				eclass := class + ".emulated-" + e.Target
				if endDisagrees(e.Error, e.Results) {
					s.Cases = append(s.Cases, junit.Case{Classname: eclass, Name: "(program)", Time: "0",
						Failure: &junit.Problem{Message: "the program ended abnormally", Type: "program", Text: e.Error}})
				}
				s.Cases = appendJUnitCases(s.Cases, eclass, e.Results)
			}
		}
		s.Time = junit.Seconds(ms)
		root.Add(s)
	}
	return root
}

// appendJUnitCases adds a testcase per result, a child's after its
// parent's.
func appendJUnitCases(cases []junit.Case, class string, results []Result) []junit.Case {
	for j := range results {
		x := &results[j]
		cases = append(cases, junitCase(class, x))
		if x.Child != nil {
			cases = append(cases, junitCase(class, x.Child))
		}
	}
	return cases
}

func junitCase(class string, x *Result) junit.Case {
	tc := junit.Case{Classname: class, Name: x.Scenario, Time: junit.Seconds(x.Millis)}
	observed := observedText(x)
	switch {
	case !x.Agrees:
		tc.Failure = &junit.Problem{
			Message: fmt.Sprintf("observed %s, predicted %s", x.Status, x.Predicted),
			Type:    "disagreement",
			Text:    strings.TrimSpace(observed + "\npredicted " + string(x.Predicted) + ": " + x.Reason),
		}
	case x.Status == guestapi.Fail:
		tc.SystemOut = strings.TrimSpace("failed as predicted: " + x.Reason + "\n" + observed)
	case x.Status == guestapi.Error:
		tc.SystemOut = strings.TrimSpace("could not be judged (an error of the environment, not a verdict):\n" + observed)
	}
	return tc
}

// observedText is a failure's field-level account, both sides.
func observedText(x *Result) string {
	var b strings.Builder
	if x.Detail != "" {
		b.WriteString(string(x.Layer))
		if x.Layer != "" {
			b.WriteString(": ")
		}
		b.WriteString(x.Detail + "\n")
	}
	if x.Explanation != "" {
		b.WriteString(x.Explanation + "\n")
	}
	return b.String()
}

// WriteJUnit writes the report as JUnit XML (see JUnit).
func (r *Report) WriteJUnit(w io.Writer) error { return r.JUnit().Write(w) }
