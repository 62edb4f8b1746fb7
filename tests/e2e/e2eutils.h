/* Shared set-up of the runtime end-to-end tests: a private state/log
 * directory, the real QEMU's capabilities (cached under the build tree),
 * domain XML for the test guests, console reading and child checks. */
#pragma once

#include "domain_conf.h"
#include "qemu_capabilities.h"
#include "qemu_host.h"
#include "qemu_process.h"

#include <glib.h>
#include <stdbool.h>

typedef struct {
    char *dir; /* private temporary directory, removed at the end */
    char *state_dir;
    char *log_dir;
    char *cache_dir;
    char *firmware; /* build/firmware/demo.elf, else probe.elf: prints the MTE level, powers off */
    char *loop_image; /* "wfi; b ." forever: a guest that stays up */
    TvHostFacts *host;
    TvQemuCaps *caps; /* of /usr/bin/qemu-system-aarch64 or $TAGVIRT_E2E_QEMU (a reference) */
} E2eEnv;

extern E2eEnv e2e;

/* Also makes the test process a child subreaper, like a manager. */
int e2e_setup(void);
void e2e_teardown(void);
TvQemuProcessConfig e2e_config(void);

/* devices: extra <devices> content; NULL or "" gives one pty serial port. */
char *e2e_domain_xml(const char *name, const char *kernel, const char *features,
                     const char *devices, const char *emulator);
/* The same, through parse + post-parse + validate with e2e.caps. */
TvDomainDef *e2e_domain(const char *name, const char *kernel, const char *features,
                        const char *devices);
/* Parse and post-parse only: for configurations validation would refuse. */
TvDomainDef *e2e_domain_unchecked(const char *name, const char *kernel, const char *features);

/* Everything the console shows until QEMU closes it or timeout_ms passes. */
char *e2e_read_console(int fd, unsigned timeout_ms);
/* The MTE level a guest printed: "MTE level N" (demo) or "PFR1=<hex>"
 * (probe); -1 when neither is there. */
int e2e_console_level(const char *out);

/* Nothing is left to reap: no child of ours exists, running or zombie. */
void e2e_assert_no_children(void);

/* `tagvirt run --no-console` of xml_path with the test's directories. */
GPid e2e_spawn_tagvirt_run(const char *xml_path);
bool e2e_wait_for_file(const char *path, unsigned timeout_ms);
/* Until the status file records a started QEMU (not the record a start
 * writes before it spawns one). */
bool e2e_wait_for_started(const char *status_path, unsigned timeout_ms);
/* Until the file holds text (e.g. the log's "is running" line after 'cont'). */
bool e2e_wait_for_text(const char *path, const char *text, unsigned timeout_ms);
