package goveda

import "github.com/veda-runtime/veda/goveda/internal/version"

// Version is VEDA's version, "MAJOR.MINOR.PATCH": the same as VEDA_VERSION_STRING in
// include/veda.h (the source) and veda_version() in the C ABI.
const Version = version.String
