// Package goveda is the VEDA runtime: a work-stealing pool of worker goroutines shared by Go, C
// (libveda.so) and Python callers. The full design essay follows in this file.
package goveda
