package rawsock

import "syscall"

// osYield gives the thread's CPU to another thread the kernel has
// queued on it, if any: sched_yield(2).
func osYield() { syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0) }
