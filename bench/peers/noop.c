/* noop.c: a native one-chunk body for the ctypes latency row of bench/peers (built as a .so). */
#include <stdint.h>
int32_t bench_noop(void *ctx, int64_t b, int64_t e) { (void)ctx; (void)b; (void)e; return 0; }
