package rig

import (
	"fmt"
	"strings"

	"github.com/rumpsprig/sprig/abi"
	"github.com/rumpsprig/sprig/abi/netbsd"
	"github.com/rumpsprig/sprig/guest/guestapi"
)

// explain adds the server's side to a failure the guest reported: where
// the server put the wrong field, and what it wrote there.
func explain(p Pair, obs *observer, r guestapi.Result) string {
	if r.Status != guestapi.Fail {
		return ""
	}
	server := obs.serverABI()
	if server == nil {
		server = p.Server
	}
	switch r.Layer {
	case guestapi.LayerData:
		if r.Field == nil || r.Field.Struct == "" {
			return ""
		}
		return explainField(p, server, obs, r.Field)
	case guestapi.LayerDecoding:
		if strings.Contains(r.Detail, "rsp_sysresp") {
			return fmt.Sprintf("rsp_sysresp: server (%s layout) %s; client (%s) %s",
				server.Name, describe(netbsd.LayoutsFor(server).Sysresp), p.Client.Name, describe(netbsd.LayoutsFor(p.Client).Sysresp))
		}
	}
	return ""
}

func explainField(p Pair, server *abi.Descriptor, obs *observer, f *guestapi.FieldMismatch) string {
	t := netbsd.StructByName(f.Struct)
	if t == nil {
		return ""
	}
	sl := abi.LayoutOf(server, t)
	soff, sfl, err := sl.Field(f.Path)
	if err != nil {
		return ""
	}
	wrote := f.Expected
	if b := obs.lastCopyout(sl.Size); b != nil && soff+sfl.Size <= len(b) {
		if v, err := sl.Int(b, f.Path); err == nil {
			wrote = fmt.Sprint(v)
		}
	}
	return fmt.Sprintf("%s.%s: server wrote %s at offset %d of %d bytes (%s layout); client read %s at offset %d of a %d-byte %s (%s layout)",
		f.Struct, f.Path, wrote, soff, sl.Size, server.Name, f.Got, f.ClientOffset, f.ClientStructSize, f.Struct, p.Client.Name)
}

// describe lists a struct's members as "name at off (size)".
func describe(l *abi.Layout) string {
	var parts []string
	for _, lf := range l.Leaves() {
		parts = append(parts, fmt.Sprintf("%s at %d (%d bytes)", lf.Path, lf.Offset, lf.Size))
	}
	return fmt.Sprintf("%d bytes: %s", l.Size, strings.Join(parts, ", "))
}
