/* test_graph: veda_graph_* — the founding example (4 workers, every item's contributions checked,
 * with a copy callback over malloc'd items and with shared pointers), validation errors with
 * nothing run, exactly-once per copy with random failures and cancellations (items and copies
 * are malloc'd: under ASan a double drop is a double free and a lost copy a leak), the clean
 * prefix after a failure, cancellation from another thread, nested veda_parallel_for in a node,
 * node priorities, every bad input of the contract, and the fork guard of every graph function. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>
#include "vt.h"

#define MAXN 4096

static veda_runtime *rt1, *rt2, *rt4;

/* ---- the founding example ---------------------------------------------------------------- */

/* An item of the founding example: branch A turns x into (2x, x) then into 2x - x; B into -x. */
typedef struct fitem {
    int64_t seq;
    int64_t a, b;
    char tag; /* the branch that worked on it: 'A' or 'B' (0: fresh) */
} fitem;

typedef struct founding {
    int64_t n;
    _Atomic int64_t copies, dropped;
    int64_t sum, last_seq, npassed;
    int64_t contrib[MAXN][2];
    char tags[MAXN][2];
    int ncontrib[MAXN];
} founding;

static int32_t f_source(void *ctx, int64_t seq, void **out, uint64_t *bytes) {
    founding *f = ctx;
    if (seq >= f->n) return 0;
    fitem *it = calloc(1, sizeof *it);
    it->seq = seq;
    it->a = seq; /* data = 0..n-1 */
    *out = it;
    *bytes = sizeof *it;
    return 1;
}
static void *f_copy(void *ctx, int64_t seq, void *p) {
    founding *f = ctx;
    fitem *src = p, *c = malloc(sizeof *c);
    if (src->seq != seq || src->tag != 0) {
        fprintf(stderr, "copy: item %lld (tag %c) given as seq %lld\n", (long long)src->seq, src->tag, (long long)seq);
        vt_failures++;
    }
    *c = *src;
    atomic_fetch_add(&f->copies, 1);
    return c;
}
static void f_drop(void *ctx, int64_t seq, void *p) {
    founding *f = ctx;
    (void)seq;
    atomic_fetch_add(&f->dropped, 1);
    free(p);
}
static int32_t f_a1(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)ctx; (void)out; (void)bytes;
    fitem *it = p;
    if (it->tag != 0 || it->seq != seq) return 9; /* a copy must not be shared */
    it->tag = 'A';
    it->b = it->a;
    it->a = 2 * it->a; /* x -> (2x, x) */
    return 0;
}
static int32_t f_a2(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)ctx; (void)seq; (void)bytes;
    fitem *it = p, *n = malloc(sizeof *n); /* a new allocation goes on; the old one is freed */
    *n = *it;
    n->a = it->a - it->b; /* (x2, x) -> x2 - x */
    n->b = 0;
    free(it);
    *out = n;
    return 0;
}
static int32_t f_b(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)ctx; (void)out; (void)bytes;
    fitem *it = p;
    if (it->tag != 0 || it->seq != seq) return 9;
    if (seq % 13 == 0) usleep(20); /* let branch A overtake sometimes */
    it->tag = 'B';
    it->a = -it->a; /* x -> -x */
    return 0;
}
static int32_t f_sum(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)out; (void)bytes;
    founding *f = ctx;
    fitem *it = p;
    if (seq < f->last_seq || seq >= MAXN || f->ncontrib[seq] >= 2) {
        fprintf(stderr, "sum: item %lld after %lld (%d contributions)\n", (long long)seq, (long long)f->last_seq,
                seq < MAXN ? f->ncontrib[seq] : -1);
        vt_failures++;
        free(it);
        return 0;
    }
    f->last_seq = seq;
    f->sum += it->a; /* sum += x */
    f->contrib[seq][f->ncontrib[seq]] = it->a;
    f->tags[seq][f->ncontrib[seq]] = it->tag;
    f->ncontrib[seq]++;
    f->npassed++;
    free(it); /* the copy passed the sink: the caller owns it */
    return 0;
}

static void test_founding(void) {
    founding *f = calloc(1, sizeof *f);
    f->n = 3000;
    f->last_seq = -1;
    veda_pipeline_options o;
    veda_pipeline_options_init(&o);
    o.max_in_flight = 16;
    o.drop = f_drop;
    o.drop_ctx = f;
    veda_graph *g = NULL;
    OK(veda_graph_create(rt4, &o, f_copy, f, &g));
    veda_graph_node a1 = -1, a2 = -1, b = -1, sum = -1;
    OK(veda_graph_add_node(g, "A1", VEDA_STAGE_PARALLEL, f_a1, NULL, &a1));
    OK(veda_graph_add_node(g, "A2", VEDA_STAGE_PARALLEL, f_a2, NULL, &a2));
    OK(veda_graph_add_node(g, "B", VEDA_STAGE_PARALLEL, f_b, NULL, &b));
    OK(veda_graph_add_sink(g, "sum", VEDA_STAGE_SERIAL_IN_ORDER, f_sum, f, &sum));
    CHECK(a1 == 1 && a2 == 2 && b == 3 && sum == 4);
    OK(veda_graph_add_edge(g, VEDA_GRAPH_SOURCE, a1)); /* the first successor gets the item itself */
    OK(veda_graph_add_edge(g, VEDA_GRAPH_SOURCE, b));  /* B gets a copy */
    OK(veda_graph_add_edge(g, a1, a2));
    OK(veda_graph_add_edge(g, a2, sum)); /* path 0 into the sink */
    OK(veda_graph_add_edge(g, b, sum));  /* path 1 */
    OK(veda_graph_validate(g));
    for (int run = 0; run < 2; run++) { /* a graph runs again after a run */
        memset(f->ncontrib, 0, sizeof f->ncontrib);
        f->sum = 0;
        f->last_seq = -1;
        f->npassed = 0;
        atomic_store(&f->copies, 0);
        OK(veda_graph_run(g, f_source, f));
        CHECK(f->sum == 0);
        CHECK(f->npassed == 2 * f->n);
        CHECK(atomic_load(&f->copies) == f->n);
        CHECK(atomic_load(&f->dropped) == 0);
        for (int64_t s = 0; s < f->n; s++) {
            if (f->ncontrib[s] != 2 || f->contrib[s][0] != s || f->contrib[s][1] != -s || f->tags[s][0] != 'A' ||
                f->tags[s][1] != 'B') {
                fprintf(stderr, "founding: item %lld contributed %d: [%lld %c, %lld %c], want [%lld A, %lld B]\n",
                        (long long)s, f->ncontrib[s], (long long)f->contrib[s][0], f->tags[s][0],
                        (long long)f->contrib[s][1], f->tags[s][1], (long long)s, (long long)-s);
                vt_failures++;
                break;
            }
        }
    }
    OK(veda_graph_destroy(g));
    free(f);
}

/* The founding example with copy NULL: both branches get the same pointer (here an integer, x+1
 * encoded in the pointer, so sharing is harmless); nodes return new values through *out. */
static _Atomic int64_t shared_sum, shared_n, shared_same;
static int32_t s_source(void *ctx, int64_t seq, void **out, uint64_t *bytes) {
    (void)bytes;
    if (seq >= *(int64_t *)ctx) return 0;
    *out = (void *)(intptr_t)(seq + 1);
    return 1;
}
static int32_t s_a1(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)ctx; (void)bytes;
    if ((intptr_t)p == seq + 1) atomic_fetch_add(&shared_same, 1);
    *out = (void *)(intptr_t)(2 * ((intptr_t)p - 1) * 65536 + ((intptr_t)p - 1)); /* (2x, x) packed */
    return 0;
}
static int32_t s_a2(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)ctx; (void)seq; (void)bytes;
    intptr_t v = (intptr_t)p;
    *out = (void *)(v / 65536 - v % 65536); /* x2 - x */
    return 0;
}
static int32_t s_b(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)ctx; (void)bytes;
    if ((intptr_t)p == seq + 1) atomic_fetch_add(&shared_same, 1);
    *out = (void *)(-((intptr_t)p - 1));
    return 0;
}
static int32_t s_sum(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)ctx; (void)out; (void)bytes;
    int64_t x = (int64_t)(intptr_t)p;
    if (x != seq && x != -seq) vt_failures++;
    atomic_fetch_add(&shared_sum, x);
    atomic_fetch_add(&shared_n, 1);
    return 0;
}
static void test_founding_shared(void) {
    veda_graph *g = NULL;
    OK(veda_graph_create(rt4, NULL, NULL, NULL, &g));
    veda_graph_node a1, a2, b, sum;
    OK(veda_graph_add_node(g, "A1", VEDA_STAGE_PARALLEL, s_a1, NULL, &a1));
    OK(veda_graph_add_node(g, "A2", VEDA_STAGE_SERIAL_OUT_OF_ORDER, s_a2, NULL, &a2));
    OK(veda_graph_add_node(g, "B", VEDA_STAGE_PARALLEL, s_b, NULL, &b));
    OK(veda_graph_add_sink(g, "sum", VEDA_STAGE_SERIAL_IN_ORDER, s_sum, NULL, &sum));
    OK(veda_graph_add_edge(g, VEDA_GRAPH_SOURCE, a1));
    OK(veda_graph_add_edge(g, VEDA_GRAPH_SOURCE, b));
    OK(veda_graph_add_edge(g, a1, a2));
    OK(veda_graph_add_edge(g, a2, sum));
    OK(veda_graph_add_edge(g, b, sum));
    int64_t n = 2000;
    OK(veda_graph_run(g, s_source, &n));
    CHECK(atomic_load(&shared_sum) == 0);
    CHECK(atomic_load(&shared_n) == 2 * n);
    CHECK(atomic_load(&shared_same) == 2 * n); /* both branches got the source's pointer */
    OK(veda_graph_destroy(g));
}

/* ---- validation ---------------------------------------------------------------------------- */

static _Atomic int64_t src_calls, node_calls;
static int32_t v_source(void *ctx, int64_t seq, void **out, uint64_t *bytes) {
    (void)ctx; (void)bytes;
    atomic_fetch_add(&src_calls, 1);
    if (seq >= 3) return 0;
    *out = NULL;
    return 1;
}
static int32_t v_node(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)ctx; (void)seq; (void)p; (void)out; (void)bytes;
    atomic_fetch_add(&node_calls, 1);
    return 0;
}

/* expect_invalid: validate and run both fail with sub in the message, and nothing ran. */
static void expect_invalid(veda_graph *g, const char *sub, int line) {
    atomic_store(&src_calls, 0);
    atomic_store(&node_calls, 0);
    veda_status st = veda_graph_validate(g);
    if (st != VEDA_ERR_INVALID_ARGUMENT || strstr(veda_last_error(), sub) == NULL) {
        fprintf(stderr, "line %d: validate: %s (%s), want \"%s\"\n", line, veda_status_string(st), veda_last_error(), sub);
        vt_failures++;
    }
    st = veda_graph_run(g, v_source, NULL);
    if (st != VEDA_ERR_INVALID_ARGUMENT || strstr(veda_last_error(), sub) == NULL) {
        fprintf(stderr, "line %d: run: %s (%s), want \"%s\"\n", line, veda_status_string(st), veda_last_error(), sub);
        vt_failures++;
    }
    if (atomic_load(&src_calls) != 0 || atomic_load(&node_calls) != 0) {
        fprintf(stderr, "line %d: an invalid graph ran (%lld source calls, %lld node calls)\n", line,
                (long long)atomic_load(&src_calls), (long long)atomic_load(&node_calls));
        vt_failures++;
    }
}

static void test_validation(void) {
    veda_graph *g = NULL;
    veda_graph_node a, b, c, s;
    /* No edge out of the source. */
    OK(veda_graph_create(rt2, NULL, NULL, NULL, &g));
    expect_invalid(g, "the source has no edge", __LINE__);
    OK(veda_graph_destroy(g));
    /* A cycle a -> b -> a. */
    OK(veda_graph_create(rt2, NULL, NULL, NULL, &g));
    OK(veda_graph_add_node(g, "a", VEDA_STAGE_PARALLEL, v_node, NULL, &a));
    OK(veda_graph_add_node(g, "b", VEDA_STAGE_PARALLEL, v_node, NULL, &b));
    OK(veda_graph_add_sink(g, "s", VEDA_STAGE_SERIAL_IN_ORDER, v_node, NULL, &s));
    OK(veda_graph_add_edge(g, VEDA_GRAPH_SOURCE, a));
    OK(veda_graph_add_edge(g, a, b));
    OK(veda_graph_add_edge(g, b, a));
    OK(veda_graph_add_edge(g, b, s));
    expect_invalid(g, "cycle \"a\" -> \"b\" -> \"a\"", __LINE__);
    OK(veda_graph_destroy(g));
    /* A branch that ends without a sink. */
    OK(veda_graph_create(rt2, NULL, NULL, NULL, &g));
    OK(veda_graph_add_node(g, "a", VEDA_STAGE_PARALLEL, v_node, NULL, &a));
    OK(veda_graph_add_node(g, "dead", VEDA_STAGE_PARALLEL, v_node, NULL, &b));
    OK(veda_graph_add_sink(g, "s", VEDA_STAGE_PARALLEL, v_node, NULL, &s));
    OK(veda_graph_add_edge(g, VEDA_GRAPH_SOURCE, a));
    OK(veda_graph_add_edge(g, a, s));
    OK(veda_graph_add_edge(g, a, b));
    expect_invalid(g, "branch through \"dead\" ends there without reaching a sink", __LINE__);
    /* Fixing it makes the graph valid and runnable. */
    OK(veda_graph_add_edge(g, b, s));
    OK(veda_graph_validate(g));
    OK(veda_graph_run(g, v_source, NULL));
    CHECK(atomic_load(&node_calls) == 3 * 4); /* a, dead, and s twice, for 3 items */
    OK(veda_graph_destroy(g));
    /* A node not reachable from the source. */
    OK(veda_graph_create(rt2, NULL, NULL, NULL, &g));
    OK(veda_graph_add_sink(g, "s", VEDA_STAGE_PARALLEL, v_node, NULL, &s));
    OK(veda_graph_add_sink(g, "lonely", VEDA_STAGE_PARALLEL, v_node, NULL, &c));
    OK(veda_graph_add_edge(g, VEDA_GRAPH_SOURCE, s));
    expect_invalid(g, "node \"lonely\" is not reachable from the source", __LINE__);
    /* Bad edges and names: refused at once, the graph unchanged. */
    EXPECT_ERR_MSG(veda_graph_add_edge(g, s, 99), VEDA_ERR_INVALID_ARGUMENT, "no such node");
    EXPECT_ERR_MSG(veda_graph_add_edge(g, -1, s), VEDA_ERR_INVALID_ARGUMENT, "no such node");
    EXPECT_ERR_MSG(veda_graph_add_edge(g, c, VEDA_GRAPH_SOURCE), VEDA_ERR_INVALID_ARGUMENT, "into the source");
    EXPECT_ERR_MSG(veda_graph_add_edge(g, s, c), VEDA_ERR_INVALID_ARGUMENT, "out of the sink");
    EXPECT_ERR_MSG(veda_graph_add_edge(g, VEDA_GRAPH_SOURCE, s), VEDA_ERR_INVALID_ARGUMENT, "added twice");
    veda_graph_node d = 77;
    EXPECT_ERR_MSG(veda_graph_add_node(g, "s", VEDA_STAGE_PARALLEL, v_node, NULL, &d), VEDA_ERR_INVALID_ARGUMENT,
                   "two nodes are named \"s\"");
    EXPECT_ERR_MSG(veda_graph_add_node(g, "", VEDA_STAGE_PARALLEL, v_node, NULL, &d), VEDA_ERR_INVALID_ARGUMENT, "name");
    EXPECT_ERR_MSG(veda_graph_add_sink(g, NULL, VEDA_STAGE_PARALLEL, v_node, NULL, &d), VEDA_ERR_INVALID_ARGUMENT,
                   "name is NULL");
    CHECK(d == 77);
    OK(veda_graph_add_edge(g, VEDA_GRAPH_SOURCE, c)); /* now lonely is reachable */
    OK(veda_graph_run(g, v_source, NULL));
    CHECK(atomic_load(&node_calls) == 6);
    OK(veda_graph_destroy(g));
}

/* ---- exactly once with random failures and cancellations --------------------------------- */

/* The random graph: source -> x (parallel) -> sink; source -> y (serial out of order) -> sink;
 * source -> z1 (parallel) -> z2 (serial in order) -> sink; the sink is serial in order or
 * parallel. Items and copies are malloc'd. */
typedef struct ritem {
    int64_t seq;
    int node; /* the last node that ran on it (0: none) */
} ritem;

typedef struct rstate {
    int64_t n, fail_seq, cancel_seq;
    int fail_node; /* node id that fails at fail_seq; 0: the source */
    int sink_mode;
    int64_t max_in_flight;
    veda_graph *g;
    _Atomic int64_t produced, copies, passed_total, dropped_total, completed;
    _Atomic int passed[MAXN], dropped[MAXN], ended[MAXN];
    _Atomic int in_serial[8];
    int64_t next_in_order[8]; /* per node: the next (seq, path) key for in-order nodes */
} rstate;

static void r_end(rstate *s, int64_t seq) {
    if (atomic_fetch_add(&s->ended[seq], 1) + 1 == 3) atomic_fetch_add(&s->completed, 1);
}
static int32_t r_source(void *ctx, int64_t seq, void **out, uint64_t *bytes) {
    rstate *s = ctx;
    if (s->fail_node == 0 && seq == s->fail_seq) return -3;
    if (seq >= s->n) return 0;
    int64_t alive = atomic_load(&s->produced) - atomic_load(&s->completed);
    if (alive >= s->max_in_flight) {
        fprintf(stderr, "source called with %lld items alive (max %lld)\n", (long long)alive, (long long)s->max_in_flight);
        vt_failures++;
    }
    ritem *it = calloc(1, sizeof *it);
    it->seq = seq;
    *out = it;
    *bytes = 10;
    atomic_fetch_add(&s->produced, 1);
    return 1;
}
static void *r_copy(void *ctx, int64_t seq, void *p) {
    rstate *s = ctx;
    ritem *c = malloc(sizeof *c);
    *c = *(ritem *)p;
    if (c->seq != seq) vt_failures++;
    atomic_fetch_add(&s->copies, 1);
    return c;
}
static void r_drop(void *ctx, int64_t seq, void *p) {
    rstate *s = ctx;
    if (((ritem *)p)->seq != seq) vt_failures++;
    atomic_fetch_add(&s->dropped[seq], 1);
    atomic_fetch_add(&s->dropped_total, 1);
    r_end(s, seq);
    free(p);
}
typedef struct rnode {
    rstate *s;
    int id, mode, sink, paths;
} rnode;
static int32_t r_node(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    rnode *c = ctx;
    rstate *s = c->s;
    ritem *it = p;
    (void)out;
    if (it->seq != seq || *bytes != 10) {
        fprintf(stderr, "node %d: item %lld given as %lld\n", c->id, (long long)it->seq, (long long)seq);
        vt_failures++;
    }
    if (c->mode != VEDA_STAGE_PARALLEL && atomic_fetch_add(&s->in_serial[c->id], 1) != 0) {
        fprintf(stderr, "node %d: two copies in a serial node at once\n", c->id);
        vt_failures++;
    }
    if (c->mode == VEDA_STAGE_SERIAL_IN_ORDER && c->paths == 1) {
        if (seq != s->next_in_order[c->id]) {
            fprintf(stderr, "node %d: in order saw %lld, want %lld\n", c->id, (long long)seq, (long long)s->next_in_order[c->id]);
            vt_failures++;
        }
        s->next_in_order[c->id] = seq + 1;
    }
    if (c->mode == VEDA_STAGE_SERIAL_IN_ORDER && c->paths == 3) {
        /* The sink: keys seq*3 + path without gaps; path = which branch it came by. */
        int path = it->node == 2 ? 0 : it->node == 4 ? 1 : 2;
        if (seq * 3 + path != s->next_in_order[c->id]) {
            fprintf(stderr, "sink: key %lld (item %lld by node %d), want %lld\n", (long long)(seq * 3 + path), (long long)seq,
                    it->node, (long long)s->next_in_order[c->id]);
            vt_failures++;
        }
        s->next_in_order[c->id] = seq * 3 + path + 1;
    }
    if (seq % 7 == 0) usleep(10);
    it->node = c->id;
    int32_t rc = c->id == s->fail_node && seq == s->fail_seq ? 7 : 0;
    if (c->mode != VEDA_STAGE_PARALLEL) atomic_fetch_sub(&s->in_serial[c->id], 1);
    if (rc == 0 && c->sink) {
        if (seq == s->cancel_seq) OK(veda_graph_cancel(s->g));
        atomic_fetch_add(&s->passed[seq], 1);
        atomic_fetch_add(&s->passed_total, 1);
        r_end(s, seq);
        free(it);
    }
    return rc;
}

static unsigned rng_state = 4242;
static unsigned rnd(unsigned n) {
    rng_state = rng_state * 1103515245u + 12345u;
    return (rng_state >> 8) % n;
}

static veda_status r_run(veda_runtime *rt, rstate *s, uint64_t max_bytes) {
    veda_pipeline_options o;
    veda_pipeline_options_init(&o);
    o.max_in_flight = s->max_in_flight;
    o.max_bytes_in_flight = max_bytes;
    o.drop = r_drop;
    o.drop_ctx = s;
    OK(veda_graph_create(rt, &o, r_copy, s, &s->g));
    rnode nodes[6] = {{s, 0, 0, 0, 0},
                      {s, 1, VEDA_STAGE_PARALLEL, 0, 1},
                      {s, 2, VEDA_STAGE_SERIAL_OUT_OF_ORDER, 0, 1},
                      {s, 3, VEDA_STAGE_PARALLEL, 0, 1},
                      {s, 4, VEDA_STAGE_SERIAL_IN_ORDER, 0, 1},
                      {s, 5, s->sink_mode, 1, 3}};
    const char *names[] = {"", "x", "y", "z1", "z2", "sink"};
    for (int k = 1; k <= 5; k++) {
        veda_graph_node id = -1;
        if (nodes[k].sink) OK(veda_graph_add_sink(s->g, names[k], nodes[k].mode, r_node, &nodes[k], &id));
        else OK(veda_graph_add_node(s->g, names[k], nodes[k].mode, r_node, &nodes[k], &id));
        CHECK(id == k);
    }
    /* Paths into the sink, numbered by the order of its in-edges: 0 by y (2), 1 by z2 (4), 2 by x (1). */
    OK(veda_graph_add_edge(s->g, VEDA_GRAPH_SOURCE, 1));
    OK(veda_graph_add_edge(s->g, VEDA_GRAPH_SOURCE, 2));
    OK(veda_graph_add_edge(s->g, VEDA_GRAPH_SOURCE, 3));
    OK(veda_graph_add_edge(s->g, 3, 4));
    OK(veda_graph_add_edge(s->g, 2, 5));
    OK(veda_graph_add_edge(s->g, 4, 5));
    OK(veda_graph_add_edge(s->g, 1, 5));
    OK(veda_graph_set_node_priority(s->g, 4, VEDA_PRIORITY_HIGH));
    veda_status st = veda_graph_run(s->g, r_source, s);
    OK(veda_graph_destroy(s->g));
    return st;
}

static void test_random_exactly_once(void) {
    veda_runtime *rts[] = {rt1, rt2, rt4};
    for (int iter = 0; iter < 120; iter++) {
        rstate *s = calloc(1, sizeof *s);
        s->n = 1 + rnd(300);
        s->sink_mode = rnd(2) ? VEDA_STAGE_SERIAL_IN_ORDER : VEDA_STAGE_PARALLEL;
        int kind = (int)rnd(4); /* 0 none, 1 node failure, 2 source failure, 3 cancel */
        s->fail_seq = kind == 1 || kind == 2 ? (int64_t)rnd((unsigned)s->n) : -1;
        s->fail_node = kind == 1 ? 1 + (int)rnd(5) : kind == 2 ? 0 : -1;
        s->cancel_seq = kind == 3 ? (int64_t)rnd((unsigned)s->n) : -1;
        s->max_in_flight = 1 + rnd(16);
        veda_status st = r_run(rts[iter % 3], s, 1 + rnd(100));
        char what[160];
        snprintf(what, sizeof what, "iter %d kind %d n %lld fail %lld@%d sink mode %d", iter, kind, (long long)s->n,
                 (long long)s->fail_seq, s->fail_node, s->sink_mode);
        int64_t produced = atomic_load(&s->produced), copies = atomic_load(&s->copies);
        /* Exactly once per copy: every copy made (the items and their copies) passed a sink or was dropped. */
        if (atomic_load(&s->passed_total) + atomic_load(&s->dropped_total) != produced + copies) {
            fprintf(stderr, "%s: %lld passed + %lld dropped != %lld items + %lld copies\n", what,
                    (long long)atomic_load(&s->passed_total), (long long)atomic_load(&s->dropped_total), (long long)produced,
                    (long long)copies);
            vt_failures++;
        }
        for (int64_t i = 0; i < produced; i++) {
            int p = atomic_load(&s->passed[i]), d = atomic_load(&s->dropped[i]);
            if (!(p + d == 3 || (p == 0 && d == 1))) { /* 3 copies, or 1 dropped before the fan-out */
                fprintf(stderr, "%s: item %lld: %d passed, %d dropped\n", what, (long long)i, p, d);
                vt_failures++;
                break;
            }
        }
        if (kind == 0) {
            EXPECT_ST(st, VEDA_OK);
            CHECK(copies == 2 * s->n && atomic_load(&s->passed_total) == 3 * s->n);
        }
        if (kind == 1 || kind == 2) {
            EXPECT_ST(st, VEDA_ERR_TASK_FAILED);
            char want[96];
            snprintf(want, sizeof want, "failed at item %lld", (long long)s->fail_seq);
            CHECK(strstr(veda_last_error(), want) != NULL);
            if (kind == 1) {
                const char *names[] = {"", "x", "y", "z1", "z2", "sink"};
                snprintf(want, sizeof want, "stage %d (\"%s\")", s->fail_node, names[s->fail_node]);
                CHECK(strstr(veda_last_error(), want) != NULL);
                CHECK(strstr(veda_last_error(), "returned 7") != NULL);
            } else {
                CHECK(strstr(veda_last_error(), "the source returned -3") != NULL);
                CHECK(produced == s->fail_seq);
            }
            /* The prefix: every copy of the items below s passed its branch. */
            for (int64_t i = 0; i < s->fail_seq; i++) CHECK(atomic_load(&s->passed[i]) == 3);
            /* Above s nothing passes an in-order sink; at s only copies before the failed one. */
            if (s->sink_mode == VEDA_STAGE_SERIAL_IN_ORDER) {
                for (int64_t i = s->fail_seq + 1; i < produced; i++) CHECK(atomic_load(&s->passed[i]) == 0);
                if (kind == 1 && s->fail_seq < produced) CHECK(atomic_load(&s->passed[s->fail_seq]) <= 2);
            }
        }
        if (kind == 3 && st != VEDA_OK) EXPECT_ST(st, VEDA_ERR_CANCELLED);
        free(s);
        if (vt_failures) {
            fprintf(stderr, "%s\n", what);
            return;
        }
    }
}

/* ---- cancellation from another thread, nesting ------------------------------------------- */

static _Atomic int64_t c_passed, c_dropped;
static int32_t c_source(void *ctx, int64_t seq, void **out, uint64_t *bytes) {
    (void)ctx; (void)bytes;
    int64_t *p = malloc(sizeof *p);
    *p = seq;
    *out = p;
    return 1; /* endless */
}
static void *c_copy(void *ctx, int64_t seq, void *p) {
    (void)ctx; (void)seq;
    int64_t *c = malloc(sizeof *c);
    *c = *(int64_t *)p;
    return c;
}
static void c_drop(void *ctx, int64_t seq, void *p) {
    (void)ctx; (void)seq;
    atomic_fetch_add(&c_dropped, 1);
    free(p);
}
static int32_t c_slow(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)ctx; (void)seq; (void)p; (void)out; (void)bytes;
    usleep(100);
    return 0;
}
static int32_t c_sink(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)ctx; (void)seq; (void)out; (void)bytes;
    atomic_fetch_add(&c_passed, 1);
    free(p);
    return 0;
}
static void *canceller(void *g) {
    usleep(30000);
    return (void *)(intptr_t)veda_graph_cancel((veda_graph *)g);
}
static void test_cancel_thread(void) {
    veda_pipeline_options o;
    veda_pipeline_options_init(&o);
    o.max_in_flight = 8;
    o.drop = c_drop;
    veda_graph *g = NULL;
    OK(veda_graph_create(rt2, &o, c_copy, NULL, &g));
    veda_graph_node a, b, s;
    OK(veda_graph_add_node(g, "a", VEDA_STAGE_PARALLEL, c_slow, NULL, &a));
    OK(veda_graph_add_node(g, "b", VEDA_STAGE_SERIAL_OUT_OF_ORDER, c_slow, NULL, &b));
    OK(veda_graph_add_sink(g, "s", VEDA_STAGE_SERIAL_IN_ORDER, c_sink, NULL, &s));
    OK(veda_graph_add_edge(g, VEDA_GRAPH_SOURCE, a));
    OK(veda_graph_add_edge(g, VEDA_GRAPH_SOURCE, b));
    OK(veda_graph_add_edge(g, a, s));
    OK(veda_graph_add_edge(g, b, s));
    pthread_t th;
    pthread_create(&th, NULL, canceller, g);
    double t0 = vt_now();
    EXPECT_ST(veda_graph_run(g, c_source, NULL), VEDA_ERR_CANCELLED);
    void *rc;
    pthread_join(th, &rc);
    CHECK((veda_status)(intptr_t)rc == VEDA_OK);
    CHECK(vt_now() - t0 < 5.0);
    CHECK(atomic_load(&c_passed) > 0 && atomic_load(&c_dropped) > 0);
    OK(veda_graph_cancel(g)); /* no run: a no-op */
    OK(veda_graph_destroy(g));
}

static _Atomic int64_t nested_sum;
static veda_runtime *nest_rt;
static int32_t nested_body(void *ctx, int64_t b, int64_t e) {
    (void)ctx;
    for (int64_t i = b; i < e; i++) atomic_fetch_add(&nested_sum, i);
    return 0;
}
static int32_t nested_node(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)ctx; (void)seq; (void)p; (void)out; (void)bytes;
    return (int32_t)veda_parallel_for(nest_rt, 0, 100, 5, nested_body, NULL);
}
static void test_nested(void) {
    veda_runtime *rts[] = {rt1, rt2};
    for (int r = 0; r < 2; r++) {
        nest_rt = rts[r];
        atomic_store(&nested_sum, 0);
        veda_graph *g = NULL;
        veda_graph_node a, b, s;
        OK(veda_graph_create(nest_rt, NULL, NULL, NULL, &g));
        OK(veda_graph_add_node(g, "a", VEDA_STAGE_PARALLEL, nested_node, NULL, &a));
        OK(veda_graph_add_node(g, "b", VEDA_STAGE_SERIAL_IN_ORDER, nested_node, NULL, &b));
        OK(veda_graph_add_sink(g, "s", VEDA_STAGE_SERIAL_IN_ORDER, nested_node, NULL, &s));
        OK(veda_graph_add_edge(g, VEDA_GRAPH_SOURCE, a));
        OK(veda_graph_add_edge(g, VEDA_GRAPH_SOURCE, b));
        OK(veda_graph_add_edge(g, a, s));
        OK(veda_graph_add_edge(g, b, s));
        int64_t n = 40;
        OK(veda_graph_run(g, s_source, &n));
        CHECK(atomic_load(&nested_sum) == 4 * 40 * 4950); /* a, b, and s twice per item */
        OK(veda_graph_destroy(g));
    }
}

/* ---- bad input ----------------------------------------------------------------------------- */

static veda_status inner[6];
static int32_t noop(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)ctx; (void)seq; (void)p; (void)out; (void)bytes;
    return 0;
}
/* A node that, during the run of its own graph, runs it, adds a node, a sink, an edge, sets a
 * priority and destroys it: each is refused. */
static int32_t self_node(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)p; (void)out; (void)bytes;
    veda_graph *self = ctx;
    if (seq != 0) return 0;
    int64_t n = 1;
    veda_graph_node id;
    inner[0] = veda_graph_run(self, s_source, &n);
    inner[1] = veda_graph_add_node(self, "late", VEDA_STAGE_PARALLEL, noop, NULL, &id);
    inner[2] = veda_graph_add_sink(self, "late-sink", VEDA_STAGE_PARALLEL, noop, NULL, &id);
    inner[3] = veda_graph_add_edge(self, VEDA_GRAPH_SOURCE, 2); /* valid when not running */
    inner[4] = veda_graph_set_node_priority(self, 1, VEDA_PRIORITY_LOW);
    inner[5] = veda_graph_destroy(self);
    return 0;
}
static _Atomic int gate_open;
static int32_t wait_gate(void *ctx, int64_t seq, void *p, void **out, uint64_t *bytes) {
    (void)ctx; (void)seq; (void)p; (void)out; (void)bytes;
    while (!atomic_load(&gate_open)) usleep(100);
    return 0;
}
static void *run_thread(void *g) {
    int64_t n = 2;
    return (void *)(intptr_t)veda_graph_run((veda_graph *)g, s_source, &n);
}

static void test_bad_input(void) {
    veda_graph *g = NULL;
    veda_graph_node id = 55, a, s;
    int64_t n = 3;
    EXPECT_ERR_MSG(veda_graph_create(rt2, NULL, NULL, NULL, NULL), VEDA_ERR_INVALID_ARGUMENT, "out is NULL");
    EXPECT_ST(veda_graph_create(NULL, NULL, NULL, NULL, &g), VEDA_ERR_INVALID_ARGUMENT);
    CHECK(g == NULL);
    veda_pipeline_options o;
    veda_pipeline_options_init(&o);
    o.struct_size = 8;
    EXPECT_ERR_MSG(veda_graph_create(rt2, &o, NULL, NULL, &g), VEDA_ERR_INVALID_ARGUMENT, "struct_size");
    veda_pipeline_options_init(&o);
    o.priority = 5;
    EXPECT_ERR_MSG(veda_graph_create(rt2, &o, NULL, NULL, &g), VEDA_ERR_INVALID_ARGUMENT, "priority");
    veda_pipeline_options_init(&o);
    o.max_in_flight = -1;
    EXPECT_ERR_MSG(veda_graph_create(rt2, &o, NULL, NULL, &g), VEDA_ERR_INVALID_ARGUMENT, "max_in_flight");
    CHECK(g == NULL);

    OK(veda_graph_create(rt2, NULL, NULL, NULL, &g));
    EXPECT_ERR_MSG(veda_graph_add_node(g, "a", VEDA_STAGE_PARALLEL, NULL, NULL, &id), VEDA_ERR_INVALID_ARGUMENT, "fn is NULL");
    EXPECT_ERR_MSG(veda_graph_add_node(g, "a", 3, noop, NULL, &id), VEDA_ERR_INVALID_ARGUMENT, "mode");
    EXPECT_ERR_MSG(veda_graph_add_sink(g, "a", -1, noop, NULL, &id), VEDA_ERR_INVALID_ARGUMENT, "mode");
    EXPECT_ERR_MSG(veda_graph_add_node(g, "a", VEDA_STAGE_PARALLEL, noop, NULL, NULL), VEDA_ERR_INVALID_ARGUMENT, "out is NULL");
    CHECK(id == 55);
    OK(veda_graph_add_node(g, "a", VEDA_STAGE_SERIAL_OUT_OF_ORDER, self_node, g, &a));
    OK(veda_graph_add_sink(g, "s", VEDA_STAGE_SERIAL_IN_ORDER, noop, NULL, &s));
    OK(veda_graph_add_edge(g, VEDA_GRAPH_SOURCE, a));
    OK(veda_graph_add_edge(g, a, s));
    EXPECT_ERR_MSG(veda_graph_set_node_priority(g, VEDA_GRAPH_SOURCE, VEDA_PRIORITY_HIGH), VEDA_ERR_INVALID_ARGUMENT, "source");
    EXPECT_ERR_MSG(veda_graph_set_node_priority(g, 9, VEDA_PRIORITY_HIGH), VEDA_ERR_INVALID_ARGUMENT, "no node 9");
    EXPECT_ERR_MSG(veda_graph_set_node_priority(g, a, 5), VEDA_ERR_INVALID_ARGUMENT, "priority");
    EXPECT_ERR_MSG(veda_graph_set_node_priority(g, a, -1), VEDA_ERR_INVALID_ARGUMENT, "priority");
    OK(veda_graph_set_node_priority(g, s, VEDA_PRIORITY_LOW));
    EXPECT_ERR_MSG(veda_graph_run(g, NULL, NULL), VEDA_ERR_INVALID_ARGUMENT, "source is NULL");
    /* Changes, a nested run and destroy from inside a node of the running graph. */
    OK(veda_graph_run(g, s_source, &n));
    for (int i = 0; i < 6; i++) {
        if (inner[i] != VEDA_ERR_INVALID_ARGUMENT) {
            fprintf(stderr, "inside a node, call %d returned %s\n", i, veda_status_string(inner[i]));
            vt_failures++;
        }
    }
    OK(veda_graph_run(g, s_source, &n)); /* the graph is unchanged and still runs */
    OK(veda_graph_destroy(g));
    /* Destroyed and forged handles. */
    EXPECT_ERR_MSG(veda_graph_destroy(g), VEDA_ERR_INVALID_ARGUMENT, "destroyed");
    EXPECT_ERR_MSG(veda_graph_run(g, s_source, &n), VEDA_ERR_INVALID_ARGUMENT, "destroyed");
    veda_pipeline *p = NULL;
    OK(veda_pipeline_create(rt2, NULL, &p));
    veda_graph *forged[] = {NULL, (veda_graph *)(uintptr_t)0x1, (veda_graph *)(uintptr_t)0xdeadbeef,
                            (veda_graph *)&o, (veda_graph *)rt2, (veda_graph *)p, (veda_graph *)((uintptr_t)g + 16), g};
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++) {
        EXPECT_ST(veda_graph_add_node(forged[i], "x", 0, noop, NULL, &id), VEDA_ERR_INVALID_ARGUMENT);
        EXPECT_ST(veda_graph_add_sink(forged[i], "x", 0, noop, NULL, &id), VEDA_ERR_INVALID_ARGUMENT);
        EXPECT_ST(veda_graph_add_edge(forged[i], 0, 1), VEDA_ERR_INVALID_ARGUMENT);
        EXPECT_ST(veda_graph_set_node_priority(forged[i], 1, 0), VEDA_ERR_INVALID_ARGUMENT);
        EXPECT_ST(veda_graph_validate(forged[i]), VEDA_ERR_INVALID_ARGUMENT);
        EXPECT_ST(veda_graph_run(forged[i], s_source, &n), VEDA_ERR_INVALID_ARGUMENT);
        EXPECT_ST(veda_graph_cancel(forged[i]), VEDA_ERR_INVALID_ARGUMENT);
        EXPECT_ST(veda_graph_destroy(forged[i]), VEDA_ERR_INVALID_ARGUMENT);
    }
    CHECK(id == 55);
    /* A graph handle is not a pipeline handle either. */
    OK(veda_graph_create(rt2, NULL, NULL, NULL, &g));
    EXPECT_ST(veda_pipeline_run((veda_pipeline *)g, s_source, &n), VEDA_ERR_INVALID_ARGUMENT);
    EXPECT_ST(veda_pipeline_destroy((veda_pipeline *)g), VEDA_ERR_INVALID_ARGUMENT);
    OK(veda_graph_destroy(g));
    OK(veda_pipeline_destroy(p));

    /* A second run, changes and destroy from another thread during a run. */
    OK(veda_graph_create(rt2, NULL, NULL, NULL, &g));
    OK(veda_graph_add_sink(g, "s", VEDA_STAGE_PARALLEL, wait_gate, NULL, &s));
    OK(veda_graph_add_edge(g, VEDA_GRAPH_SOURCE, s));
    pthread_t th;
    pthread_create(&th, NULL, run_thread, g);
    usleep(30000);
    EXPECT_ERR_MSG(veda_graph_run(g, s_source, &n), VEDA_ERR_INVALID_ARGUMENT, "in progress");
    EXPECT_ERR_MSG(veda_graph_destroy(g), VEDA_ERR_INVALID_ARGUMENT, "running");
    EXPECT_ERR_MSG(veda_graph_add_node(g, "late", 0, noop, NULL, &id), VEDA_ERR_INVALID_ARGUMENT, "during a run");
    EXPECT_ERR_MSG(veda_graph_add_edge(g, VEDA_GRAPH_SOURCE, 1), VEDA_ERR_INVALID_ARGUMENT, "during a run");
    atomic_store(&gate_open, 1);
    void *rc;
    pthread_join(th, &rc);
    CHECK((veda_status)(intptr_t)rc == VEDA_OK);
    OK(veda_graph_destroy(g));

    /* A graph whose runtime was destroyed. */
    veda_runtime *r = vt_runtime(1, VEDA_POLICY_FIXED);
    OK(veda_graph_create(r, NULL, NULL, NULL, &g));
    OK(veda_graph_add_sink(g, "s", VEDA_STAGE_PARALLEL, noop, NULL, &s));
    OK(veda_graph_add_edge(g, VEDA_GRAPH_SOURCE, s));
    OK(veda_runtime_destroy(r));
    EXPECT_ST(veda_graph_run(g, s_source, &n), VEDA_ERR_CLOSED);
    OK(veda_graph_destroy(g));
    EXPECT_ST(veda_graph_create(r, NULL, NULL, NULL, &g), VEDA_ERR_CLOSED);
}

/* In a child forked after the runtime started, every graph function refuses at once (no Go). */
static void test_fork(void) {
    veda_graph *g = NULL;
    veda_graph_node s;
    OK(veda_graph_create(rt2, NULL, NULL, NULL, &g));
    OK(veda_graph_add_sink(g, "s", VEDA_STAGE_PARALLEL, noop, NULL, &s));
    OK(veda_graph_add_edge(g, VEDA_GRAPH_SOURCE, s));
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(5); /* a hang is killed by SIGALRM and fails the test */
        int bad = 0;
        int64_t n = 3;
        veda_graph *g2 = NULL;
        veda_graph_node id;
        bad += veda_graph_create(rt2, NULL, NULL, NULL, &g2) != VEDA_ERR_UNSUPPORTED;
        bad += strstr(veda_last_error(), "fork") == NULL;
        bad += veda_graph_add_node(g, "a", VEDA_STAGE_PARALLEL, noop, NULL, &id) != VEDA_ERR_UNSUPPORTED;
        bad += veda_graph_add_sink(g, "b", VEDA_STAGE_PARALLEL, noop, NULL, &id) != VEDA_ERR_UNSUPPORTED;
        bad += veda_graph_add_edge(g, VEDA_GRAPH_SOURCE, s) != VEDA_ERR_UNSUPPORTED;
        bad += veda_graph_set_node_priority(g, s, VEDA_PRIORITY_LOW) != VEDA_ERR_UNSUPPORTED;
        bad += veda_graph_validate(g) != VEDA_ERR_UNSUPPORTED;
        bad += veda_graph_run(g, s_source, &n) != VEDA_ERR_UNSUPPORTED;
        bad += veda_graph_cancel(g) != VEDA_ERR_UNSUPPORTED;
        bad += veda_graph_destroy(g) != VEDA_ERR_UNSUPPORTED;
        bad += strstr(veda_last_error(), "spawn") == NULL;
        if (bad) fprintf(stderr, "child: %d checks failed; last error: %s\n", bad, veda_last_error());
        _exit(bad ? 1 : 0);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    int64_t n = 3;
    OK(veda_graph_run(g, s_source, &n)); /* the parent keeps working */
    OK(veda_graph_destroy(g));
}

int main(void) {
    rt1 = vt_runtime(1, VEDA_POLICY_FIXED);
    rt2 = vt_runtime(2, VEDA_POLICY_ADAPTIVE);
    rt4 = vt_runtime(4, VEDA_POLICY_FIXED);
    test_founding();
    test_founding_shared();
    test_validation();
    test_random_exactly_once();
    test_cancel_thread();
    test_nested();
    test_bad_input();
    test_fork();
    OK(veda_runtime_destroy(rt1));
    OK(veda_runtime_destroy(rt2));
    OK(veda_runtime_destroy(rt4));
    VT_DONE("test_graph");
}
