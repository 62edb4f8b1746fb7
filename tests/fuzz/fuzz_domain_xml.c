/* Fuzz target for the domain XML parser and formatter.
 *
 * libFuzzer: LLVMFuzzerTestOneInput is the entry point (clang
 * -fsanitize=fuzzer).  Linked with fuzz_replay.c it is a plain program that
 * feeds each file named on its command line through the same function and
 * prints TAP, so any compiler can replay a corpus (tests/fuzz/run-corpus).
 *
 * Besides "no crash, no leak", it checks that whatever parses formats to XML
 * that parses back to the same text, in the inactive and status forms, and
 * that the RelaxNG schema accepts every user document the parser accepts. */
#include "domain_conf.h"
#include "tv_error.h"

#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const TvDomainDef *def, unsigned format_flags, unsigned parse_flags)
{
    g_autofree char *first = tv_domain_def_format(def, format_flags);
    g_autoptr(TvDomainDef) again = tv_domain_def_parse(first, strlen(first), parse_flags);
    if (!again) {
        fprintf(stderr, "formatted XML does not parse: %s\n%s", tv_error_message(), first);
        abort();
    }
    g_autofree char *second = tv_domain_def_format(again, format_flags);
    if (strcmp(first, second) != 0) {
        fprintf(stderr, "format is not stable:\n--- first\n%s--- second\n%s", first, second);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned parse_flags[] = { TV_DOMAIN_PARSE_DEFAULT, TV_DOMAIN_PARSE_STATUS };
    for (size_t i = 0; i < G_N_ELEMENTS(parse_flags); i++) {
        tv_error_reset();
        g_autoptr(TvDomainDef) def = tv_domain_def_parse((const char *)data, size, parse_flags[i]);
        if (!def) {
            if (tv_error_code() == TV_ERR_OK) {
                fprintf(stderr, "parse failed without reporting an error\n");
                abort();
            }
            continue;
        }
        /* the schema must accept whatever the parser accepts from users */
        if (parse_flags[i] == TV_DOMAIN_PARSE_DEFAULT &&
            tv_domain_def_validate_schema((const char *)data, size) < 0) {
            fprintf(stderr, "the parser accepts what the schema refuses: %s\n", tv_error_message());
            abort();
        }
        check_round_trip(def, TV_DOMAIN_FORMAT_INACTIVE, TV_DOMAIN_PARSE_DEFAULT);
        check_round_trip(def, TV_DOMAIN_FORMAT_STATUS, TV_DOMAIN_PARSE_STATUS);
        g_autofree char *live = tv_domain_def_format(def, TV_DOMAIN_FORMAT_LIVE);
        if (!g_str_has_prefix(live, "<domain "))
            abort();
        /* what goes to another host is plain user XML */
        check_round_trip(def, TV_DOMAIN_FORMAT_MIGRATABLE, TV_DOMAIN_PARSE_DEFAULT);
        g_autoptr(TvDomainDef) copy = tv_domain_def_copy(def);
        if (!copy) {
            fprintf(stderr, "copy failed: %s\n", tv_error_message());
            abort();
        }
    }
    tv_error_reset();
    return 0;
}
