// Package version holds VEDA's version for the Go side (goveda.Version, the device caches'
// keys, `veda version`). The source is VEDA_VERSION_MAJOR/MINOR/PATCH in include/veda.h;
// version_test.go fails when this copy differs from it.
package version

// String is VEDA's version, "MAJOR.MINOR.PATCH".
const String = "0.1.0"
