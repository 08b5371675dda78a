package rig

import (
	"fmt"
	"strings"

	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/internal/junit"
)

// JUnit returns the run as JUnit XML: one testsuite, one testcase per
// scenario (classname "mode.client-server"). A failed scenario is a
// failing testcase with its explanation, trace and what NetBSD does
// there; an unsupported one is skipped with the reason; an error of the
// environment is an error.
func (r *Report) JUnit() *junit.Suites {
	name := fmt.Sprintf("sprig run %s→%s %s", r.Client, r.Server, r.Mode)
	root := &junit.Suites{Name: name, Time: junit.Seconds(float64(r.Elapsed.Microseconds()) / 1000)}
	s := junit.Suite{Name: name, Time: root.Time, Properties: []junit.Property{{Name: "protocol", Value: r.Version}}}
	if r.URL != "" {
		s.Properties = append(s.Properties, junit.Property{Name: "server", Value: r.URL})
	}
	class := fmt.Sprintf("%s.%s-%s", r.Mode, r.Client, r.Server)
	for _, x := range r.Results {
		tc := junit.Case{Classname: class, Name: x.Scenario, Time: junit.Seconds(x.Millis)}
		switch x.Status {
		case guestapi.Pass:
		case guestapi.Fail:
			tc.Failure = &junit.Problem{Message: string(x.Layer) + ": " + x.Detail, Type: string(x.Layer), Text: x.FailureText()}
		case guestapi.Unsupported:
			tc.Skipped = &junit.Skipped{Message: "unsupported: " + x.Detail}
		default:
			tc.Error = &junit.Problem{Message: x.Detail, Type: string(x.Status), Text: x.FailureText()}
		}
		s.Cases = append(s.Cases, tc)
	}
	root.Add(s)
	return root
}

// FailureText is a failure's whole account, for reports: the detail, the
// server-side explanation, the client's last syscalls and what NetBSD
// does in this scenario.
func (x *Result) FailureText() string {
	var b strings.Builder
	b.WriteString(x.Detail + "\n")
	if x.Explanation != "" {
		b.WriteString(x.Explanation + "\n")
	}
	if len(x.Trace) > 0 {
		b.WriteString("last syscalls:\n")
		for _, l := range x.Trace {
			b.WriteString("  " + l + "\n")
		}
	}
	if h := NetBSDHint(x.Scenario); h != "" {
		b.WriteString("NetBSD: " + h + "\n")
	}
	return strings.TrimSpace(b.String())
}

// NetBSDHint says what NetBSD's rump_server does in scenario name, or "".
func NetBSDHint(name string) string {
	s, _ := guestapi.LookupScenario(name)
	return s.NetBSD
}
