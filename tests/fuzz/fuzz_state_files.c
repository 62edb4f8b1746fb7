/* Fuzz target for the state files' loaders: the status file of a running
 * domain (tv_qemu_status_parse) and the persistent definition (the domain
 * parser, then the size check every save goes through).
 *
 * libFuzzer: LLVMFuzzerTestOneInput (clang -fsanitize=fuzzer).  Linked with
 * fuzz_replay.c it replays the files named on its command line and prints
 * TAP (tests/qemustatusdata and tests/domainconfdata in the suite).
 *
 * Besides "no crash, no leak" it checks what the writers promise the
 * loaders: a status file that parses formats to one that parses back to the
 * same text, and a definition that tv_qemu_state_check_def accepts is
 * written (as a definition file and inside a status file) within
 * TV_QEMU_STATE_FILE_MAX and reads back as the same definition. */
#include "domain_conf.h"
#include "qemu_status.h"
#include "tv_error.h"

#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *text)
{
    fprintf(stderr, "%s: %s\n%s\n", what, tv_error_message(), text ? text : "");
    abort();
}

static void status_round_trip(const char *xml, size_t len)
{
    g_autoptr(TvQemuStatus) st = tv_qemu_status_parse(xml, len);
    if (!st) {
        if (tv_error_code() == TV_ERR_OK)
            fail("status parse failed without an error", NULL);
        return;
    }
    g_autofree char *first = tv_qemu_status_format(st);
    g_autoptr(TvQemuStatus) again = tv_qemu_status_parse(first, strlen(first));
    if (!again)
        fail("a formatted status file does not parse", first);
    g_autofree char *second = tv_qemu_status_format(again);
    if (strcmp(first, second) != 0)
        fail("the status file format is not stable", second);
}

static void definition_round_trip(const char *xml, size_t len)
{
    g_autoptr(TvDomainDef) def = tv_domain_def_parse(xml, len, TV_DOMAIN_PARSE_DEFAULT);
    if (!def || tv_qemu_state_check_def(def) < 0)
        return; /* refused: nothing is written */
    /* the definition file */
    g_autofree char *file = tv_domain_def_format(def, TV_DOMAIN_FORMAT_INACTIVE);
    if (tv_qemu_state_check_len("definition", strlen(file)) < 0)
        fail("an accepted definition does not fit its file", NULL);
    g_autoptr(TvDomainDef) loaded = tv_domain_def_parse(file, strlen(file), 0);
    if (!loaded)
        fail("an accepted definition does not load", file);
    g_autofree char *reloaded = tv_domain_def_format(loaded, TV_DOMAIN_FORMAT_INACTIVE);
    if (strcmp(file, reloaded) != 0)
        fail("an accepted definition loads as another", reloaded);
    /* inside a status file (paths as long as they get) */
    g_autofree char *path = g_strnfill(4000, 'p');
    TvQemuStatus st = {
        .state = 1,
        .reason = 1,
        .pid = 1234,
        .start_time = 5678,
        .monitor_path = path,
        .log_path = path,
        .fingerprint = { .binary_path = path, .tagvirt_version = path, .kernel_release = path },
        .console_path = path,
        .def = def,
    };
    g_autofree char *status = tv_qemu_status_format(&st);
    if (tv_qemu_state_check_len("status file", strlen(status)) < 0)
        fail("an accepted definition does not fit a status file", NULL);
    g_autoptr(TvQemuStatus) read = tv_qemu_status_parse(status, strlen(status));
    if (!read)
        fail("the status file of an accepted definition does not parse", status);
    g_autofree char *inside = tv_domain_def_format(read->def, TV_DOMAIN_FORMAT_INACTIVE);
    if (strcmp(file, inside) != 0)
        fail("a status file changes the definition it holds", inside);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tv_error_reset();
    status_round_trip((const char *)data, size);
    tv_error_reset();
    definition_round_trip((const char *)data, size);
    tv_error_reset();
    return 0;
}
