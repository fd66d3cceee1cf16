package device

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/veda-runtime/veda/goveda/internal/version"
)

// cacheFormat is bumped whenever the entry layout or key recipe changes.
const cacheFormat = "veda-progcache-1"

var cacheMagic = []byte("VEDAPC1\n")

// diskCache stores compiled programs. Entry layout: magic, SHA-256 of the
// payload (32 bytes), payload. Any goroutine; concurrent writers of one key
// are safe (each renames a complete temp file over the entry).
type diskCache struct {
	dir                           string // "" = off
	hits, misses, writes, corrupt atomic.Int64
}

func newDiskCache(dir string) *diskCache {
	if dir == "off" {
		dir = ""
	}
	return &diskCache{dir: dir}
}

func defaultCacheDir() string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "veda")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".cache", "veda")
	}
	return ""
}

// key hashes everything that decides the compiled result.
func cacheKey(parts ...string) string {
	h := sha256.New()
	h.Write([]byte(cacheFormat))
	h.Write([]byte{0})
	h.Write([]byte(version.String)) // VEDA's version enters every key
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (c *diskCache) path(kind, key string) string { return filepath.Join(c.dir, kind, key+".bin") }

// load returns the payload for key, or nil. A corrupt entry is removed.
func (c *diskCache) load(kind, key string) []byte {
	if c.dir == "" {
		return nil
	}
	data, err := os.ReadFile(c.path(kind, key))
	if err != nil {
		c.misses.Add(1)
		return nil
	}
	hl := len(cacheMagic) + sha256.Size
	if len(data) < hl || !bytes.Equal(data[:len(cacheMagic)], cacheMagic) {
		c.bad(kind, key)
		return nil
	}
	sum := sha256.Sum256(data[hl:])
	if !bytes.Equal(sum[:], data[len(cacheMagic):hl]) {
		c.bad(kind, key)
		return nil
	}
	c.hits.Add(1)
	return data[hl:]
}

// bad removes an entry that failed its checksum or failed to load.
func (c *diskCache) bad(kind, key string) {
	c.corrupt.Add(1)
	c.misses.Add(1)
	_ = os.Remove(c.path(kind, key))
}

// store writes the entry atomically: temp file in the same directory, then
// rename. Errors are ignored (the cache is an optimisation).
func (c *diskCache) store(kind, key string, payload []byte) {
	if c.dir == "" || len(payload) == 0 {
		return
	}
	dir := filepath.Join(c.dir, kind)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	f, err := os.CreateTemp(dir, key+".tmp*")
	if err != nil {
		return
	}
	sum := sha256.Sum256(payload)
	_, err1 := f.Write(cacheMagic)
	_, err2 := f.Write(sum[:])
	_, err3 := f.Write(payload)
	err4 := f.Close()
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		_ = os.Remove(f.Name())
		return
	}
	if os.Rename(f.Name(), c.path(kind, key)) != nil {
		_ = os.Remove(f.Name())
		return
	}
	c.writes.Add(1)
}

func (c *diskCache) stats() CacheStats {
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Writes: c.writes.Load(), Corrupt: c.corrupt.Load(), Dir: c.dir}
}
