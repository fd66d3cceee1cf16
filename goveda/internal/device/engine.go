package device

import (
	"fmt"
	"sync"
	"unsafe"
)

// karg is one launch argument: a device buffer, scalar bytes, or (OpenCL
// only) a __local allocation of local bytes.
type karg struct {
	buf    *Buffer
	scalar []byte
	local  int64
}

func scalarOf[T any](v T) karg {
	b := make([]byte, unsafe.Sizeof(v))
	*(*T)(unsafe.Pointer(&b[0])) = v
	return karg{scalar: b}
}

// engine drives one device. Methods are called with the device mutex held
// (one batch at a time); alloc/free may also be called by the pool.
type engine interface {
	allocBuf(class int64) (*Buffer, error)
	freeBuf(b *Buffer)
	// write enqueues an async copy of n bytes from src to dst; src must stay
	// valid until finish.
	write(dst *Buffer, src unsafe.Pointer, n int64) error
	// read copies n bytes from src to dst after the work queued before it: OpenCL
	// enqueues it (done at finish); CUDA copies through the staging ring and returns
	// when dst holds the data.
	read(dst unsafe.Pointer, src *Buffer, n int64) error
	// launch enqueues k over global work-items (up to 3 dimensions; unused
	// ones are 1) in groups of local (local[0] == 0: the driver chooses,
	// OpenCL only). CUDA: global is the thread count per dimension, rounded up
	// to whole blocks of local.
	launch(k *kfunc, global, local [3]int, args []karg) error
	// finish waits for the batch and returns its timing.
	finish() (Timing, error)
	builtin(name string) (*kfunc, error)
	compile(src KernelSource) (*kfunc, error)
	releaseKernel(k *kfunc)
	// vendorSgemm enqueues row-major C = alpha*A*B + beta*C through the backend's vendor BLAS
	// (CLBlast, cuBLAS); only called when vendorFor(kind, "sgemm") != "".
	vendorSgemm(m, n, k int, alpha float32, a *Buffer, lda int, b *Buffer, ldb int, beta float32, c *Buffer, ldc int) error
	sync() error
	close()
}

// gdev implements Device over an engine.
type gdev struct {
	mu     sync.Mutex // serialises batches
	info   Info
	eng    engine
	pool   *pool
	cache  *diskCache
	closed bool
	xfer   transferCounters // host<->device copies of every batch
}

func newGdev(info Info, eng engine, limit int64, cache *diskCache) *gdev {
	d := &gdev{info: info, eng: eng, cache: cache}
	d.pool = newPool(limit, eng.allocBuf, eng.freeBuf)
	return d
}

// Info returns the device's description.
func (d *gdev) Info() Info { return d.info }

// Kind returns KindOpenCL or KindCUDA.
func (d *gdev) Kind() Kind { return d.info.Kind }

// String returns "opencl:<name>".
func (d *gdev) String() string { return fmt.Sprintf("%s:%s", d.info.Kind, d.info.Name) }

// Alloc takes a buffer from the pool (OOM: trim, retry once).
func (d *gdev) Alloc(bytes int64) (*Buffer, error) {
	if bytes < 0 {
		return nil, ErrInvalidArgument
	}
	return d.pool.get(bytes)
}

// Free returns b to the pool.
func (d *gdev) Free(b *Buffer) { d.pool.put(b) }

// Trim releases all cached buffers.
func (d *gdev) Trim() { d.pool.trim() }

// PoolStats returns the pool counters.
func (d *gdev) PoolStats() PoolStats { return d.pool.snapshot() }

// CacheStats returns the program cache counters.
func (d *gdev) CacheStats() CacheStats { return d.cache.stats() }

// Synchronize waits for queued work.
func (d *gdev) Synchronize() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return ErrClosed
	}
	return d.eng.sync()
}

// Close trims the pool and releases the context. Idempotent.
func (d *gdev) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	d.pool.trim()
	d.eng.close()
	return nil
}

// batch runs f under the device lock; buffers taken with get are returned
// to the pool afterwards. f enqueues work; batch then finishes it.
func (d *gdev) batch(f func(get func(n int64) (*Buffer, error)) error) (Timing, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return Timing{}, ErrClosed
	}
	var held []*Buffer
	defer func() {
		for _, b := range held {
			d.pool.put(b)
		}
	}()
	get := func(n int64) (*Buffer, error) {
		b, err := d.pool.get(n)
		if err == nil {
			held = append(held, b)
		}
		return b, err
	}
	if err := f(get); err != nil {
		t, _ := d.eng.finish() // drain what was queued before the error
		d.xfer.add(t)
		return Timing{}, err
	}
	t, err := d.eng.finish()
	d.xfer.add(t)
	return t, err
}

// builtin returns a built-in kernel, building the program on first use.
func (d *gdev) builtin(name string) (*kfunc, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, ErrClosed
	}
	return d.eng.builtin(name)
}
