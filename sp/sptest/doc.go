// Package sptest provides what tests of sysproxy peers need: a small
// Kernel that answers a handful of syscalls without a file system, and an
// in-memory address space (Memory) for test clients. It is for tests and benchmarks of
// sp and the packages above it, not for serving real clients.
package sptest
