// Package cgocheck stops a build without cgo with one message that says so.
//
// VEDA's kernels and device loaders are C, so every package that holds C (cpukern, device, capi)
// imports this one for its side effect. With cgo this file compiles and the package is empty; with
// CGO_ENABLED=0 only nocgo.go compiles, its undefined name is the build's only error, and the
// packages that import it are never compiled (so their own errors do not bury the message).
package cgocheck

import "C"
