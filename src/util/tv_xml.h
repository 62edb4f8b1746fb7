/* XML helpers over libxml2: parse a buffer safely, read attributes and
 * numbers with errors that name the element, and refuse what is not known. */
#pragma once

#include <glib.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

/* Parse len bytes (no network).  A document type declaration is refused
 * before anything in it is read, so no entity can be declared, expanded or
 * loaded from outside: an XML error naming it.  what names the document in
 * errors ("domain XML"). */
xmlDocPtr tv_xml_parse(const char *buf, size_t len, const char *what);

/* "/domain/devices/disk[2]/source" for messages. */
char *tv_xml_node_path(xmlNodePtr node);

/* A copy of the attribute (NULL when absent). */
char *tv_xml_prop(xmlNodePtr node, const char *name);
/* Text content of the node, trimmed; NULL when empty. */
char *tv_xml_text(xmlNodePtr node);
/* The first child element with that name, or NULL. */
xmlNodePtr tv_xml_child(xmlNodePtr node, const char *name);
unsigned tv_xml_child_count(xmlNodePtr node, const char *name);

/* Every attribute / child element not in the NULL-terminated list is an
 * XML error naming it and what is accepted.  Text nodes under an element that
 * takes no text are an error too unless allow_text. */
int tv_xml_check_attrs(xmlNodePtr node, const char *const *allowed);
int tv_xml_check_children(xmlNodePtr node, const char *const *allowed, bool allow_text);

/* Parse an unsigned decimal (or 0x hex) number from s, with range checks.
 * what names it in errors ("attribute 'port' of <target>"). */
int tv_parse_ull(const char *s, unsigned long long min, unsigned long long max, const char *what,
                 unsigned long long *out);

/* Output: indentation-aware builder for formatting. */
typedef struct TvXmlWriter {
    GString *buf;
    int indent;
} TvXmlWriter;

void tv_xml_writer_init(TvXmlWriter *w);
char *tv_xml_writer_finish(TvXmlWriter *w);
/* Appends an indented line built from fmt; use %s with tv_xml_esc'd text. */
void tv_xml_line(TvXmlWriter *w, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* XML-escaped copy of s (for attribute values and text). */
char *tv_xml_esc(const char *s);
