// Package capi is the C ABI of VEDA (include/veda.h). libveda.so is built from the command
// capi/libveda, which only imports this package:
//
//	go build -buildmode=c-shared -o build/libveda.so ./capi/libveda
//
// It only translates C to Go: argument checks, handle tables, status codes and messages. All
// behaviour lives in package goveda.
//
// # Layout
//
//   - capi.c: the public veda_* functions. Each checks for fork() (pure C, no Go runtime
//     interaction) and then calls a Go export vedago_*. It also keeps the thread-local last
//     error, the status strings, the *_init functions and the trampolines vedac_call_* through
//     which Go calls user callbacks (one C call per chunk).
//   - handles.go: the handle kinds and tables. A C handle is an opaque integer token (kind tag +
//     slot + generation), never a Go pointer; it is looked up in a goveda/handle table, so forged,
//     stale and double-freed handles are detected.
//   - status.go: error -> veda_status mapping, last-error setting, panic recovery.
//   - the other files hold the vedago_* exports, one area each (exports.go: runtime, loops,
//     metrics; group.go, join.go, future.go, cancel.go, shared.go; kernels.go, userkernel.go,
//     buffer.go, devices.go; pipeline.go, graph.go with graph.c, trace.go). Each maps handles and arguments to a goveda
//     call and its error to a status: no scheduling, reduction, group or validation logic of its
//     own (goveda.Group, ReduceErr, Kernel.Close, SgemmSpans, ConfigError carry those).
//
// # Symbols
//
// libveda_exports.so is not a library: it is a GNU ld implicit linker script (as glibc's libc.so
// is) holding an anonymous VERSION script that exports veda_* only, unversioned (the exported
// names are exactly those of include/veda.h); the vedago_* exports, the _cgo_* glue
// and the Go runtime stay local (the Go runtime needs no dynamic exports). It is passed as an
// input file because cgo's LDFLAGS allowlist rejects -Wl,--version-script and -Wl,-soname. C code
// is compiled with -fvisibility=hidden. The soname (libveda.so.0) is set by the build command:
//
//	go build -buildmode=c-shared -ldflags=-extldflags=-Wl,-soname,libveda.so.0 -o build/libveda.so ./capi/libveda
//
// The cgo-generated header (build/libveda.h) is an internal artefact; include/veda.h is the API.
package capi

/*
#cgo CFLAGS: -I${SRCDIR}/../include -fvisibility=hidden -O2 -Wall
#cgo LDFLAGS: ${SRCDIR}/libveda_exports.so
#include "capi.h"
*/
import "C"

import (
	_ "embed"

	"github.com/veda-runtime/veda/goveda"
)

// Every body a C or Python caller hands to libveda.so is a cgo call: the runtimes it creates,
// the shared one included, keep a spare P and reschedule their workers (goveda.SetCgoHost).
func init() { goveda.SetCgoHost() }

// exportsScript embeds the linker script so that its content is part of this package's build
// identity: the go command does not hash files named in LDFLAGS, and an edit of the script alone
// would otherwise leave a cached link in place.
//
//go:embed libveda_exports.so
var exportsScript string
