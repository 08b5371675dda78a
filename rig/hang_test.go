package rig_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/guest/guestapi"
	"github.com/rumpsprig/sprig/kern"
	"github.com/rumpsprig/sprig/rig"
	"github.com/rumpsprig/sprig/sp"
)

// hangingKernel is kern's kernel with a getppid that never answers.
type hangingKernel struct{ sp.Kernel }

func (k hangingKernel) NewProcess(ctx context.Context, c sp.ClientInfo) (sp.Process, error) {
	p, err := k.Kernel.NewProcess(ctx, c)
	return hangingProcess{p}, err
}

type hangingProcess struct{ sp.Process }

func (p hangingProcess) Syscall(ctx context.Context, req *sp.SyscallRequest) sp.Result {
	if req.Num == netbsd.SYS_getppid {
		<-ctx.Done() // until the client goes
		return sp.Result{Errno: netbsd.EINTR}
	}
	return p.Process.Syscall(ctx, req)
}

// The guest's caller reads its own reply; when its scenario's deadline
// passes while it waits, it must stop there, report the timeout itself
// and go on with the next scenario, long before the host's deadline for
// the whole guest (the timeout plus two seconds) would stop it.
func TestAGuestWaitingForAReplyStopsAtItsScenariosDeadline(t *testing.T) {
	r := newRig(t, rig.Options{NewKernel: func(d *abi.Descriptor) (sp.Kernel, error) {
		cfg := kern.DefaultConfig()
		cfg.ABI = d
		k, err := kern.New(cfg)
		return hangingKernel{k}, err
	}})
	start := time.Now()
	rep, err := r.Run(context.Background(), rig.Pair{
		Client: abi.MustLookup("amd64"), Server: abi.MustLookup("amd64"),
		Scenarios: []string{"getpid", "file-io"}, Timeout: 500 * time.Millisecond,
	})
	require.NoError(t, err)
	got := result(t, rep, "getpid")
	assert.Equal(t, guestapi.Error, got.Status, "a timeout is no verdict: %+v", got)
	assert.Equal(t, guestapi.LayerTimeout, got.Layer)
	assert.Contains(t, got.Detail, "the scenario's deadline is 500ms")
	assert.Equal(t, guestapi.Pass, result(t, rep, "file-io").Status, "the guest went on: %+v", result(t, rep, "file-io"))
	assert.Less(t, time.Since(start), 2*time.Second)
}
