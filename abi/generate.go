package abi

// The compiler ground truth the tests check layouts against
// (testdata/layouts.c, testdata/golden/*.json).
//go:generate go run ./internal/golden/mkgolden -testdata testdata
