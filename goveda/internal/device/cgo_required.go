package device

// This package holds C: a build without cgo must stop in cgocheck, with its one clear message.
import _ "github.com/veda-runtime/veda/goveda/internal/cgocheck"
