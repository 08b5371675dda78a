package abi

// The compiler ground truth: the layout tables the tests check layouts
// against (testdata/layouts.c, testdata/golden/*.json) and the
// compiler-made frames package sp's tests compare its codec with
// (testdata/frames.c, testdata/frames/*.json).
//go:generate go run ./internal/golden/mkgolden -testdata testdata
