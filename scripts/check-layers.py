#!/usr/bin/env python3
"""Fail when a file includes a header of a layer above its own.

The layers and what each may include are docs/architecture.rst's; the build
gives each library only its own and lower include paths, and this check also
catches what an include path alone cannot (a header of a lower library that
reaches up, a tool that reaches into the daemon).  Prints one line per wrong
include and a TAP result.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

QEMU = ['qemu/spawn', 'qemu/monitor', 'qemu/security', 'qemu/caps', 'qemu/pipeline', 'qemu/runtime', 'qemu/driver']
# layer -> the layers it may include (its own is always allowed)
ALLOWED = {
    'util': [],
    'conf': ['util'],
    'qemu/spawn/zygote': [],  # preloaded into QEMU: libc only
    'qemu/spawn': ['util', 'qemu/spawn/zygote'],
    'qemu/monitor': ['util'],
    'qemu/security': ['util', 'conf'],
    'qemu/caps': ['util', 'conf', 'qemu/spawn', 'qemu/spawn/zygote', 'qemu/monitor'],
    'qemu/pipeline': ['util', 'conf', 'qemu/spawn', 'qemu/monitor', 'qemu/security', 'qemu/caps'],
    'qemu/runtime': ['util', 'conf', 'qemu/spawn', 'qemu/monitor', 'qemu/security', 'qemu/caps',
                     'qemu/pipeline'],
    'qemu/driver': ['util', 'conf'] + QEMU[:-1],
    'storage': ['util', 'conf'],
    'network': ['util', 'conf'],
    'rpc': ['util'],
    'remote': ['util', 'conf', 'rpc', 'storage', 'network'] + QEMU,
    'daemon': ['util', 'conf', 'rpc', 'remote', 'storage', 'network'] + QEMU,
    'tools': ['util', 'conf'] + QEMU,
}
# generated headers: where they belong
GENERATED = {
    'tagvirt-config.h': None,  # the build's configuration: every layer
    'tv_zygote_config.h': 'qemu/spawn/zygote',
    'rpc_protocol.h': 'rpc',
    'remote_protocol.h': 'remote',
    'remote_storage_protocol.h': 'remote',
    'remote_host_protocol.h': 'remote',
    'remote_network_protocol.h': 'remote',
    'remote_device_protocol.h': 'remote',
    'remote_save_protocol.h': 'remote',
    'remote_stats_protocol.h': 'remote',
    'remote_agent_protocol.h': 'remote',
}


def layer_of(path):
    rel = os.path.relpath(path, ROOT).replace(os.sep, '/')
    if rel.startswith('tools/'):
        return 'tools'
    if not rel.startswith('src/'):
        return None
    parts = rel.split('/')[1:-1]
    for n in range(len(parts), 0, -1):
        cand = '/'.join(parts[:n])
        if cand in ALLOWED:
            return cand
    return None


def sources():
    for top in ('src', 'tools'):
        for d, _, files in os.walk(os.path.join(ROOT, top)):
            for f in files:
                if f.endswith(('.c', '.h')):
                    yield os.path.join(d, f)


def main():
    headers = {}
    for path in sources():
        if path.endswith('.h'):
            name = os.path.basename(path)
            if name in headers:
                print('# two headers named %s: %s and %s' % (name, headers[name], path))
                print('not ok 1 - layers')
                return 1
            headers[name] = layer_of(path)
    include = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
    bad = []
    for path in sources():
        mine = layer_of(path)
        if mine is None:
            bad.append('%s: not in any layer of scripts/check-layers.py' % path)
            continue
        with open(path, encoding='utf-8') as f:
            for lineno, line in enumerate(f, 1):
                m = include.match(line)
                if not m:
                    continue
                name = os.path.basename(m.group(1))
                if name in GENERATED:
                    theirs = GENERATED[name]
                elif name in headers:
                    theirs = headers[name]
                else:
                    bad.append('%s:%d: "%s" is no header of src/ or tools/' %
                               (os.path.relpath(path, ROOT), lineno, name))
                    continue
                if theirs is None or theirs == mine or theirs in ALLOWED[mine]:
                    continue
                bad.append('%s:%d: layer %s includes "%s" of layer %s (allowed: %s)' %
                           (os.path.relpath(path, ROOT), lineno, mine, name, theirs,
                            ', '.join(ALLOWED[mine]) or 'its own only'))
    print('1..1')
    for b in bad:
        print('# ' + b)
    print('%s 1 - every include goes to the same or a lower layer' % ('not ok' if bad else 'ok'))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
