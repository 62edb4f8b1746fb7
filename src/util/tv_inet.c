/* IPv4 addresses and subnets. */
#include "tv_inet.h"

#include <arpa/inet.h>

bool tv_ipv4_parse(const char *str, TvIPv4 *out)
{
    struct in_addr a;
    if (!str || inet_pton(AF_INET, str, &a) != 1)
        return false;
    *out = ntohl(a.s_addr);
    return true;
}

char *tv_ipv4_format(TvIPv4 addr)
{
    return g_strdup_printf("%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff,
                           addr & 0xff);
}

int tv_ipv4_netmask_prefix(TvIPv4 mask)
{
    unsigned prefix = 0;
    while (prefix < 32 && (mask & (0x80000000u >> prefix)))
        prefix++;
    return mask == tv_ipv4_prefix_mask(prefix) ? (int)prefix : -1;
}

TvIPv4 tv_ipv4_prefix_mask(unsigned prefix)
{
    return prefix == 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);
}

bool tv_ipv4_in_subnet(TvIPv4 addr, TvIPv4 net, unsigned prefix)
{
    TvIPv4 mask = tv_ipv4_prefix_mask(prefix);
    return (addr & mask) == (net & mask);
}

bool tv_ipv4_subnets_overlap(TvIPv4 a, unsigned pa, TvIPv4 b, unsigned pb)
{
    unsigned p = MIN(pa, pb);
    return tv_ipv4_in_subnet(a, b, p);
}
