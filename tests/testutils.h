/* Helpers for data-driven tests: expected files are compared, or rewritten
 * when TAGVIRT_REGENERATE=1 is set. */
#pragma once

#include "qemu_capabilities.h"
#include "qemu_host.h"

#include <glib.h>
#include <stdbool.h>

/* Absolute path of a file under tests/ in the source tree. */
char *tv_test_path(const char *first, ...) G_GNUC_NULL_TERMINATED;
bool tv_test_regenerate(void);
char *tv_test_read(const char *path); /* NULL when missing */
/* Compare actual with the file at path (or write it when regenerating). The
 * "other" expected file (e.g. .err when writing .args) is removed then. */
void tv_test_compare(const char *path, const char *actual, const char *other_path);

/* Recorded caps tests/qemucapabilitiesdata/<name>.xml with the binary path
 * normalised to TV_TEST_EMULATOR so messages do not depend on this machine. */
#define TV_TEST_EMULATOR "/usr/bin/qemu-system-aarch64"
TvQemuCaps *tv_test_load_caps(const char *name);
/* The same, as seen on fixture host <host>: for an aarch64-kvm-* host the
 * x86_64-recorded binary is marked as having KVM with an in-kernel GICv3
 * (what the same QEMU version built for arm64 has; see qemuxml2argvdata/cases). */
TvQemuCaps *tv_test_load_caps_for_host(const char *name, const char *host);
/* Fixture host tests/hostdata/<name>. */
TvHostFacts *tv_test_load_host(const char *name);

/* A cases file: '#' comments, "@caps ALIAS FILE" lines, and case lines of
 * whitespace-separated words.  Returns an array of word vectors. */
typedef struct {
    GPtrArray *cases;       /* of char ** (g_strfreev) */
    GHashTable *caps_alias; /* alias -> caps file base name */
} TvTestCases;
TvTestCases *tv_test_cases_load(const char *path);
void tv_test_cases_free(TvTestCases *tc);
const char *tv_test_caps_file(TvTestCases *tc, const char *alias);

/* One line of a cases file whose words are: first, CAPS alias, HOST (the
 * argv/xml2xml tests), or CAPS, HOST, third (the domain caps test), then
 * optional flags (words from TV_TEST_CASE_FLAGS, e.g. "xml2xml"). */
typedef struct {
    char *words[3];
    char *caps_alias;
    char *caps_file;
    char *host;
} TvTestCase;

/* The flags a case line may carry after its three words:
 * xml2xml  qemuxml2xmltest checks this case too (qemuxml2argvdata/cases). */
#define TV_TEST_CASE_FLAGS "xml2xml"

/* Registers "/<prefix>/w0/w1/w2" for every case line of tests/<dir>/cases
 * that carries the flag only_flag (every line when NULL); caps_index is the
 * word holding the CAPS alias (the HOST follows it).  A line with other than
 * three words plus known flags is an error. */
void tv_test_add_cases(const char *dir, const char *prefix, guint caps_index, const char *only_flag,
                       GTestDataFunc run);
/* Whether a case line (a word vector of tv_test_cases_load) carries flag. */
bool tv_test_case_has_flag(char **words, const char *flag);
