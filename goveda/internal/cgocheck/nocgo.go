//go:build !cgo

package cgocheck

var _ = VEDA_requires_cgo__build_with_CGO_ENABLED_1_and_a_C_compiler
