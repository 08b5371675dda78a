package matrix

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rumpsprig/sprig/guest/guestapi"
)

// The JUnit XML shapes, as CI systems read them (GitLab, Jenkins, the
// GitHub test-report actions): testsuites of testsuite of testcase.

// JUnitSuites is the root element.
type JUnitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []JUnitSuite `xml:"testsuite"`
}

// JUnitSuite is one mode.
type JUnitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []JUnitProperty `xml:"properties>property,omitempty"`
	Cases      []JUnitCase     `xml:"testcase"`
}

// JUnitProperty is a name and value on a suite.
type JUnitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// JUnitCase is one scenario of one pair.
type JUnitCase struct {
	// Classname is "mode.client-server", Name the scenario.
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *JUnitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

// JUnitFailure marks a disagreement between observed and predicted.
type JUnitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// JUnit returns the report as JUnit XML: a testsuite per mode, a testcase
// per pair and scenario (classname "mode.client-server"). A testcase
// fails exactly when what happened is not what the theory predicted, so
// a scenario that fails as predicted (a native pair whose layouts
// differ) is a passing testcase, with the failure described in its
// system-out, and a scenario that passes against the prediction is a
// failing one. A guest that ended abnormally is one more failing
// testcase, named "(guest)".
func (r *Report) JUnit() *JUnitSuites {
	root := &JUnitSuites{Name: "sprig matrix", Time: seconds(r.WallMillis)}
	for _, m := range r.Modes {
		s := JUnitSuite{Name: m, Properties: []JUnitProperty{
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
				s.Cases = append(s.Cases, JUnitCase{Classname: class, Name: "(guest)", Time: "0",
					Failure: &JUnitFailure{Message: "the guest ended abnormally", Type: "guest", Text: c.GuestError}})
			}
			for j := range c.Results {
				x := &c.Results[j]
				s.Cases = append(s.Cases, junitCase(class, x))
				if x.Child != nil {
					s.Cases = append(s.Cases, junitCase(class, x.Child))
				}
			}
		}
		s.Time = seconds(ms)
		for _, tc := range s.Cases {
			s.Tests++
			if tc.Failure != nil {
				s.Failures++
			}
		}
		root.Tests += s.Tests
		root.Failures += s.Failures
		root.Suites = append(root.Suites, s)
	}
	return root
}

func junitCase(class string, x *Result) JUnitCase {
	tc := JUnitCase{Classname: class, Name: x.Scenario, Time: seconds(x.Millis)}
	observed := observedText(x)
	switch {
	case !x.Agrees:
		tc.Failure = &JUnitFailure{
			Message: fmt.Sprintf("observed %s, predicted %s", x.Status, x.Predicted),
			Type:    "disagreement",
			Text:    strings.TrimSpace(observed + "\npredicted " + string(x.Predicted) + ": " + x.Reason),
		}
	case x.Status == guestapi.Fail:
		tc.SystemOut = strings.TrimSpace("failed as predicted: " + x.Reason + "\n" + observed)
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

func seconds(ms float64) string { return fmt.Sprintf("%.3f", ms/1000) }

// WriteJUnit writes the report as JUnit XML (see JUnit).
func (r *Report) WriteJUnit(w io.Writer) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(r.JUnit()); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
