/* test_symbols: every function declared with VEDA_API in veda.h resolves in libveda.so (dlsym),
 * and the library exports no other symbol: no undeclared veda_*, no Go runtime or cgo glue.
 * Usage: test_symbols path/to/veda.h path/to/libveda.so */
#include <ctype.h>
#include <dlfcn.h>
#include <elf.h>
#include "vt.h"

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc(sz + 1);
    if (fread(b, 1, sz, f) != (size_t)sz) { perror(path); exit(2); }
    b[sz] = 0;
    fclose(f);
    if (n) *n = sz;
    return b;
}

static char *declared[256];
static int ndeclared;

static int is_declared(const char *name) {
    for (int i = 0; i < ndeclared; i++) if (strcmp(declared[i], name) == 0) return 1;
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s veda.h libveda.so\n", argv[0]); return 2; }
    /* 1. The names declared with VEDA_API: the identifier right before the first '(' after it. */
    char *h = slurp(argv[1], NULL);
    for (char *p = strstr(h, "VEDA_API"); p; p = strstr(p + 8, "VEDA_API")) {
        char *paren = strchr(p, '(');
        char *semi = strchr(p, ';');
        if (!paren || (semi && semi < paren)) continue;
        char *e = paren;
        while (e > p && isspace((unsigned char)e[-1])) e--;
        char *s = e;
        while (s > p && (isalnum((unsigned char)s[-1]) || s[-1] == '_')) s--;
        if (e - s < 6 || strncmp(s, "veda_", 5) != 0) continue;
        declared[ndeclared++] = strndup(s, e - s);
    }
    printf("%d functions declared in %s\n", ndeclared, argv[1]);
    CHECK(ndeclared >= 38);
    /* The ABI so far: every one of these must stay declared (and, below, exported). */
    static const char *const expected[] = {
        "veda_version", "veda_status_string", "veda_last_error", "veda_config_init",
        "veda_runtime_create", "veda_runtime_destroy", "veda_runtime_num_workers",
        "veda_parallel_for", "veda_parallel_reduce", "veda_group_create", "veda_group_spawn",
        "veda_group_wait", "veda_group_destroy", "veda_task_options_init", "veda_submit",
        "veda_future_wait", "veda_future_is_done", "veda_future_then", "veda_future_release",
        "veda_saxpy_f32", "veda_sum_f64", "veda_sgemm", "veda_sum_f32", "veda_dot_f32",
        "veda_sum_f64_strided", "veda_sum_f32_strided", "veda_distribute_sum_f32",
        "veda_device_count", "veda_device_info_init", "veda_device_info_get",
        "veda_runtime_pin_device", "veda_kernel_create", "veda_kernel_run_1d",
        "veda_kernel_destroy", "veda_metrics_json", "veda_metrics_prometheus",
        "veda_runtime_record_decisions", "veda_decisions_json",
        "veda_cancel_create", "veda_cancel_trigger", "veda_cancel_is_triggered",
        "veda_cancel_destroy", "veda_thread_set_cancel",
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        if (!is_declared(expected[i])) {
            fprintf(stderr, "expected in veda.h but not declared: %s\n", expected[i]);
            vt_failures++;
        }
    }

    void *lib = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
    if (!lib) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 1; }
    for (int i = 0; i < ndeclared; i++) {
        if (dlsym(lib, declared[i]) == NULL) {
            fprintf(stderr, "declared but not exported: %s\n", declared[i]);
            vt_failures++;
        }
    }

    /* 2. The exported (defined, global) dynamic symbols, from the ELF .dynsym. */
    size_t n;
    char *img = slurp(argv[2], &n);
    Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
    CHECK(memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_ident[EI_CLASS] == ELFCLASS64);
    Elf64_Shdr *sh = (Elf64_Shdr *)(img + eh->e_shoff);
    int exported = 0;
    for (int i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_DYNSYM) continue;
        Elf64_Sym *sym = (Elf64_Sym *)(img + sh[i].sh_offset);
        const char *str = img + sh[sh[i].sh_link].sh_offset;
        size_t count = sh[i].sh_size / sizeof(Elf64_Sym);
        for (size_t j = 1; j < count; j++) {
            int bind = ELF64_ST_BIND(sym[j].st_info);
            if (sym[j].st_shndx == SHN_UNDEF || (bind != STB_GLOBAL && bind != STB_WEAK)) continue;
            const char *name = str + sym[j].st_name;
            if (sym[j].st_shndx == SHN_ABS && strncmp(name, "VEDA_", 5) == 0) continue; /* version node */
            exported++;
            if (!is_declared(name)) {
                fprintf(stderr, "exported but not declared in veda.h: %s\n", name);
                vt_failures++;
            }
        }
    }
    printf("%d symbols exported by %s\n", exported, argv[2]);
    CHECK(exported == ndeclared);
    for (int i = 0; i < ndeclared; i++) free(declared[i]);
    free(h);
    free(img);
    dlclose(lib);
    VT_DONE("test_symbols");
}
