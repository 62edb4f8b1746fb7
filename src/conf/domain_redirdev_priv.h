/* Internal to src/conf: parsing and formatting of <redirdev> and
 * <redirfilter> (domain_redirdev.c), called by the <devices> parser and
 * formatter. */
#pragma once

#include "domain_parse_priv.h"

int tv_domain_parse_redirdev(xmlNodePtr node, TvDomainDevices *devs, unsigned flags);
int tv_domain_parse_redirfilter(xmlNodePtr node, TvDomainDevices *devs);
void tv_domain_format_redirdev(TvXmlWriter *w, const TvDomainRedirdev *r, bool live);
void tv_domain_format_redirfilter(TvXmlWriter *w, const TvDomainRedirFilter *f);
