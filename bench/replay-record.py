#!/usr/bin/python3
"""Record, for bench/replay-daemon, the reply a daemon gives to each procedure:
a proxy for one connection that passes every frame through and keeps the last
reply (status and payload) seen for each remote procedure.

  replay-record.py LISTEN_SOCKET UPSTREAM_SOCKET RECORDING

Then run the client once against LISTEN_SOCKET (for example
`virsh -c 'qemu+unix:///system?socket=LISTEN_SOCKET' 'dumpxml NAME; list --all'`);
the recording is written when it disconnects.  Format: per procedure, three
big-endian words (procedure, status, payload length) and the payload.
"""
import os
import socket
import struct
import sys

REMOTE, REPLY = 0x20008086, 1


def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def read_frame(s):
    (length,) = struct.unpack(">I", read_exact(s, 4))
    return struct.pack(">I", length) + read_exact(s, length - 4)


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    listen, upstream, out = sys.argv[1:]
    if os.path.exists(listen):
        os.unlink(listen)
    ls = socket.socket(socket.AF_UNIX)
    ls.bind(listen)
    ls.listen(1)
    client, _ = ls.accept()
    server = socket.socket(socket.AF_UNIX)
    server.connect(upstream)
    replies = {}
    try:
        while True:
            call = read_frame(client)
            server.sendall(call)
            prog, _, proc, _, serial, _ = struct.unpack(">IIiIII", call[4:28])
            if prog != REMOTE:
                continue
            while True:  # until this call's reply; events and the like pass through
                frame = read_frame(server)
                client.sendall(frame)
                _, _, _, typ, rserial, status = struct.unpack(">IIiIII", frame[4:28])
                if typ == REPLY and rserial == serial:
                    replies[proc] = (status, frame[28:])
                    break
    except EOFError:
        pass
    with open(out, "wb") as f:
        for proc, (status, payload) in sorted(replies.items()):
            f.write(struct.pack(">III", proc & 0xFFFFFFFF, status, len(payload)) + payload)
    print(f"recorded procedures {sorted(replies)} into {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
