package main

import (
	"sync"
	"sync/atomic"
)

// A handle token is what C sees as veda_runtime*, veda_group* or veda_future*: an integer
// (id << tagBits | kind | tokenMark), never an address. Ids are never reused, so a stale token
// stays detectable forever, and a token of one kind never validates as another kind.

// handleKind is the low tag of a token.
type handleKind uintptr

const (
	kindRuntime handleKind = 1 // veda_runtime*
	kindGroup   handleKind = 2 // veda_group*
	kindFuture  handleKind = 3 // veda_future*

	tagBits   = 4
	tagMask   = 1<<tagBits - 1
	tokenMark = 0x8 // set in every token, so small integers and aligned pointers never match
)

// handleTable maps live tokens of one kind to their objects.
// Any goroutine may call its methods.
type handleTable[T any] struct {
	kind   handleKind
	lastID atomic.Uint64 // ids handed out so far; add-and-fetch gives the next id
	live   sync.Map      // token (uintptr) -> T; Load is lock-free on the hot path
}

func (t *handleTable[T]) add(v T) uintptr {
	id := t.lastID.Add(1)
	tok := uintptr(id)<<tagBits | uintptr(t.kind) | tokenMark
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
	if tok == 0 || tok&tagMask != (uintptr(t.kind) | tokenMark) {
		return stateUnknown
	}
	id := uint64(tok >> tagBits)
	if id == 0 || id > t.lastID.Load() {
		return stateUnknown
	}
	return stateStale
}

var (
	runtimes = &handleTable[*runtimeEntry]{kind: kindRuntime}
	groups   = &handleTable[*group]{kind: kindGroup}
	futures  = &handleTable[*future]{kind: kindFuture}
)
