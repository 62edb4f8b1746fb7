/* Shared pieces of the tagvirt commands. */
#pragma once

#include "qemu_capabilities.h"
#include "qemu_domain.h"
#include "qemu_host.h"

#include <glib.h>

typedef struct {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} TvCliCommand;

/* Options every command takes. */
typedef struct {
    char *emulator;
    char *cache_dir;
    char *host_root;
    char *firmware;
    gboolean no_cache;
    gboolean allow_broken_tag_storage;
} TvCliCommon;

/* Adds --emulator --cache-dir --host-root --probe-firmware --no-cache. */
void tv_cli_add_common(GOptionContext *ctx, TvCliCommon *common);
void tv_cli_common_clear(TvCliCommon *common);
/* Parse options; prints the error and returns -1. */
int tv_cli_parse(GOptionContext *ctx, int *argc, char ***argv);
/* Print the current tv_error to stderr as "tagvirt: error: ...". */
int tv_cli_fail(void);

/* Host facts and a caps lookup that honours the common options.  The caps
 * it hands out stay valid until tv_cli_context_clear. */
typedef struct {
    TvCliCommon *common;
    TvHostFacts *host;
    TvQemuCapsCache *cache; /* NULL with --no-cache */
    TvQemuCaps *owned;      /* --no-cache: the last one probed (its reference is in held) */
    GPtrArray *held;        /* references handed out as borrowed pointers until clear */
    TvQemuPipeline pipe;
} TvCliContext;

int tv_cli_context_init(TvCliContext *cli, TvCliCommon *common);
void tv_cli_context_clear(TvCliContext *cli);
const TvQemuCaps *tv_cli_caps(TvCliContext *cli, const char *emulator);
/* Read a domain XML file and run it through the pipeline. */
TvDomainDef *tv_cli_load_domain(TvCliContext *cli, const char *path, const TvQemuCaps **caps);

int tv_cmd_domcapabilities(int argc, char **argv);
int tv_cmd_domxml_to_native(int argc, char **argv);
int tv_cmd_validate(int argc, char **argv);
int tv_cmd_probe(int argc, char **argv);
int tv_cmd_run(int argc, char **argv);
