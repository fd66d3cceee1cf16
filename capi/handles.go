package capi

import "github.com/veda-runtime/veda/goveda/handle"

// The C ABI's handles: every veda_* object pointer C sees is a token of a goveda/handle table
// (an integer, never an address; stale and forged tokens are detected). This file only names
// the kinds and the tables; the table itself, and its concurrency tests, are in goveda/handle.

type (
	handleKind  = handle.Kind
	lookupState = handle.State
)

const (
	stateLive    = handle.Live    // created and not destroyed
	stateStale   = handle.Stale   // created by its table, then destroyed
	stateUnknown = handle.Unknown // NULL, forged or another kind
)

// Kinds: one per handle type, 0..handle.MaxKind; every one is taken, so a new handle type needs
// a wider tag in goveda/handle.
const (
	kindRuntime handleKind = 1 // veda_runtime*
	kindGroup   handleKind = 2 // veda_group*
	kindFuture  handleKind = 3 // veda_future*
	kindKernel  handleKind = 4 // veda_kernel*
	kindCancel  handleKind = 5 // veda_cancel*
	// 6 veda_buffer* (buffer.go), 7 veda_pipeline* (pipeline.go), 0 veda_graph* (graph.go)
)

var (
	runtimes = handle.New[*runtimeEntry](kindRuntime)
	groups   = handle.New[*group](kindGroup)
	futures  = handle.New[*future](kindFuture)
	kernels  = handle.New[*kernelEntry](kindKernel)
	cancels  = handle.New[*cancelToken](kindCancel)
)
