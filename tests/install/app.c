/* A small program built against an installed libveda: sums 0..n-1 with veda_parallel_reduce. */
#include <stdio.h>
#include <string.h>
#include <veda.h>

static int32_t fold(void *ctx, int64_t b, int64_t e, void *acc) {
    (void)ctx;
    for (int64_t i = b; i < e; i++) *(int64_t *)acc += i;
    return 0;
}
static void combine(void *ctx, void *acc, const void *other) {
    (void)ctx;
    *(int64_t *)acc += *(const int64_t *)other;
}

int main(void) {
    veda_runtime *rt;
    if (veda_runtime_create(NULL, &rt) != VEDA_OK) {
        fprintf(stderr, "veda_runtime_create: %s\n", veda_last_error());
        return 1;
    }
    int64_t zero = 0, sum = 0, n = 1000000;
    veda_status st = veda_parallel_reduce(rt, 0, n, 0, sizeof sum, &zero, fold, combine, NULL, &sum);
    veda_runtime_destroy(rt);
    if (st != VEDA_OK || sum != n * (n - 1) / 2 || strcmp(veda_version(), VEDA_VERSION_STRING) != 0) {
        fprintf(stderr, "failed: %s (%s)\n", veda_status_string(st), veda_last_error());
        return 1;
    }
    printf("veda %s: sum = %lld\n", veda_version(), (long long)sum);
    return 0;
}
