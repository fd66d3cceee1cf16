package goveda

import "time"

// leafSlice is the time a leaf piece of a cancellable ParallelFor aims at: the bound on how
// long a cancelled loop keeps running a chunk it already started (plus one piece).
const leafSlice = 5 * time.Millisecond

// leaf runs the body over the leaf range [lo, hi) that split decided not to cut further.
//
// Lazy splitting makes few, large leaves (about n / (2 * workers) indices each), and a
// cancellation only stops chunks that have not started, so a cancelled loop would run on for
// up to a whole leaf. When the call's context can be cancelled (st.pieces), a leaf therefore
// runs in consecutive pieces of at least grain indices, checking for cancellation or failure
// before each: the first piece is grain long, and each next piece doubles while the previous
// took under leafSlice/2, and halves (never below grain) while it took over 2*leafSlice. The
// cost is about log2(leaf/grain) extra body calls per leaf plus a clock read per piece. Without
// a cancellable context, and under PolicyDeterministic (whose chunks depend only on the range
// and grain), the leaf is one body call as before. Worker only.
func (st *forState) leaf(lo, hi, grain int) {
	if !st.pieces {
		if err := callErr(st.rt.pool, func() error { return st.body(lo, hi) }); err != nil {
			st.fail(err)
		}
		return
	}
	piece := max(grain, 1)
	for lo < hi {
		if st.f.Stopped() {
			return
		}
		e := hi
		if hi-lo > piece {
			e = lo + piece
		}
		t0 := time.Now()
		b, en := lo, e
		if err := callErr(st.rt.pool, func() error { return st.body(b, en) }); err != nil {
			st.fail(err)
			return
		}
		switch el := time.Since(t0); {
		case el < leafSlice/2:
			if piece < (hi-lo)/2+1 {
				piece *= 2
			}
		case el > 2*leafSlice && piece/2 >= grain:
			piece /= 2
		}
		lo = e
	}
}
