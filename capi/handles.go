package capi

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"sync/atomic"
)

// A handle token is what C sees as veda_runtime*, veda_group*, veda_future* or veda_kernel*: an integer
// salt<<saltShift | id<<tagBits | kind | tokenMark, never an address. Ids are never reused, so a
// stale token stays detectable forever; a token of one kind never validates as another kind;
// and the per-process random salt keeps small integers, addresses and tokens of another process
// from ever matching a live handle.

// handleKind is the low tag of a token.
type handleKind uintptr

const (
	kindRuntime handleKind = 1 // veda_runtime*
	kindGroup   handleKind = 2 // veda_group*
	kindFuture  handleKind = 3 // veda_future*
	kindKernel  handleKind = 4 // veda_kernel*
	kindCancel  handleKind = 5 // veda_cancel*

	tagBits   = 4
	tagMask   = 1<<tagBits - 1
	tokenMark = 0x8 // set in every token, so aligned pointers never match
	saltShift = 40  // ids use bits 4..39 (2^36 handles per kind), the salt bits 40..59
	saltMask  = 1<<20 - 1
	maxID     = 1<<(saltShift-tagBits) - 1
)

// salt is fixed per process, random and non-zero.
var salt = func() uintptr {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return uintptr(binary.LittleEndian.Uint32(b[:]))&saltMask | 1
}()

// handleTable maps live tokens of one kind to their objects.
// Any goroutine may call its methods.
type handleTable[T any] struct {
	kind   handleKind
	lastID atomic.Uint64 // ids handed out so far; add-and-fetch gives the next id
	live   sync.Map      // token (uintptr) -> T; Load is lock-free on the hot path
}

// add registers v and returns its new token. It panics (recovered by the export as
// VEDA_ERR_INTERNAL) after 2^36 handles of one kind.
func (t *handleTable[T]) add(v T) uintptr {
	id := t.lastID.Add(1)
	if id > maxID {
		panic("veda: handle ids exhausted")
	}
	tok := salt<<saltShift | uintptr(id)<<tagBits | uintptr(t.kind) | tokenMark
	t.live.Store(tok, v)
	return tok
}

// lookupState says what a token is.
type lookupState int

const (
	stateLive    lookupState = iota // created and not destroyed
	stateStale                      // created by this table, then destroyed
	stateUnknown                    // NULL, forged or another kind
)

func (t *handleTable[T]) get(tok uintptr) (T, lookupState) {
	if v, ok := t.live.Load(tok); ok {
		return v.(T), stateLive
	}
	var zero T
	return zero, t.classify(tok)
}

// take removes tok and returns its object (destroy/release).
func (t *handleTable[T]) take(tok uintptr) (T, lookupState) {
	if v, ok := t.live.LoadAndDelete(tok); ok {
		return v.(T), stateLive
	}
	var zero T
	return zero, t.classify(tok)
}

func (t *handleTable[T]) classify(tok uintptr) lookupState {
	if tok == 0 || tok&tagMask != (uintptr(t.kind)|tokenMark) || tok>>saltShift != salt {
		return stateUnknown
	}
	id := uint64(tok>>tagBits) & maxID
	if id == 0 || id > t.lastID.Load() {
		return stateUnknown
	}
	return stateStale
}

var (
	runtimes = &handleTable[*runtimeEntry]{kind: kindRuntime}
	groups   = &handleTable[*group]{kind: kindGroup}
	futures  = &handleTable[*future]{kind: kindFuture}
	kernels  = &handleTable[*kernelEntry]{kind: kindKernel}
	cancels  = &handleTable[*cancelToken]{kind: kindCancel}
)
