//go:build !cgo

package capi

// capi is a cgo package: without cgo this file stops the build with the name below.
var _ = VEDA_requires_cgo__build_with_CGO_ENABLED_1_and_a_C_compiler
