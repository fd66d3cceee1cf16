/* test_trace: veda_trace_start/stop and veda_metrics_serve/stop through the C ABI: a traced
 * parallel_for writes a trace-event file with worker tracks and chunk events; every bad-input
 * rule of veda.h's trace section returns its status and a message; the metrics server answers
 * an HTTP scrape over loopback and a taken address is refused at once. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "vt.h"

static int32_t body(void *ctx, int64_t lo, int64_t hi) {
    double *x = ctx;
    for (int64_t i = lo; i < hi; i++) x[i] = (double)i * 0.5;
    return 0;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc(n + 1);
    size_t got = fread(b, 1, n, f);
    b[got] = 0;
    fclose(f);
    return b;
}

/* scrape GETs /metrics from 127.0.0.1:port and returns the response (malloc'd) or NULL. */
static char *scrape(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { close(fd); return NULL; }
    const char *req = "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n";
    if (write(fd, req, strlen(req)) < 0) { close(fd); return NULL; }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    ssize_t r;
    while ((r = read(fd, buf + n, cap - n - 1)) > 0) {
        n += (size_t)r;
        if (n + 1 >= cap) { cap *= 2; buf = realloc(buf, cap); }
    }
    buf[n] = 0;
    close(fd);
    return buf;
}

/* free_port finds a loopback port that nothing listens on now. */
static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&a, sizeof a);
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    int p = ntohs(a.sin_port);
    close(fd);
    return p;
}

/* The child of test_exit_trace: VEDA_TRACE is in its environment; it runs loops and returns
   from main without destroying its runtime. libveda's atexit handler writes the trace. */
static int exit_without_destroy(void) {
    static double x[1 << 16];
    veda_runtime *r = vt_runtime(2, VEDA_POLICY_FIXED);
    for (int k = 0; k < 5; k++)
        if (veda_parallel_for(r, 0, 1 << 16, 1024, body, x) != VEDA_OK) return 3;
    return 0;
}

/* VEDA_TRACE in a program that never destroys its runtime: the trace is written at exit. */
static void test_exit_trace(const char *self) {
    char path[256], env[300];
    snprintf(path, sizeof path, "/tmp/veda_test_exit_trace_%d.json", (int)getpid());
    snprintf(env, sizeof env, "VEDA_TRACE=%s", path);
    unlink(path);
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {(char *)self, "--exit-without-destroy", NULL};
        extern char **environ;
        size_t n = 0;
        while (environ[n] != NULL) n++;
        char **envp = calloc(n + 2, sizeof *envp); /* this environment (sanitizer options) + VEDA_TRACE */
        if (envp == NULL) _exit(126);
        for (size_t i = 0; i < n; i++) envp[i] = environ[i];
        envp[n] = env;
        execve(self, argv, envp);
        _exit(127);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char *js = slurp(path);
    CHECK(js != NULL);
    if (js) {
        CHECK(strncmp(js, "{\"traceEvents\":[", 16) == 0);
        CHECK(strstr(js, "\"name\":\"chunk\"") != NULL);
        free(js);
    }
    unlink(path);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--exit-without-destroy") == 0) return exit_without_destroy();
    test_exit_trace("/proc/self/exe");
    veda_runtime *rt = vt_runtime(2, VEDA_POLICY_FIXED);
    char path[256];
    snprintf(path, sizeof path, "/tmp/veda_test_trace_%d.json", (int)getpid());

    /* bad input */
    EXPECT_ERR_MSG(veda_trace_start(NULL, path), VEDA_ERR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR_MSG(veda_trace_start(rt, NULL), VEDA_ERR_INVALID_ARGUMENT, "path");
    EXPECT_ERR_MSG(veda_trace_start(rt, ""), VEDA_ERR_INVALID_ARGUMENT, "empty");
    EXPECT_ERR_MSG(veda_trace_start(rt, "/nonexistent-dir/x/trace.json"), VEDA_ERR_INVALID_ARGUMENT, "/nonexistent-dir/x/trace.json");
    EXPECT_ERR_MSG(veda_trace_stop(rt), VEDA_ERR_INVALID_ARGUMENT, "no trace");

    /* a traced run */
    static double x[1 << 20];
    OK(veda_trace_start(rt, path));
    EXPECT_ERR_MSG(veda_trace_start(rt, path), VEDA_ERR_INVALID_ARGUMENT, "already");
    for (int k = 0; k < 20; k++) OK(veda_parallel_for(rt, 0, 1 << 20, 4096, body, x));
    OK(veda_trace_stop(rt));
    for (int i = 0; i < (1 << 20); i++) if (x[i] != (double)i * 0.5) { CHECK(!"parallel_for result"); break; }
    EXPECT_ERR_MSG(veda_trace_stop(rt), VEDA_ERR_INVALID_ARGUMENT, "no trace");
    char *js = slurp(path);
    CHECK(js != NULL);
    if (js) {
        CHECK(strncmp(js, "{\"traceEvents\":[", 16) == 0);
        CHECK(strstr(js, "\"name\":\"worker 0\"") != NULL);
        CHECK(strstr(js, "\"name\":\"worker 1\"") != NULL);
        CHECK(strstr(js, "\"name\":\"chunk\"") != NULL);
        CHECK(strstr(js, "\"dropped_events\":0") != NULL);
        free(js);
    }
    unlink(path);

    /* metrics over HTTP */
    int port = free_port();
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    EXPECT_ERR_MSG(veda_metrics_stop(rt), VEDA_ERR_INVALID_ARGUMENT, "no metrics server");
    EXPECT_ERR_MSG(veda_metrics_serve(rt, "no-port"), VEDA_ERR_INVALID_ARGUMENT, "host:port");
    EXPECT_ERR_MSG(veda_metrics_serve(rt, ""), VEDA_ERR_INVALID_ARGUMENT, "NULL");
    OK(veda_metrics_serve(rt, addr));
    EXPECT_ERR_MSG(veda_metrics_serve(rt, addr), VEDA_ERR_INVALID_ARGUMENT, "in use");
    char *resp = scrape(port);
    CHECK(resp != NULL);
    if (resp) {
        CHECK(strstr(resp, "200 OK") != NULL);
        CHECK(strstr(resp, "text/plain; version=0.0.4") != NULL);
        CHECK(strstr(resp, "\nveda_workers 2\n") != NULL);
        CHECK(strstr(resp, "# TYPE veda_tasks_executed_total counter") != NULL);
        free(resp);
    }
    OK(veda_metrics_stop(rt));
    resp = scrape(port);
    CHECK(resp == NULL); /* nothing listens any more */
    free(resp);

    /* destroying the runtime stops a server and writes a running trace */
    OK(veda_metrics_serve(rt, addr));
    OK(veda_trace_start(rt, path));
    OK(veda_parallel_for(rt, 0, 1 << 16, 1024, body, x));
    OK(veda_runtime_destroy(rt));
    resp = scrape(port);
    CHECK(resp == NULL);
    free(resp);
    js = slurp(path);
    CHECK(js != NULL && strstr(js, "\"traceEvents\"") != NULL);
    free(js);
    unlink(path);
    EXPECT_ST(veda_trace_start(rt, path), VEDA_ERR_CLOSED);
    EXPECT_ST(veda_metrics_serve(rt, addr), VEDA_ERR_CLOSED);
    VT_DONE("test_trace");
}
