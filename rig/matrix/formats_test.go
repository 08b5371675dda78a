package matrix

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/rig"
)

func sampleConfig() Config {
	return Config{
		ABIs:      []*abi.Descriptor{abi.MustLookup("amd64"), abi.MustLookup("i386"), abi.MustLookup("arm")},
		Modes:     []rig.Mode{rig.ModeNative, rig.ModeServerTranslates},
		Scenarios: []string{"handshake", "getpid", "stat", "fork"},
	}
}

// sampleReport is the predicted report of sampleConfig with three cells
// replaced by observed ones: native i386→arm with a child result and a
// stat that wrongly passes, native arm→i386 as predicted, and
// server-translates amd64→arm whose guest crashed.
func sampleReport(t *testing.T) *Report {
	t.Helper()
	cfg := sampleConfig()
	r, err := Predicted(cfg)
	require.NoError(t, err)
	r.PredictionOnly = false
	r.Start = time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)
	r.End = r.Start.Add(1500 * time.Millisecond)
	r.WallMillis, r.Workers = 1500, 4
	names := cfg.scenarioNames()
	observed := map[string]*Cell{
		"native i386 arm": evaluate(key(rig.ModeNative, "i386", "arm"), names, &rig.Report{Results: []rig.Result{
			res("handshake", guestapi.Pass), res("getpid", guestapi.Pass), res("stat", guestapi.Pass),
			withChild(res("fork", guestapi.Pass), res("fork-child", guestapi.Pass))}}, false),
		"native arm i386": evaluate(key(rig.ModeNative, "arm", "i386"), names, &rig.Report{Results: []rig.Result{
			res("handshake", guestapi.Pass), res("getpid", guestapi.Pass), res("stat", guestapi.Fail),
			withChild(res("fork", guestapi.Pass), res("fork-child", guestapi.Pass))}}, false),
		"server-translates amd64 arm": evaluate(key(rig.ModeServerTranslates, "amd64", "arm"), names, &rig.Report{
			Results: []rig.Result{res("handshake", guestapi.Pass), res("getpid", guestapi.Pass), res("stat", guestapi.Pass), res("fork", guestapi.Pass),
				{Scenario: rig.GuestScenario, Status: guestapi.Fail, Layer: guestapi.LayerGuest, Detail: "guest ended with exit code 3"}}}, false),
	}
	for i := range r.Cells {
		if c, ok := observed[r.Cells[i].Key()]; ok {
			r.Cells[i] = *c
		}
	}
	r.summarize()
	require.Equal(t, 2, r.Summary.Disagreements, "the wrongly passing stat and the crashed guest")
	return r
}

// The documented JSON schema (docs/matrix-json.md), written down again
// independently of Report so that a change to either shows here.
type schemaReport struct {
	SchemaVersion  *int             `json:"schema_version"`
	SprigVersion   *string          `json:"sprig_version"`
	Protocol       *string          `json:"protocol"`
	ABIs           []string         `json:"abis"`
	Modes          []string         `json:"modes"`
	Scenarios      []schemaScenario `json:"scenarios"`
	Shard          string           `json:"shard"`
	PredictionOnly bool             `json:"prediction_only"`
	Interrupted    bool             `json:"interrupted"`
	Start          *time.Time       `json:"start"`
	End            *time.Time       `json:"end"`
	WallMillis     *float64         `json:"wall_ms"`
	Workers        *int             `json:"workers"`
	Cells          []schemaCell     `json:"cells"`
	Summary        *schemaSummary   `json:"summary"`
}

type schemaScenario struct {
	Name    *string `json:"name"`
	Summary *string `json:"summary"`
}

type schemaCell struct {
	Mode          *string        `json:"mode"`
	Client        *string        `json:"client"`
	Server        *string        `json:"server"`
	Passed        *int           `json:"passed"`
	Disagreements *int           `json:"disagreements"`
	Errors        *int           `json:"errors"`
	Retried       bool           `json:"retried"`
	GuestError    string         `json:"guest_error"`
	Millis        *float64       `json:"ms"`
	Results       []schemaResult `json:"results"`
}

type schemaResult struct {
	Scenario    *string       `json:"scenario"`
	Status      *string       `json:"status"`
	Predicted   *string       `json:"predicted"`
	Agrees      *bool         `json:"agrees"`
	Reason      *string       `json:"reason"`
	Layer       string        `json:"layer"`
	Detail      string        `json:"detail"`
	Explanation string        `json:"explanation"`
	Checks      *int          `json:"checks"`
	Millis      *float64      `json:"ms"`
	Child       *schemaResult `json:"child"`
}

type schemaSummary struct {
	Cells         *int     `json:"cells"`
	Results       *int     `json:"results"`
	Passed        *int     `json:"passed"`
	Failed        *int     `json:"failed"`
	Unsupported   *int     `json:"unsupported"`
	Errors        *int     `json:"errors"`
	Disagreements *int     `json:"disagreements"`
	MissingCells  []string `json:"missing_cells"`
}

// required fails for every required key (a nil pointer or slice) that is
// missing.
func required(t *testing.T, where string, fields map[string]bool) {
	t.Helper()
	for name, present := range fields {
		assert.True(t, present, "%s: required key %q is missing", where, name)
	}
}

func checkSchemaResult(t *testing.T, where string, x schemaResult) {
	required(t, where, map[string]bool{"scenario": x.Scenario != nil, "status": x.Status != nil, "predicted": x.Predicted != nil,
		"agrees": x.Agrees != nil, "reason": x.Reason != nil, "checks": x.Checks != nil, "ms": x.Millis != nil})
	if x.Status != nil {
		assert.Contains(t, []string{"pass", "fail", "unsupported", "error"}, *x.Status, where)
	}
	if x.Predicted != nil {
		assert.Contains(t, []string{"pass", "fail"}, *x.Predicted, where)
	}
	if x.Status != nil && x.Predicted != nil && x.Agrees != nil {
		assert.Equal(t, *x.Status == *x.Predicted || *x.Status == "error", *x.Agrees, where)
	}
	if x.Child != nil {
		checkSchemaResult(t, where+" child", *x.Child)
	}
}

func TestJSONReportsFollowTheDocumentedSchema(t *testing.T) {
	predicted, err := Predicted(sampleConfig())
	require.NoError(t, err)
	for name, r := range map[string]*Report{"observed": sampleReport(t), "predicted": predicted} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, r.WriteJSON(&b))
			dec := json.NewDecoder(&b)
			dec.DisallowUnknownFields()
			var s schemaReport
			require.NoError(t, dec.Decode(&s))

			required(t, "report", map[string]bool{"schema_version": s.SchemaVersion != nil, "sprig_version": s.SprigVersion != nil,
				"protocol": s.Protocol != nil, "abis": s.ABIs != nil, "modes": s.Modes != nil, "scenarios": s.Scenarios != nil,
				"start": s.Start != nil, "end": s.End != nil, "wall_ms": s.WallMillis != nil, "workers": s.Workers != nil,
				"cells": s.Cells != nil, "summary": s.Summary != nil})
			require.NotNil(t, s.SchemaVersion)
			assert.Equal(t, 2, *s.SchemaVersion)
			for _, sc := range s.Scenarios {
				required(t, "scenario", map[string]bool{"name": sc.Name != nil, "summary": sc.Summary != nil})
			}
			require.Len(t, s.Cells, 3*3*2)
			for _, c := range s.Cells {
				required(t, "cell", map[string]bool{"mode": c.Mode != nil, "client": c.Client != nil, "server": c.Server != nil,
					"passed": c.Passed != nil, "disagreements": c.Disagreements != nil, "errors": c.Errors != nil,
					"ms": c.Millis != nil, "results": c.Results != nil})
				assert.Len(t, c.Results, len(s.Scenarios))
				for _, x := range c.Results {
					checkSchemaResult(t, *c.Mode+" "+*c.Client+" "+*c.Server, x)
				}
			}
			require.NotNil(t, s.Summary)
			required(t, "summary", map[string]bool{"cells": s.Summary.Cells != nil, "results": s.Summary.Results != nil,
				"passed": s.Summary.Passed != nil, "failed": s.Summary.Failed != nil, "unsupported": s.Summary.Unsupported != nil,
				"errors": s.Summary.Errors != nil, "disagreements": s.Summary.Disagreements != nil})
		})
	}
}

func TestJSONReportsReadBackUnchanged(t *testing.T) {
	r := sampleReport(t)
	var b bytes.Buffer
	require.NoError(t, r.WriteJSON(&b))
	back, err := ReadJSON(&b)
	require.NoError(t, err)
	assert.Equal(t, r.Cells, back.Cells)
	assert.Equal(t, r.Summary, back.Summary)
	assert.True(t, r.Start.Equal(back.Start))
}

func TestReadJSONRejectsWhatIsNotAReport(t *testing.T) {
	for _, tc := range []struct{ name, json string }{
		{"another schema version", `{"schema_version": 1, "abis": ["amd64"], "modes": ["native"], "scenarios": [{"name": "getpid"}]}`},
		{"no configuration", `{"schema_version": 2}`},
		{"a cell outside the configuration", `{"schema_version": 2, "abis": ["amd64"], "modes": ["native"], "scenarios": [{"name": "getpid"}], "cells": [{"mode": "native", "client": "amd64", "server": "mips"}]}`},
		{"not JSON", `<testsuites/>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadJSON(strings.NewReader(tc.json))
			assert.ErrorIs(t, err, ErrSchema)
		})
	}
}

// junitDoc mirrors the JUnit XML elements a CI system reads.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Cases    []struct {
			Classname string `xml:"classname,attr"`
			Name      string `xml:"name,attr"`
			Time      string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			SystemOut string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestJUnitFailsExactlyTheDisagreements(t *testing.T) {
	r := sampleReport(t)
	var b bytes.Buffer
	require.NoError(t, r.WriteJUnit(&b))
	var j junitDoc
	require.NoError(t, xml.Unmarshal(b.Bytes(), &j), b.String())

	require.Len(t, j.Suites, 2)
	assert.Equal(t, "native", j.Suites[0].Name)
	assert.Equal(t, "server-translates", j.Suites[1].Name)
	assert.Equal(t, 2, j.Failures)

	failures := map[string]string{}
	cases := 0
	for _, s := range j.Suites {
		n := 0
		for _, c := range s.Cases {
			cases++
			if c.Failure != nil {
				n++
				failures[c.Classname+" "+c.Name] = c.Failure.Type + ": " + c.Failure.Message + "\n" + c.Failure.Text
			}
		}
		assert.Equal(t, n, s.Failures, s.Name)
		assert.Equal(t, len(s.Cases), s.Tests, s.Name)
	}
	assert.Equal(t, cases, j.Tests)
	require.Len(t, failures, 2, "%v", failures)
	assert.Contains(t, failures["native.i386-arm stat"], "disagreement: observed pass, predicted fail")
	assert.Contains(t, failures["native.i386-arm stat"], "predicted fail: struct stat: st_ino at 12 vs 16")
	assert.Contains(t, failures["server-translates.amd64-arm (guest)"], "guest ended with exit code 3")

	// A failure the theory predicted is a passing testcase that says why.
	for _, s := range j.Suites {
		for _, c := range s.Cases {
			if c.Classname == "native.arm-i386" && c.Name == "stat" {
				assert.Nil(t, c.Failure)
				assert.Contains(t, c.SystemOut, "failed as predicted: struct stat: st_ino at 16 vs 12")
				assert.Contains(t, c.SystemOut, "data: stat went wrong")
			}
		}
	}
}

func TestMarkdownHasNoTimingsAndMarksDisagreements(t *testing.T) {
	r := sampleReport(t)
	var a, b bytes.Buffer
	require.NoError(t, r.WriteMarkdown(&a))
	r.WallMillis, r.Workers, r.End = 99999, 64, r.End.Add(time.Hour)
	for i := range r.Cells {
		r.Cells[i].Millis = 12345
	}
	require.NoError(t, r.WriteMarkdown(&b))
	assert.Equal(t, a.String(), b.String(), "timings must not reach the markdown")
	assert.Contains(t, a.String(), "| **i386** |")
	assert.Contains(t, a.String(), " 4/4! |", "i386→arm native: every scenario passed, stat against the prediction")
	assert.Contains(t, a.String(), "**Disagreements between observed and predicted**")
	assert.Contains(t, a.String(), "`native i386→arm stat: observed pass, predicted fail (struct stat: st_ino at 12 vs 16)`")
}

func TestTextShowsATablePerModeAndTheVerdict(t *testing.T) {
	r := sampleReport(t)
	var b bytes.Buffer
	require.NoError(t, r.WriteText(&b, TextOptions{}))
	out := b.String()
	assert.Contains(t, out, "native: scenarios passed of 4, client ↓ server →")
	assert.Regexp(t, `(?m)^i386 +1/4 +4/4 +4/4!$`, out)
	assert.Contains(t, out, "2 DISAGREEMENTS between observed and predicted")
	assert.Contains(t, out, "server-translates amd64→arm: the guest ended abnormally")
	assert.Contains(t, out, `"must share the same ABI"`)
	assert.NotContains(t, out, "\x1b[", "no colour unless asked")

	b.Reset()
	require.NoError(t, r.WriteText(&b, TextOptions{Color: true}))
	assert.Contains(t, b.String(), "\x1b[1;31m4/4!\x1b[0m")
}
