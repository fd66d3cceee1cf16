package capi

import (
	"os"
	"runtime"
	"testing"

	"github.com/veda-runtime/veda/goveda"
)

// Loading the C ABI declares the process a cgo host (main.go's init): every runtime created
// afterwards, with a plain Config as the shared one is, keeps a spare P for its C bodies.
func TestLibraryRuntimesKeepASpareP(t *testing.T) {
	if os.Getenv("GOMAXPROCS") != "" {
		t.Skip("GOMAXPROCS is set in the environment: the runtime leaves it alone")
	}
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	rt, err := goveda.New(goveda.Config{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if got := runtime.GOMAXPROCS(0); got != 3 {
		t.Fatalf("GOMAXPROCS = %d after a 2-worker runtime in the C library, want 3", got)
	}
}
