/* Parse + post-parse + validate + resolve + argv for one domain, repeated:
 * the per-definition cost of the core pipeline (issue target: < 200 µs).
 *
 *   build/bench/pipeline-bench [DOMAIN.xml] [ITERATIONS]
 *
 * Capabilities come from the real probe of the default emulator through the
 * cache (as tagvirt and tagvirtd use them), looked up once before timing. */
#include "qemu_command.h"
#include "qemu_domain.h"
#include "tagvirt-config.h"
#include "tv_error.h"
#include "tv_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static TvQemuCaps *bench_caps(const char *emulator, void *opaque)
{
    return tv_qemu_caps_ref(opaque);
}

static int compare_i64(const void *a, const void *b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : TAGVIRT_SRCDIR "/bench/typical-domain.xml";
    int iterations = argc > 2 ? atoi(argv[2]) : 20000;
    g_autofree char *xml = NULL;
    size_t len = 0;
    if (iterations < 1 || tv_file_read_all(path, 1 << 20, &xml, &len) < 0) {
        fprintf(stderr, "pipeline-bench: %s\n", tv_error_message());
        return 1;
    }
    g_autoptr(TvHostFacts) host = tv_host_facts_read(NULL);
    g_autofree char *dir =
        g_build_filename(g_get_user_cache_dir(), "tagvirt", "capabilities", NULL);
    g_autoptr(TvQemuCapsCache) cache = tv_qemu_caps_cache_new(dir, host, NULL);
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(TvQemuCaps) caps = tv_qemu_caps_cache_lookup(cache, TV_QEMU_DEFAULT_EMULATOR);
    gint64 t1 = g_get_monotonic_time();
    if (!caps) {
        fprintf(stderr, "pipeline-bench: %s\n", tv_error_message());
        return 1;
    }
    TvQemuPipeline pipe = { .host = host, .caps_lookup = bench_caps, .caps_opaque = caps };
    gint64 *samples = g_new(gint64, iterations);
    size_t argc_total = 0;
    for (int i = 0; i < iterations; i++) {
        gint64 start = g_get_monotonic_time();
        g_autoptr(TvDomainDef) def = tv_qemu_domain_load(&pipe, xml, len, 0, NULL);
        TvQemuMtePlan plan;
        if (!def || tv_qemu_domain_resolve(def, caps, host, &plan) < 0) {
            fprintf(stderr, "pipeline-bench: %s\n", tv_error_message());
            return 1;
        }
        g_autoptr(GPtrArray) cmd = tv_qemu_build_command(def, caps, &plan, NULL);
        samples[i] = g_get_monotonic_time() - start;
        argc_total += cmd->len;
    }
    qsort(samples, iterations, sizeof(*samples), compare_i64);
    gint64 sum = 0;
    for (int i = 0; i < iterations; i++)
        sum += samples[i];
    printf("domain: %s (%zu argv words)\n", path, argc_total / iterations - 1);
    printf("caps lookup before timing: %.3f ms\n", (t1 - t0) / 1000.0);
    printf("parse+post-parse+validate+resolve+argv, %d iterations: median %ld us, mean %.1f us, "
           "p99 %ld us, min %ld us, max %ld us\n",
           iterations, (long)samples[iterations / 2], (double)sum / iterations,
           (long)samples[iterations * 99 / 100], (long)samples[0], (long)samples[iterations - 1]);
    g_free(samples);
    return 0;
}
