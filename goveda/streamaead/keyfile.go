package streamaead

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
)

// ParseKey decodes a key file's contents: 32 raw bytes, or 64 hex characters optionally followed
// by one newline ("\n" or "\r\n"). Anything else wraps ErrKey, saying what was found.
func ParseKey(b []byte) ([]byte, error) {
	if len(b) == KeySize {
		return append([]byte(nil), b...), nil
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if len(s) == 2*KeySize {
		k, err := hex.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("%w: 64 characters but not hex: %v", ErrKey, err)
		}
		return k, nil
	}
	return nil, fmt.Errorf("%w: the key file holds %d bytes; want 32 raw bytes, or 64 hex characters and a newline", ErrKey, len(b))
}

// ReadKeyFile reads and parses a key file (see ParseKey).
func ReadKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParseKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// GenerateKey returns a new random 32-byte key (crypto/rand).
func GenerateKey() []byte {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		panic("veda: streamaead: crypto/rand failed: " + err.Error()) // rand.Read never fails on Linux
	}
	return k
}

// FormatKey returns the key file text of k: 64 hex characters and a newline.
func FormatKey(k []byte) []byte { return []byte(hex.EncodeToString(k) + "\n") }
