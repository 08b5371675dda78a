package matrix_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/rig"
	"github.com/rumpsprig/sprig/sp"
)

// testRig is one rig for the package's tests, with the default
// compilation cache that every package's tests share, so the guest is
// compiled once.
var testRig = sync.OnceValues(func() (*rig.Rig, error) {
	return rig.New(context.Background(), rig.Options{})
})

func newRig(t *testing.T) *rig.Rig {
	t.Helper()
	r, err := testRig()
	require.NoError(t, err)
	return r
}

// messageOf names a frame the server saw as the manifest names messages,
// or "" for frames the manifest does not list (SYSCALL, responses).
func messageOf(d sp.Direction, f *sp.Frame) guestapi.Message {
	if f.Class != sp.ClassReq {
		return ""
	}
	switch {
	case d == sp.Received && f.Type == sp.TypeHandshake:
		return guestapi.Message("HANDSHAKE " + sp.HandshakeKind(f.U).String())
	case d == sp.Received && f.Type == sp.TypePrefork:
		return guestapi.MsgPrefork
	case d == sp.Sent && f.Type != sp.TypeSyscall:
		return guestapi.Message(f.Type.String())
	}
	return ""
}

// TestManifestMatchesWhatTheGuestSends runs each scenario alone for pairs
// where it must pass and checks the manifest against both sides: the
// syscalls the guest reports having sent, and the messages the server
// saw on every connection of the run (a child's included).
func TestManifestMatchesWhatTheGuestSends(t *testing.T) {
	r := newRig(t)
	pairs := []struct {
		client, server string
		mode           rig.Mode
	}{
		{"amd64", "amd64", rig.ModeNative},
		{"mips", "i386", rig.ModeClientTranslates}, // the client converts what it copies
	}
	for _, p := range pairs {
		for _, name := range guestapi.ScenarioNames() {
			t.Run(p.mode.String()+"/"+p.client+"→"+p.server+"/"+name, func(t *testing.T) {
				t.Parallel()
				var mu sync.Mutex
				seen := map[guestapi.Message]bool{}
				rep, err := r.Run(context.Background(), rig.Pair{
					Client: abi.MustLookup(p.client), Server: abi.MustLookup(p.server), Mode: p.mode,
					Scenarios: []string{name},
					Trace: func(_ *sp.ConnInfo, d sp.Direction, f *sp.Frame) {
						if m := messageOf(d, f); m != "" {
							mu.Lock()
							seen[m] = true
							mu.Unlock()
						}
					},
				})
				require.NoError(t, err)
				s, _ := guestapi.LookupScenario(name)
				want := map[guestapi.Message]bool{}
				expect := []guestapi.Scenario{s}
				if s.Child != "" {
					c, ok := guestapi.LookupScenario(s.Child)
					require.True(t, ok, "child %q", s.Child)
					expect = append(expect, c)
				}
				for _, e := range expect {
					for _, m := range e.Messages {
						want[m] = true
					}
					res := result(t, rep, e.Name)
					require.Equal(t, guestapi.Pass, res.Status, "%s: %s %s", e.Name, res.Detail, res.Explanation)
					assert.Equal(t, e.SyscallNumbers(), res.Syscalls, "%s: syscalls sent", e.Name)
				}
				mu.Lock()
				defer mu.Unlock()
				assert.Equal(t, want, seen, "messages of %s and its child", name)
			})
		}
	}
}

func result(t *testing.T, rep *rig.Report, name string) rig.Result {
	t.Helper()
	for _, x := range rep.Results {
		if x.Scenario == name {
			return x
		}
		if x.Child != nil && x.Child.Scenario == name {
			return *x.Child
		}
	}
	t.Fatalf("no result for %s in %+v", name, rep.Results)
	return rig.Result{}
}

func TestManifestListsTheScenariosInTheOrderTheGuestReportsThem(t *testing.T) {
	rep, err := newRig(t).Run(context.Background(), rig.Pair{Client: abi.MustLookup("arm64"), Server: abi.MustLookup("arm64"), Mode: rig.ModeNative})
	require.NoError(t, err)
	var got []string
	for _, x := range rep.Results {
		got = append(got, x.Scenario)
		if x.Child != nil {
			got = append(got, x.Child.Scenario)
		}
	}
	var want []string
	for _, s := range guestapi.Manifest() {
		if !s.ChildOnly {
			want = append(want, s.Name)
		}
		if s.Child != "" {
			want = append(want, s.Child)
		}
	}
	assert.Equal(t, want, got, "every selectable scenario in manifest order, a child right after its parent")
	for _, s := range guestapi.Manifest() {
		assert.True(t, slices.IsSorted(s.Syscalls), "%s: syscalls in ascending order", s.Name)
		assert.Equal(t, len(s.Syscalls), len(slices.Compact(slices.Clone(s.Syscalls))), "%s: each syscall once", s.Name)
	}
}
