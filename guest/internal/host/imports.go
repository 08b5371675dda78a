//go:build wasip1

// Package host is a guest's side of sprig's host module: the imported
// functions, a byte-stream connection over them, the guest's address
// space as an sp.AddressSpace, and result reporting. Only guests built
// with GOOS=wasip1 use it.
package host

import "unsafe"

//go:wasmimport sprig config
func hostConfig(buf unsafe.Pointer, capacity uint32) int32

//go:wasmimport sprig dial
func hostDial(url unsafe.Pointer, n uint32) int32

//go:wasmimport sprig send
func hostSend(h int32, p unsafe.Pointer, n uint32) int32

//go:wasmimport sprig recv
func hostRecv(h int32, p unsafe.Pointer, n uint32, timeoutMillis int32) int32

//go:wasmimport sprig bind
func hostBind(h int32, fd int32) int32

//go:wasmimport sprig close
func hostClose(h int32) int32

//go:wasmimport sprig report
func hostReport(p unsafe.Pointer, n uint32) int32

//go:wasmimport sprig spawn
func hostSpawn(p unsafe.Pointer, n uint32) int32

//go:wasmimport sprig wait
func hostWait(h int32, timeoutMillis int32) int32

func ptr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}
