package goveda

import (
	"os"
	"testing"
)

// TestMain keeps the package's tests independent of the machine's saved calibration: unless the
// caller chose otherwise, the runtimes of these tests neither load nor save it (the calibration
// tests turn it on with their own VEDA_CACHE_DIR).
func TestMain(m *testing.M) {
	if _, ok := os.LookupEnv("VEDA_CALIBRATION"); !ok {
		os.Setenv("VEDA_CALIBRATION", "off")
	}
	os.Exit(m.Run())
}
