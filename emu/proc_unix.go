//go:build unix

package emu

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup puts the client and the processes it forks into a
// group of their own, so that a cancelled run kills all of them.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
