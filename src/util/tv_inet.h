/* IPv4 addresses and subnets, for network definitions. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* host byte order */
typedef uint32_t TvIPv4;

bool tv_ipv4_parse(const char *str, TvIPv4 *out);
/* "192.168.122.1" (newly allocated) */
char *tv_ipv4_format(TvIPv4 addr);
/* 255.255.255.0 -> 24; -1 when not a contiguous mask */
int tv_ipv4_netmask_prefix(TvIPv4 mask);
TvIPv4 tv_ipv4_prefix_mask(unsigned prefix);
/* Do a/pa and b/pb share an address? */
bool tv_ipv4_subnets_overlap(TvIPv4 a, unsigned pa, TvIPv4 b, unsigned pb);
bool tv_ipv4_in_subnet(TvIPv4 addr, TvIPv4 net, unsigned prefix);
