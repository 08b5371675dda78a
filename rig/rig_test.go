package rig_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/rig"
	"github.com/rumpsprig/sprig/sp"
	"github.com/rumpsprig/sprig/sp/sptest"
)

func TestProto(t *testing.T) {
	ctx := context.Background()
	r, err := rig.New(ctx, rig.Options{NewKernel: func(*abi.Descriptor) (sp.Kernel, error) { return sptest.NewKernel(), nil }})
	require.NoError(t, err)
	defer r.Close(ctx)
	for _, c := range []string{"arm64", "i386"} {
		rep, err := r.Run(ctx, rig.Pair{Client: abi.MustLookup(c), Server: abi.MustLookup("amd64"), Mode: sp.ModeNative})
		require.NoError(t, err)
		t.Logf("%+v", rep)
	}
}
