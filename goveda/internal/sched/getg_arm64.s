#include "textflag.h"

// func getg() uintptr
// Returns the current goroutine's g pointer (register g). Only used as an identity key.
TEXT ·getg(SB),NOSPLIT,$0-8
	MOVD g, R0
	MOVD R0, ret+0(FP)
	RET
