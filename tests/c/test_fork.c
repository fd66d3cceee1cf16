/* test_fork: in a child forked after the runtime started, calls return VEDA_ERR_UNSUPPORTED at
 * once, with a message saying to use spawn; the parent keeps working. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "vt.h"

static int32_t noop(void *ctx, int64_t b, int64_t e) { (void)ctx; (void)b; (void)e; return 0; }

int main(void) {
    veda_runtime *rt = vt_runtime(2, VEDA_POLICY_ADAPTIVE);
    OK(veda_parallel_for(rt, 0, 1000, 1, noop, NULL));
    pid_t pid = fork();
    if (pid == 0) {
        alarm(5); /* a hang would be killed by SIGALRM and fail the test */
        int bad = 0;
        veda_runtime *r2 = NULL;
        size_t len;
        bad += veda_parallel_for(rt, 0, 1000, 1, noop, NULL) != VEDA_ERR_UNSUPPORTED;
        bad += strstr(veda_last_error(), "spawn") == NULL;
        bad += strstr(veda_last_error(), "fork") == NULL;
        bad += veda_runtime_create(NULL, &r2) != VEDA_ERR_UNSUPPORTED;
        bad += veda_metrics_json(rt, NULL, 0, &len) != VEDA_ERR_UNSUPPORTED;
        bad += veda_runtime_num_workers(rt) != -1;
        bad += veda_runtime_destroy(rt) != VEDA_ERR_UNSUPPORTED;
        bad += strcmp(veda_version(), VEDA_VERSION_STRING) != 0;
        if (bad) fprintf(stderr, "child: %d checks failed; last error: %s\n", bad, veda_last_error());
        _exit(bad ? 1 : 0);
    }
    int status = 0;
    double t0 = vt_now();
    CHECK(waitpid(pid, &status, 0) == pid);
    double dt = vt_now() - t0;
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(dt < 5.0);
    printf("child answered in %.2f ms\n", dt * 1e3);
    OK(veda_parallel_for(rt, 0, 1000, 1, noop, NULL));
    OK(veda_runtime_destroy(rt));
    VT_DONE("test_fork");
}
