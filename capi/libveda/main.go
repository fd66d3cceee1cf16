// Command libveda is libveda.so, the C ABI of VEDA as a shared library:
//
//	go build -buildmode=c-shared -ldflags=-extldflags=-Wl,-soname,libveda.so.0 -o build/libveda.so ./capi/libveda
//
// All of it is package capi; this command only links it (a c-shared build needs a main package).
package main

import _ "github.com/veda-runtime/veda/capi"

func main() {}
