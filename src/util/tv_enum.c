#include "tv_enum.h"

#include <string.h>

int tv_enum_lookup(const char *const *table, int n, const char *str)
{
    if (!str)
        return -1;
    for (int i = 1; i < n; i++) {
        if (table[i] && strcmp(table[i], str) == 0)
            return i;
    }
    return -1;
}

char *tv_enum_join(const char *const *table, int n)
{
    GString *out = g_string_new(NULL);
    for (int i = 1; i < n; i++) {
        if (!table[i] || !*table[i])
            continue;
        g_string_append_printf(out, "%s'%s'", out->len ? ", " : "", table[i]);
    }
    return g_string_free(out, FALSE);
}
