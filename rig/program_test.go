package rig_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/rig"
)

// fakeProgram reports getpid as passed, then ends with err (or, with
// hang, waits for its context to end).
type fakeProgram struct {
	err  error
	hang bool
	url  string
}

func (f *fakeProgram) String() string { return "fake program" }

func (f *fakeProgram) Run(ctx context.Context, url string, p rig.Pair) ([]guestapi.Result, error) {
	f.url = url
	res := []guestapi.Result{{Scenario: "getpid", Status: guestapi.Pass, Checks: 1}}
	if f.hang {
		<-ctx.Done()
		return res, ctx.Err()
	}
	return res, f.err
}

func TestAProgramIsJudgedLikeTheGuest(t *testing.T) {
	r := newRig(t, rig.Options{})
	amd64 := abi.MustLookup("amd64")
	for _, c := range []struct {
		name   string
		prog   *fakeProgram
		status guestapi.Status
		layer  guestapi.Layer
	}{
		{"its own failure fails what it left", &fakeProgram{err: errors.New("garbled output")}, guestapi.Fail, guestapi.LayerGuest},
		{"the environment's failure is an error", &fakeProgram{err: fmt.Errorf("%w: qemu died", rig.ErrEnvironment)}, guestapi.Error, guestapi.LayerGuest},
		{"hanging past the deadline is an error", &fakeProgram{hang: true}, guestapi.Error, guestapi.LayerTimeout},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep, err := r.Run(context.Background(), rig.Pair{Client: amd64, Server: amd64, Program: c.prog,
				Scenarios: []string{"getpid", "stat"}, Timeout: 100 * time.Millisecond})
			require.NoError(t, err)
			assert.Equal(t, "fake program", rep.Program)
			assert.Contains(t, c.prog.url, "unix://", "the program meets an in-process server")
			assert.Equal(t, guestapi.Pass, result(t, rep, "getpid").Status)
			stat := result(t, rep, "stat")
			assert.Equal(t, c.status, stat.Status, stat.Detail)
			assert.Equal(t, c.layer, stat.Layer)
			assert.Contains(t, stat.Detail, "no result: ")
			assert.Equal(t, c.status, result(t, rep, rig.GuestScenario).Status)
		})
	}
}
