package abi

// The compiler ground truth the tests check layouts against
// (testdata/layouts.c, testdata/golden/*.json).
//go:generate go run ./internal/golden/mkgolden -testdata testdata

// Compiler-made frames package sp's tests compare its codec with
// (testdata/frames.c, testdata/frames/*.json).
//go:generate go run ./internal/golden/mkframes -testdata testdata
