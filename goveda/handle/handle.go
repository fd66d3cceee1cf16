// Package handle maps opaque integer tokens to Go objects for code outside Go: what C sees as
// veda_runtime*, veda_group*, veda_future* and the other handle kinds of libveda.so is a token
// of a Table, never an address:
//
//	salt<<saltShift | gen<<genShift | slot<<tagBits | kind | tokenMark
//
// slot indexes the table's slot array (O(1) lookup, no lock), gen is the slot's generation when
// the handle was made. A slot is reused after its handle is destroyed, with the next generation,
// and retired for good when its generation is exhausted, so a (slot, gen) pair is handed out at
// most once: a stale token stays detectable forever. A token of one kind never validates as
// another kind, and the per-process random salt in the top bits keeps small integers, addresses
// (all below 2^48) and tokens of another process from ever matching a live handle.
//
// Every method of a Table may be called from any goroutine, concurrently.
package handle

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"unsafe"
)

// Kind is the low tag of a token: 0..MaxKind, one per handle type.
type Kind uintptr

// MaxKind is the largest Kind: the tag has 3 bits (bit 3 is tokenMark), so a ninth handle type
// needs a wider tag.
const MaxKind Kind = 7

const (
	tagBits   = 4
	tagMask   = 1<<tagBits - 1
	tokenMark = 0x8 // set in every token, so aligned pointers never match
	slotBits  = 22  // bits 4..25: the slot (4 Mi live handles per kind)
	genShift  = tagBits + slotBits
	genBits   = 22 // bits 26..47: the slot's generation (1..maxGen; 0 is never handed out)
	saltShift = genShift + genBits
	saltMask  = 1<<16 - 1 // bits 48..63: the salt, non-zero
	slotMask  = 1<<slotBits - 1
	maxGen    = 1<<genBits - 1

	chunkBits = 10 // slots are allocated in chunks of 1024
	chunkSize = 1 << chunkBits
	maxChunks = 1 << (slotBits - chunkBits)
)

// salt is fixed per process, random and non-zero.
var salt = func() uintptr {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return uintptr(binary.LittleEndian.Uint32(b[:]))&saltMask | 1
}()

// cacheLine is the padding unit that keeps state written by different threads on different
// lines (64 bytes on x86-64).
const cacheLine = 64

// handleSlot holds one handle's object. It fills a cache line: handles that different threads
// create, use and destroy at once (a group per task) would otherwise share lines, and every
// state store of one would stall the lookups of the other.
type handleSlot struct {
	// state: gen<<1 | live. gen is the generation of the slot's current (live) or next (not
	// live) handle; it only ever grows, so every generation below it was handed out and
	// destroyed. Seq-cst store in add (after v), CAS in take, loads in get (seqlock: before and
	// after loading v).
	state atomic.Uint64
	v     atomic.Value // the object while live; written only while the slot is not live
	// next: the next free slot + 1 (0 = end), while this slot is on the free list; written by
	// the pusher before the head CAS that publishes it.
	next atomic.Uint32
	_    [cacheLine - 8 - 16 - 4]byte
}

// Table maps live tokens of one kind to their objects: a chunked slot array, lock-free to
// read, and a lock-free free list of slots. Any goroutine may call its methods.
type Table[T any] struct {
	kind Kind
	// nslots: slots ever reserved; add-and-fetch reserves a new one (when the free list is empty).
	nslots atomic.Uint32
	_      [cacheLine - 12]byte
	// free: the free-list head, (slot+1) | aba<<32, low half 0 = empty; CAS (seq-cst) in push and pop.
	// The ABA count grows with every pop, so a pop that read a stale next fails its CAS. On a
	// line of its own: every create and destroy writes it, and every lookup reads nslots and
	// chunks.
	free   atomic.Uint64
	_      [cacheLine - 8]byte
	chunks [maxChunks]atomic.Pointer[[chunkSize]handleSlot] // published once each (CAS from nil)
}

// New returns an empty table for tokens of kind k. It panics on a kind above MaxKind (a
// programming error: kinds are constants).
func New[T any](k Kind) *Table[T] {
	if k > MaxKind {
		panic(fmt.Sprintf("handle: kind %d > MaxKind", k))
	}
	return &Table[T]{kind: k}
}

// slot returns slot i, or nil if its chunk does not exist (yet). Any goroutine.
func (t *Table[T]) slot(i uint32) *handleSlot {
	c := t.chunks[i>>chunkBits].Load() // load (seq-cst): pairs with the CAS in reserve
	if c == nil {
		return nil
	}
	return &c[i&(chunkSize-1)]
}

// reserve returns a slot never used before. It panics (recovered by the export as
// VEDA_ERR_INTERNAL) after 4 Mi live handles of one kind.
func (t *Table[T]) reserve() uint32 {
	i := t.nslots.Add(1) - 1 // add (seq-cst): each index goes to one caller
	if i > slotMask {
		panic("veda: too many live handles of one kind")
	}
	ci := i >> chunkBits
	if t.chunks[ci].Load() == nil {
		// CAS (seq-cst): one chunk wins; a loser's chunk is dropped. Readers see the slot only
		// through a token, which is made after this.
		t.chunks[ci].CompareAndSwap(nil, new([chunkSize]handleSlot))
	}
	return i
}

// popFree takes a slot off the free list, or returns false. Any goroutine.
func (t *Table[T]) popFree() (uint32, bool) {
	for {
		h := t.free.Load()  // load (seq-cst)
		if uint32(h) == 0 { // empty (the high half is the ABA count)
			return 0, false
		}
		i := uint32(h) - 1
		next := t.slot(i).next.Load()
		// CAS (seq-cst): the count in the high half changes on every pop, so a head that was
		// popped and pushed back meanwhile (ABA) makes this fail.
		if t.free.CompareAndSwap(h, uint64(next)|(h>>32+1)<<32) {
			return i, true
		}
	}
}

// pushFree puts slot i (not live) on the free list. Any goroutine.
func (t *Table[T]) pushFree(i uint32) {
	s := t.slot(i)
	for {
		h := t.free.Load()      // load (seq-cst)
		s.next.Store(uint32(h)) // before the CAS that publishes s
		if t.free.CompareAndSwap(h, uint64(i+1)|h>>32<<32) {
			return
		}
	}
}

// add registers v and returns its new token.
func (t *Table[T]) Add(v T) uintptr {
	i, ok := t.popFree()
	if !ok {
		i = t.reserve()
	}
	s := t.slot(i)
	gen := s.state.Load() >> 1 // not live: only we own the slot now
	if gen == 0 {
		gen = 1 // a new slot's first generation
	}
	s.v.Store(v)
	s.state.Store(gen<<1 | 1) // store (seq-cst): publishes v; the slot is live from here
	return salt<<saltShift | uintptr(gen)<<genShift | uintptr(i)<<tagBits | uintptr(t.kind) | tokenMark
}

// State says what a token is.
type State int

const (
	Live    State = iota // created and not destroyed
	Stale                // created by this table, then destroyed
	Unknown              // NULL, forged or another kind
)

// decode splits tok into its slot and generation, or returns nil for a token this table never
// made.
func (t *Table[T]) decode(tok uintptr) (*handleSlot, uint64) {
	if tok&tagMask != (uintptr(t.kind)|tokenMark) || tok>>saltShift != salt {
		return nil, 0
	}
	i := uint32(tok>>tagBits) & slotMask
	gen := uint64(tok>>genShift) & maxGen
	if gen == 0 || i >= t.nslots.Load() {
		return nil, 0
	}
	return t.slot(i), gen
}

// get returns tok's object. Any goroutine; O(1), no lock.
func (t *Table[T]) Get(tok uintptr) (T, State) {
	var zero T
	s, gen := t.decode(tok)
	if s == nil {
		return zero, Unknown
	}
	for {
		st := s.state.Load() // load (seq-cst): pairs with the store in add
		if st != gen<<1|1 {
			return zero, classifyState(st, gen)
		}
		v := s.v.Load()
		// load (seq-cst): v is only rewritten after a take moved state on, so an unchanged
		// state means v is the object of tok's generation.
		if s.state.Load() == st {
			return v.(T), Live
		}
	}
}

// take removes tok and returns its object (destroy/release). Any goroutine; of several takes of
// one token exactly one gets Live.
func (t *Table[T]) Take(tok uintptr) (T, State) {
	var zero T
	s, gen := t.decode(tok)
	if s == nil {
		return zero, Unknown
	}
	// CAS (seq-cst): ends the handle; the next generation is not live. From here the slot is
	// ours until it goes on the free list, and v is the one add stored before its state store.
	if !s.state.CompareAndSwap(gen<<1|1, (gen+1)<<1) {
		return zero, classifyState(s.state.Load(), gen)
	}
	v := s.v.Load()
	s.v.Store(zero) // drop the reference (the slot is ours until it goes on the free list)
	if gen < maxGen {
		t.pushFree(uint32(tok>>tagBits) & slotMask)
	} // else the slot is retired: its generations are exhausted, it is never handed out again
	return v.(T), Live
}

// classifyState says what a token of generation gen is, given its slot's state st (not gen live).
func classifyState(st, gen uint64) State {
	if st>>1 > gen {
		return Stale // every generation below the slot's current one was handed out
	}
	return Unknown
}

// handleSlot must fill exactly one cache line (a compile error here means its fields changed).
var _ [unsafe.Sizeof(handleSlot{}) - cacheLine]struct{}
var _ [cacheLine - unsafe.Sizeof(handleSlot{})]struct{}
