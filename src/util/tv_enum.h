/* One enum per concept with its string table beside it: every value has
 * exactly one spelling in XML, caches and messages.  Value 0 is "absent". */
#pragma once

#include <glib.h>

#define TV_ENUM_DECL(name)                                                                         \
    const char *name##_to_string(int value);                                                       \
    int name##_from_string(const char *str);                                                       \
    char *name##_list(void);

/* name##_list() returns "'a', 'b', 'c'" (entries from 1 on) for error messages. */
#define TV_ENUM_IMPL(name, last, ...)                                                              \
    static const char *const name##_strings[] = { __VA_ARGS__ };                                   \
    G_STATIC_ASSERT(G_N_ELEMENTS(name##_strings) == (last));                                       \
    const char *name##_to_string(int value)                                                        \
    {                                                                                              \
        if (value < 0 || value >= (int)(last))                                                     \
            return NULL;                                                                           \
        return name##_strings[value];                                                              \
    }                                                                                              \
    int name##_from_string(const char *str)                                                        \
    {                                                                                              \
        return tv_enum_lookup(name##_strings, (last), str);                                        \
    }                                                                                              \
    char *name##_list(void)                                                                        \
    {                                                                                              \
        return tv_enum_join(name##_strings, (last));                                               \
    }

/* Index of str in table (entries from 1 on; 0 is "absent"), or -1. */
int tv_enum_lookup(const char *const *table, int n, const char *str);
char *tv_enum_join(const char *const *table, int n);
