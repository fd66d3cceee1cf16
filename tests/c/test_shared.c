/* test_shared: veda_runtime_shared gives every caller the same pool, reference-counted; the last
 * destroy stops it; a handle released twice, or one release too many, is VEDA_ERR_CLOSED; many
 * threads acquire and release at once; a forked child gets VEDA_ERR_UNSUPPORTED. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>
#include "vt.h"

static int32_t count_range(void *ctx, int64_t b, int64_t e) {
    atomic_fetch_add((_Atomic int64_t *)ctx, e - b);
    return 0;
}

/* tasks_executed from the metrics JSON of rt, or -1. */
static long long tasks_executed(veda_runtime *rt) { return vt_metric(rt, "tasks_executed"); }

static void *churn(void *arg) {
    (void)arg;
    for (int i = 0; i < 200; i++) {
        veda_runtime *rt = NULL;
        if (veda_runtime_shared(&rt) != VEDA_OK) return (void *)1;
        _Atomic int64_t n = 0;
        if (veda_parallel_for(rt, 0, 256, 1, count_range, (void *)&n) != VEDA_OK || n != 256)
            return (void *)2;
        if (veda_runtime_destroy(rt) != VEDA_OK) return (void *)3;
    }
    return NULL;
}

int main(void) {
    EXPECT_ERR_MSG(veda_runtime_shared(NULL), VEDA_ERR_INVALID_ARGUMENT, "out is NULL");

    veda_runtime *a = NULL, *b = NULL;
    OK(veda_runtime_shared(&a));
    OK(veda_runtime_shared(&b));
    CHECK(a != NULL && b != NULL && a != b); /* one handle per reference */
    CHECK(veda_runtime_num_workers(a) >= 1);
    CHECK(veda_runtime_num_workers(a) == veda_runtime_num_workers(b));

    /* One pool: tasks run through a are counted by b's metrics. */
    long long before = tasks_executed(b);
    _Atomic int64_t n = 0;
    OK(veda_parallel_for(a, 0, 1000, 1, count_range, (void *)&n));
    CHECK(n == 1000);
    long long after = tasks_executed(b);
    CHECK(before >= 0 && after > before);

    /* Releasing a: b keeps working; a is dead (stale), b is not. */
    OK(veda_runtime_destroy(a));
    EXPECT_ST(veda_runtime_destroy(a), VEDA_ERR_CLOSED);
    EXPECT_ST(veda_parallel_for(a, 0, 10, 1, count_range, (void *)&n), VEDA_ERR_CLOSED);
    n = 0;
    OK(veda_parallel_for(b, 0, 10, 1, count_range, (void *)&n));
    CHECK(n == 10);

    /* Many threads acquire and release while b holds the pool. */
    pthread_t th[8];
    for (int i = 0; i < 8; i++) CHECK(pthread_create(&th[i], NULL, churn, NULL) == 0);
    for (int i = 0; i < 8; i++) {
        void *r = NULL;
        pthread_join(th[i], &r);
        CHECK(r == NULL);
    }

    /* A standalone runtime is a different pool. */
    veda_runtime *own = vt_runtime(1, VEDA_POLICY_FIXED);
    long long own0 = tasks_executed(own);
    OK(veda_parallel_for(b, 0, 1000, 1, count_range, (void *)&n));
    CHECK(tasks_executed(own) == own0);
    OK(veda_runtime_destroy(own));

    /* The last release stops the pool; one more release is CLOSED, never a crash. */
    OK(veda_runtime_destroy(b));
    EXPECT_ST(veda_runtime_destroy(b), VEDA_ERR_CLOSED);
    EXPECT_ST(veda_runtime_num_workers(b), -1);

    /* A new acquire starts a fresh pool that works. */
    veda_runtime *c = NULL;
    OK(veda_runtime_shared(&c));
    n = 0;
    OK(veda_parallel_for(c, 0, 100, 1, count_range, (void *)&n));
    CHECK(n == 100);

    /* Forked child: UNSUPPORTED at once, the parent unaffected. */
    pid_t pid = fork();
    if (pid == 0) {
        alarm(5);
        veda_runtime *x = NULL;
        int bad = veda_runtime_shared(&x) != VEDA_ERR_UNSUPPORTED;
        bad += x != NULL;
        bad += strstr(veda_last_error(), "fork") == NULL;
        _exit(bad);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    OK(veda_runtime_destroy(c));
    EXPECT_ST(veda_runtime_destroy(c), VEDA_ERR_CLOSED);
    VT_DONE("test_shared");
}
