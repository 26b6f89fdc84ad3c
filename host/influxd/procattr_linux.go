package influxd

import (
	"os/exec"
	"syscall"
)

// dieWithParent asks the kernel to stop influxd when the process that started
// it dies without calling Stop (a test binary hitting its timeout, a crash),
// so no orphan keeps holding ports and a data dir.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
