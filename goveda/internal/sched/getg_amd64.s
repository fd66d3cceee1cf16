#include "textflag.h"

// func getg() uintptr
// Returns the current goroutine's g pointer (the TLS slot the Go runtime keeps it in). It is only
// used as an identity key: never dereferenced.
TEXT ·getg(SB),NOSPLIT,$0-8
	MOVQ (TLS), AX
	MOVQ AX, ret+0(FP)
	RET
