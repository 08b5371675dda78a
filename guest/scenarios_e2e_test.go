package guest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/kern"
	"github.com/rumpsprig/sprig/rig"
	"github.com/rumpsprig/sprig/sp"
)

// kernel returns a kern kernel factory; root makes client processes root.
func kernel(root bool) func(d *abi.Descriptor) (sp.Kernel, error) {
	return func(d *abi.Descriptor) (sp.Kernel, error) {
		cfg := kern.DefaultConfig()
		cfg.ABI = d
		cfg.Extensions = kern.ExtAll // kill-raise and mmap-anon exercise RAISE and ANONMMAP
		if !root {
			cfg.UID, cfg.GID = 1000, 1000
		}
		return kern.New(cfg)
	}
}

func result(rep *rig.Report, name string) rig.Result {
	for _, r := range rep.Results {
		if r.Scenario == name {
			return r
		}
	}
	return rig.Result{}
}

func summary(rep *rig.Report) string {
	var b strings.Builder
	for _, r := range rep.Results {
		fmt.Fprintf(&b, "  %-13s %-11s %6.1fms %3d checks", r.Scenario, r.Status, r.Millis, r.Checks)
		if r.Status != guestapi.Pass {
			fmt.Fprintf(&b, " [%s] %s", r.Layer, r.Detail)
			if r.Explanation != "" {
				fmt.Fprintf(&b, "\n%17s%s", "", r.Explanation)
			}
		}
		b.WriteByte('\n')
	}
	if rep.GuestStderr != "" {
		fmt.Fprintf(&b, "  guest stderr: %s\n", rep.GuestStderr)
	}
	return b.String()
}

// TestScenariosAgainstKern runs every scenario through a real wazero guest
// against kern, for pairs that must pass and one that must fail. Clients
// run as an ordinary user (kern's default) or as root, which may set
// kern.hostname; the two differ only in the sysctl scenario.
func TestScenariosAgainstKern(t *testing.T) {
	ctx := context.Background()
	amd64 := abi.MustLookup("amd64")
	pairs := []struct {
		client string
		mode   rig.Mode
		root   bool
		pass   bool
	}{
		{"arm64", rig.ModeNative, false, true},
		{"arm64", rig.ModeNative, true, true},
		{"i386", rig.ModeServerTranslates, false, true},
		{"i386", rig.ModeClientTranslates, false, true},
		{"mips", rig.ModeServerTranslates, true, true},
		{"mips", rig.ModeClientTranslates, true, true},
		{"i386", rig.ModeNative, false, false},
	}
	rigs := map[bool]*rig.Rig{}
	for _, root := range []bool{false, true} {
		r, err := rig.New(ctx, rig.Options{NewKernel: kernel(root)})
		require.NoError(t, err)
		defer r.Close(ctx)
		rigs[root] = r
	}
	for _, p := range pairs {
		name := fmt.Sprintf("%s→amd64 %s", p.client, p.mode)
		if p.root {
			name += " as root"
		}
		t.Run(name, func(t *testing.T) {
			rep, err := rigs[p.root].Run(ctx, rig.Pair{Client: abi.MustLookup(p.client), Server: amd64, Mode: p.mode})
			require.NoError(t, err)
			t.Logf("%s in %v\n%s", name, rep.Elapsed, summary(rep))
			n := rep.Counts
			pass, fail, skip := n.Pass, n.Fail, n.Unsupported+n.Error
			if p.pass {
				require.Len(t, rep.Results, 18, "every scenario reports, the fork child inside fork")
				require.NotNil(t, result(rep, "fork").Child, "the fork child reported")
				assert.Equal(t, guestapi.Pass, result(rep, "fork").Child.Status)
				if !p.root {
					// On the rump root (rumpfs) nothing has rename or link,
					// and only root may mount the tmpfs that has them.
					assert.Equal(t, guestapi.Unsupported, result(rep, "dirs").Status, result(rep, "dirs").Detail)
					assert.Equal(t, rig.Counts{Pass: 17, Unsupported: 1}, rep.Counts)
					return
				}
				assert.Equal(t, 0, fail+skip, "failed or skipped")
				assert.Equal(t, 18, pass)
				return
			}
			// Native i386 against amd64: the client reads every 24-byte
			// rsp_sysresp with its 12-byte layout and the server reads
			// every i386 argument struct with amd64 slots, so everything
			// but the handshake (a C int on both) fails, each failure
			// explained field by field or as the crash a C client would
			// have had.
			assert.Equal(t, 1, pass)
			for _, r := range rep.Results {
				if r.Scenario == "handshake" {
					assert.Equal(t, guestapi.Pass, r.Status, "handshake")
					continue
				}
				assert.Equal(t, guestapi.Fail, r.Status, r.Scenario)
				switch r.Layer {
				case guestapi.LayerData:
					assert.Regexp(t, `^(rsp_sysresp\.rsys_retval|sys_\w+_args|stat\.)`, r.Explanation, "%s: %s", r.Scenario, r.Detail)
				case guestapi.LayerCrash:
					assert.Contains(t, r.Detail, "a C client would crash here", r.Scenario)
				default:
					t.Errorf("%s failed at layer %q: %s", r.Scenario, r.Layer, r.Detail)
				}
			}
		})
	}
}
