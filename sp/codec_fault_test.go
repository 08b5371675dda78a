package sp_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/sp"
)

// The test-only swap-retval32 fault moves the retval words of 32-bit
// rsp_sysresp and nothing else: a codec with it still reads back what it
// wrote (so sprig's own client and server agree), while the bytes are
// what no C peer sends.
func TestTheSwapRetval32FaultSwapsOnly32BitRetvalsBothWays(t *testing.T) {
	r := sp.Result{Retval: [2]uint64{0x11, 0x22}}
	for _, c := range []struct {
		abi     string
		swapped bool
	}{{"i386", true}, {"arm", true}, {"mips", true}, {"powerpc", true}, {"amd64", false}, {"sparc64", false}} {
		t.Run(c.abi, func(t *testing.T) {
			codec := sp.NewCodec(abi.MustLookup(c.abi))
			clean := codec.Sysresp(r)

			restore := sp.InjectFault("swap-retval32")
			faulty := codec.Sysresp(r)
			back, err := codec.ParseSysresp(faulty)
			restore()
			require.NoError(t, err)
			assert.Equal(t, r.Retval, back.Retval, "a faulty codec reads back what it wrote")

			if !c.swapped {
				assert.Equal(t, clean, faulty)
				return
			}
			assert.NotEqual(t, clean, faulty)
			seen, err := codec.ParseSysresp(faulty)
			require.NoError(t, err)
			assert.Equal(t, [2]uint64{0x22, 0x11}, seen.Retval, "a clean peer sees the words swapped")
		})
	}
	codec := sp.NewCodec(abi.MustLookup("i386"))
	clean := codec.Sysresp(r)
	restore := sp.InjectFault("no-such-fault")
	defer restore()
	assert.Equal(t, clean, codec.Sysresp(r), "an unknown fault changes nothing")
}
