/* test_group_race: veda_group_spawn racing veda_group_wait on the same group.
 *
 * veda.h calls spawn thread-safe and promises that a wait covers every task spawned so far. Three
 * threads spawn tiny tasks as fast as they can while a fourth waits in a loop, so the group's task
 * set empties and refills all the time and spawns land on every edge of a wait: just before it
 * starts, while it drains, and just as it returns. Checked, for every wait: it returns VEDA_OK (a
 * spawn that reached a finished wait used to panic inside libveda: VEDA_ERR_INTERNAL), and every
 * task whose spawn had returned before the wait began has run when it returns. At the end every
 * task has run exactly once. */
#include <pthread.h>
#include <stdatomic.h>
#include "vt.h"

/* More spawner threads than cores, one worker: threads get preempted inside spawn's critical
 * windows, which widens them. Rounds repeat for ROUND_MS in all, or until the first error. */
#ifndef SPAWNERS
#define SPAWNERS 8
#endif
#ifndef WORKERS
#define WORKERS 1
#endif
#ifndef ROUND_MS
#define ROUND_MS 2500
#endif
enum { PER_SPAWNER = 20000, FAILED_SPAWN = 1 << 20 };

static veda_group *g;
static atomic_int runs[SPAWNERS][PER_SPAWNER];  /* times task (k, i) ran */
static atomic_long spawned[SPAWNERS];           /* spawns of thread k that returned VEDA_OK */
static atomic_int spawners_left = SPAWNERS;
static atomic_int bad_spawn, bad_wait, missed;
static atomic_long never, twice;
static char first_error[512];
static pthread_mutex_t err_mu = PTHREAD_MUTEX_INITIALIZER;

static void note_error(const char *what, veda_status st) {
    pthread_mutex_lock(&err_mu);
    if (first_error[0] == 0)
        snprintf(first_error, sizeof first_error, "%s: %s: %s", what, veda_status_string(st), veda_last_error());
    pthread_mutex_unlock(&err_mu);
}

static int32_t task(void *ctx) {
    atomic_fetch_add_explicit((atomic_int *)ctx, 1, memory_order_relaxed);
    return 0;
}

static void *spawner(void *arg) {
    int k = (int)(intptr_t)arg;
    for (int i = 0; i < PER_SPAWNER; i++) {
        veda_status st = veda_group_spawn(g, task, &runs[k][i]);
        if (st != VEDA_OK) {  /* counted; its slot gets a mark so it is not also reported as missed */
            atomic_fetch_add(&bad_spawn, 1); note_error("spawn", st);
            atomic_store(&runs[k][i], FAILED_SPAWN);
            continue;
        }
        atomic_store_explicit(&spawned[k], i + 1, memory_order_release);
    }
    atomic_fetch_sub(&spawners_left, 1);
    return NULL;
}

static void *waiter(void *arg) {
    long *waits = arg;
    long from[SPAWNERS] = {0};
    while (atomic_load(&spawners_left) > 0) {
        long upto[SPAWNERS];
        for (int k = 0; k < SPAWNERS; k++) upto[k] = atomic_load_explicit(&spawned[k], memory_order_acquire);
        veda_status st = veda_group_wait(g);
        (*waits)++;
        if (st != VEDA_OK) { atomic_fetch_add(&bad_wait, 1); note_error("wait", st); continue; }
        for (int k = 0; k < SPAWNERS; k++) {
            for (long i = from[k]; i < upto[k]; i++)
                if (atomic_load_explicit(&runs[k][i], memory_order_relaxed) == 0) atomic_fetch_add(&missed, 1);
            from[k] = upto[k];
        }
    }
    return NULL;
}

/* round runs one race on a fresh group; returns the number of waits. */
static long round_once(veda_runtime *rt) {
    memset(runs, 0, sizeof runs);
    for (int k = 0; k < SPAWNERS; k++) atomic_store(&spawned[k], 0);
    atomic_store(&spawners_left, SPAWNERS);
    OK(veda_group_create(rt, &g));
    pthread_t sp[SPAWNERS], wt;
    long waits = 0;
    pthread_create(&wt, NULL, waiter, &waits);
    for (int k = 0; k < SPAWNERS; k++) pthread_create(&sp[k], NULL, spawner, (void *)(intptr_t)k);
    for (int k = 0; k < SPAWNERS; k++) pthread_join(sp[k], NULL);
    pthread_join(wt, NULL);
    OK(veda_group_wait(g));
    for (int k = 0; k < SPAWNERS; k++)
        for (int i = 0; i < PER_SPAWNER; i++) {
            int r = atomic_load(&runs[k][i]);
            if (r > 1 && r != FAILED_SPAWN) atomic_fetch_add(&twice, 1);
            if (r == 0 && i < atomic_load(&spawned[k])) atomic_fetch_add(&never, 1);
        }
    OK(veda_group_destroy(g));
    return waits;
}

int main(void) {
    veda_runtime *rt = vt_runtime(WORKERS, VEDA_POLICY_ADAPTIVE);
    double t0 = vt_now();
    long waits = 0, rounds = 0;
    do {
        waits += round_once(rt);
        rounds++;
    } while ((vt_now() - t0) * 1e3 < ROUND_MS && first_error[0] == 0 && atomic_load(&missed) == 0 &&
             atomic_load(&never) == 0 && atomic_load(&twice) == 0);
    printf("%ld rounds of %d spawns from %d threads racing %ld waits in %.0f ms: %d bad spawns, "
           "%d bad waits, %d tasks missed by their wait, %ld never run, %ld run twice%s%s\n",
           rounds, SPAWNERS * PER_SPAWNER, SPAWNERS, waits, (vt_now() - t0) * 1e3, atomic_load(&bad_spawn),
           atomic_load(&bad_wait), atomic_load(&missed), atomic_load(&never), atomic_load(&twice),
           first_error[0] ? "; first error: " : "", first_error);
    CHECK(atomic_load(&bad_spawn) == 0);
    CHECK(atomic_load(&bad_wait) == 0);
    CHECK(atomic_load(&missed) == 0);
    CHECK(atomic_load(&never) == 0 && atomic_load(&twice) == 0);
    CHECK(waits > rounds);
    OK(veda_runtime_destroy(rt));
    VT_DONE("test_group_race");
}
