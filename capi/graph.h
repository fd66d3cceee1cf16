// graph.h: internal declarations shared by graph.c and graph.go (pipeline graphs). Not installed.
#ifndef VEDA_CAPI_GRAPH_H
#define VEDA_CAPI_GRAPH_H
#include <stdint.h>
#include "veda.h"

// The copy trampoline (graph.c): Go passes the item as an integer and gets the copy back as one.
uintptr_t vedac_call_copy(veda_copy_fn fn, uintptr_t ctx, int64_t seq, uintptr_t item);
#endif
