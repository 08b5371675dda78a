package matrix

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/rig"
)

func key(mode rig.Mode, client, server string) CellKey {
	return CellKey{Mode: mode, Client: abi.MustLookup(client), Server: abi.MustLookup(server)}
}

func res(name string, st guestapi.Status) rig.Result {
	r := rig.Result{Scenario: name, Status: st, Checks: 3, Millis: 1.5}
	if st == guestapi.Fail {
		r.Layer, r.Detail, r.Explanation = guestapi.LayerData, name+" went wrong", "server wrote it elsewhere"
	}
	return r
}

// withChild puts child under parent, as a run reports a fork.
func withChild(parent, child rig.Result) rig.Result {
	parent.Child = &child
	return parent
}

func TestAnOutcomeThatMatchesThePredictionAgreesEvenWhenItFails(t *testing.T) {
	c := evaluate(key(rig.ModeNative, "i386", "arm"), []string{"getpid", "stat"}, &rig.Report{Results: []rig.Result{
		res("getpid", guestapi.Pass), res("stat", guestapi.Fail),
	}}, false)
	require.Len(t, c.Results, 2)
	assert.True(t, c.Results[0].Agrees)
	assert.Equal(t, guestapi.Fail, c.Results[1].Predicted)
	assert.True(t, c.Results[1].Agrees)
	assert.Equal(t, "struct stat: st_ino at 12 vs 16", c.Results[1].Reason)
	assert.Equal(t, "server wrote it elsewhere", c.Results[1].Explanation)
}

func TestAnOutcomeAgainstThePredictionIsADisagreementEitherWay(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  CellKey
		got  guestapi.Status
	}{
		{"a pass predicted to fail", key(rig.ModeNative, "i386", "arm"), guestapi.Pass},
		{"a failure predicted to pass", key(rig.ModeServerTranslates, "i386", "arm"), guestapi.Fail},
		{"an unsupported scenario, which no prediction expects", key(rig.ModeNative, "amd64", "amd64"), guestapi.Unsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := evaluate(tc.key, []string{"stat"}, &rig.Report{Results: []rig.Result{res("stat", tc.got)}}, false)
			assert.False(t, c.Results[0].Agrees)
			r := &Report{Scenarios: []ScenarioInfo{{Name: "stat"}}, Cells: []Cell{*c}, Shard: "1/2"}
			r.summarize()
			assert.Equal(t, 1, r.Summary.Disagreements)
			assert.False(t, r.OK())
		})
	}
}

func TestAScenarioTheGuestNeverReportedFails(t *testing.T) {
	c := evaluate(key(rig.ModeNative, "amd64", "amd64"), []string{"getpid", "stat"}, &rig.Report{Results: []rig.Result{res("getpid", guestapi.Pass)}}, false)
	assert.Equal(t, guestapi.Fail, c.Results[1].Status)
	assert.Equal(t, guestapi.LayerGuest, c.Results[1].Layer)
	assert.False(t, c.Results[1].Agrees)
}

func TestAGuestThatEndedAbnormallyCountsAsADisagreement(t *testing.T) {
	c := evaluate(key(rig.ModeNative, "amd64", "mips"), []string{"getpid"}, &rig.Report{
		GuestStderr: "wasm trap",
		Results: []rig.Result{res("getpid", guestapi.Fail),
			{Scenario: rig.GuestScenario, Status: guestapi.Fail, Layer: guestapi.LayerGuest, Detail: "guest ended with exit code 2"}},
	}, false)
	require.Len(t, c.Results, 1, "the guest's own entry is not a scenario")
	assert.True(t, c.Results[0].Agrees)
	assert.Equal(t, "guest ended with exit code 2: wasm trap", c.GuestError)
	r := &Report{Scenarios: []ScenarioInfo{{Name: "getpid"}}, Cells: []Cell{*c}, Shard: "1/9"}
	r.summarize()
	assert.Equal(t, 1, r.Cells[0].Disagreements)
	assert.Equal(t, 1, r.Summary.Disagreements)
}

func TestAChildResultGoesUnderItsParentWithItsOwnPrediction(t *testing.T) {
	c := evaluate(key(rig.ModeNative, "i386", "arm"), []string{"fork"}, &rig.Report{Results: []rig.Result{
		withChild(res("fork", guestapi.Pass), res("fork-child", guestapi.Pass)),
	}}, false)
	require.Len(t, c.Results, 1)
	require.NotNil(t, c.Results[0].Child)
	assert.Equal(t, "fork-child", c.Results[0].Child.Scenario)
	assert.True(t, c.Results[0].Child.Agrees)

	c = evaluate(key(rig.ModeNative, "amd64", "mips"), []string{"fork"}, &rig.Report{Results: []rig.Result{res("fork", guestapi.Fail)}}, false)
	assert.Nil(t, c.Results[0].Child, "a child that never ran is not reported")
	assert.True(t, c.Results[0].Agrees)
}
