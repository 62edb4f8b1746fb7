#!/usr/bin/python3
"""Write the seed corpus of the RPC fuzz target (tests/fuzz/rpc_message_corpus):
one frame per procedure with plausible arguments, keepalive, and bad frames.
Run it again after adding a procedure; the frames follow src/rpc/rpc_protocol.x and src/remote/remote_protocol.x."""
import os
import struct
import sys

REMOTE, KEEPALIVE = 0x20008086, 0x6B656570
CALL, REPLY, MESSAGE, STREAM = 0, 1, 2, 3


def u32(v):
    return struct.pack(">I", v & 0xFFFFFFFF)


def u64(v):
    return struct.pack(">Q", v)


def string(s):
    b = s.encode()
    return u32(len(b)) + b + b"\0" * (-len(b) % 4)


def opt(payload):
    return u32(0) if payload is None else u32(1) + payload


def opaque(b):
    return u32(len(b)) + b + b"\0" * (-len(b) % 4)


UUID = bytes(range(16))
DOM = string("vm1") + UUID + u32(-1)
XML = string("<domain type='qemu'><name>vm1</name></domain>")
PARAMS = u32(3) + string("migrate_uri") + u32(7) + string("tcp://dst:49152") + \
    string("bandwidth") + u32(4) + u64(100) + string("destination_name") + u32(7) + string("vm2")
COOKIE = opaque(b"<qemu-migration/>")

ARGS = {
    1: opt(string("qemu:///system")) + u32(0), 2: b"", 3: b"", 4: b"",
    5: opt(string("qemu")), 6: b"", 7: b"", 9: DOM, 10: XML + u32(0), 11: XML,
    12: DOM, 14: DOM + u32(2), 15: DOM, 16: DOM, 22: u32(3), 23: string("vm1"),
    24: UUID, 27: DOM + u32(0), 28: DOM, 29: DOM + u32(1), 33: DOM, 34: DOM, 35: DOM,
    59: b"", 60: u32(10), 66: b"", 149: b"", 150: DOM, 151: DOM, 157: b"", 163: DOM,
    164: DOM, 183: DOM + u32(0), 187: DOM + u32(0), 196: DOM + u32(0), 201: DOM + opt(None) + u32(0),
    212: DOM + u32(0),
    231: DOM + u32(0), 234: DOM + u32(0), 258: DOM + u32(0), 273: u32(1) + u32(3),
    298: DOM + u32(0), 302: DOM + PARAMS + u32(1),
    303: PARAMS + COOKIE + u32(1), 305: DOM + opt(string("qemu+unix:///system")) + PARAMS +
    COOKIE + u32(3), 306: PARAMS + COOKIE + u32(1) + u32(0),
    307: DOM + PARAMS + COOKIE + u32(1) + u32(0), 316: u32(0) + opt(DOM), 317: u32(1),
    342: opt(string("/usr/bin/qemu-system-aarch64")) + opt(string("aarch64")) +
    opt(string("virt")) + opt(string("qemu")) + u32(0), 350: XML + u32(1), 360: b"", 361: b"",
}


def frame(prog, vers, proc, typ, serial, status, payload=b"", length=None):
    body = u32(prog) + u32(vers) + u32(proc) + u32(typ) + u32(serial) + u32(status) + payload
    return u32(length if length is not None else 4 + len(body)) + body


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rpc_message_corpus")
    os.makedirs(out, exist_ok=True)
    seeds = {}
    for proc, args in ARGS.items():
        # serial 1: connection opened first; 3: opened and read-only; 0: not opened
        seeds[f"call-{proc:03d}"] = frame(REMOTE, 1, proc, CALL, 1, 0, args)
    seeds["call-212-readonly"] = frame(REMOTE, 1, 212, CALL, 3, 0, ARGS[212])
    seeds["call-012-readonly"] = frame(REMOTE, 1, 12, CALL, 3, 0, ARGS[12])
    seeds["call-003-not-open"] = frame(REMOTE, 1, 3, CALL, 0, 0)
    seeds["call-unknown-proc"] = frame(REMOTE, 1, 4242, CALL, 1, 0)
    seeds["call-unknown-program"] = frame(0x12345678, 1, 1, CALL, 1, 0)
    seeds["ping"] = frame(KEEPALIVE, 1, 1, MESSAGE, 0, 0)
    seeds["pong"] = frame(KEEPALIVE, 1, 2, MESSAGE, 0, 0)
    seeds["bad-length-short"] = frame(REMOTE, 1, 3, CALL, 1, 0, length=27)
    seeds["bad-length-huge"] = frame(REMOTE, 1, 3, CALL, 1, 0, length=0xFFFFFFFF)
    seeds["bad-type-reply"] = frame(REMOTE, 1, 3, REPLY, 1, 0)
    seeds["stream-finish"] = frame(REMOTE, 1, 201, STREAM, 1, 0)
    seeds["stream-data"] = frame(REMOTE, 1, 201, STREAM, 1, 2, b"console input")
    seeds["stream-abort"] = frame(REMOTE, 1, 201, STREAM, 1, 1)
    seeds["bad-stream-status"] = frame(REMOTE, 1, 201, STREAM, 1, 7)
    seeds["bad-string-length"] = frame(REMOTE, 1, 23, CALL, 1, 0, u32(0xFFFFFFF0) + b"abcd")
    seeds["truncated"] = frame(REMOTE, 1, 1, CALL, 1, 0, ARGS[1])[:-3]
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"{len(seeds)} seeds in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
