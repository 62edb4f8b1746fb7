/* The files of a driver's named objects (storage pools, networks), as
 * libvirt keeps them: CONFIG/NAME.xml (a persistent definition, written and
 * flushed before a call returns), CONFIG/autostart/NAME.xml (a link to it)
 * and STATE/NAME.xml (the definition of an active object, so a restarted
 * daemon finds it active again). */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *what; /* "storage pool", "network": for messages */
    char *config_dir;
    char *autostart_dir;
    char *state_dir;
} TvObjFiles;

/* Makes the folders (0700); -1 with a tv_error.  *first: the configuration
 * folder did not exist before (a first start). */
int tv_objfiles_init(TvObjFiles *files, const char *what, const char *config_dir,
                     const char *state_dir, bool *first);
void tv_objfiles_clear(TvObjFiles *files);

int tv_objfiles_save(const TvObjFiles *files, const char *name, const char *xml);
/* Removes the definition and its autostart link. */
int tv_objfiles_remove(const TvObjFiles *files, const char *name);
int tv_objfiles_set_autostart(const TvObjFiles *files, const char *name, bool on);
bool tv_objfiles_autostart(const TvObjFiles *files, const char *name);
int tv_objfiles_state_save(const TvObjFiles *files, const char *name, const char *xml);
/* A failure is logged: the object is gone either way. */
void tv_objfiles_state_remove(const TvObjFiles *files, const char *name);

/* The names of dir's NAME.xml files, sorted. */
GPtrArray *tv_objfiles_names(const char *dir);
/* The contents of dir/NAME.xml (at most max bytes), or NULL with the reason
 * logged: a broken file never stops the daemon and is never deleted. */
char *tv_objfiles_read(const TvObjFiles *files, const char *dir, const char *name, size_t max,
                       size_t *len);

/* libvirt's listing flags shared by storage pools and networks
 * (CONNECT_LIST_STORAGE_POOLS_*, CONNECT_LIST_NETWORKS_*): 1 inactive,
 * 2 active, 4 persistent, 8 transient, 16 autostart, 32 no autostart.  A
 * group with neither bit set does not filter. */
#define TV_OBJ_LIST_COMMON_FLAGS 0x3fu
bool tv_objfiles_list_match(unsigned flags, bool active, bool persistent, bool autostart);
