package device

import (
	"errors"
	"math/bits"
	"sync"
)

// Buffer is device memory from a device's pool. Its capacity is a size
// class (a power of two, at least minClass); Size is what was asked for.
// A Buffer belongs to one device; Free it on that device, once.
type Buffer struct {
	size, class int64
	off         int64   // byte offset of a view (Resident reads and writes); 0 for pool buffers
	ocl         oclMem  // OpenCL: the cl_mem
	cu          cudaMem // CUDA: the device pointer
}

// Size returns the requested size in bytes.
func (b *Buffer) Size() int64 { return b.size }

const minClass = 4096

func sizeClass(n int64) int64 {
	if n <= minClass {
		return minClass
	}
	return int64(1) << bits.Len64(uint64(n-1))
}

// pool is a per-device size-class cache of device buffers. Any goroutine.
type pool struct {
	mu      sync.Mutex
	free    map[int64][]*Buffer
	stats   PoolStats
	alloc   func(class int64) (*Buffer, error) // driver allocation
	release func(*Buffer)                      // driver free
}

func newPool(limit int64, alloc func(int64) (*Buffer, error), release func(*Buffer)) *pool {
	return &pool{free: map[int64][]*Buffer{}, stats: PoolStats{LimitBytes: limit}, alloc: alloc, release: release}
}

// get returns a buffer of at least n bytes: a cached one of n's class, or a
// new one. On out-of-memory it trims the pool and retries once.
func (p *pool) get(n int64) (*Buffer, error) {
	if n <= 0 {
		n = 1
	}
	c := sizeClass(n)
	p.mu.Lock()
	defer p.mu.Unlock()
	if l := p.free[c]; len(l) > 0 {
		b := l[len(l)-1]
		p.free[c] = l[:len(l)-1]
		p.stats.CachedBytes -= c
		p.stats.Reuses++
		b.size = n
		return b, nil
	}
	b, err := p.alloc(c)
	if err != nil && errors.Is(err, ErrOutOfMemory) {
		p.trimLocked()
		p.stats.OOMRetries++
		b, err = p.alloc(c)
	}
	if err != nil {
		return nil, err
	}
	p.stats.Allocs++
	b.size, b.class = n, c
	return b, nil
}

// put returns b to the pool, or frees it when the pool is at its limit.
func (p *pool) put(b *Buffer) {
	if b == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stats.CachedBytes+b.class > p.stats.LimitBytes {
		p.release(b)
		p.stats.Releases++
		return
	}
	p.free[b.class] = append(p.free[b.class], b)
	p.stats.CachedBytes += b.class
}

func (p *pool) trim() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.trimLocked()
}

func (p *pool) trimLocked() {
	for c, l := range p.free {
		for _, b := range l {
			p.release(b)
			p.stats.Releases++
		}
		delete(p.free, c)
	}
	p.stats.CachedBytes = 0
}

func (p *pool) snapshot() PoolStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}
