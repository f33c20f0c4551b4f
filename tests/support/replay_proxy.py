"""Benchmarks only: a loopback HTTP proxy that adds AWS-like latency and answers repeated
requests itself, so that a timed run measures natcost against round trips as slow as AWS's
rather than against the emulator's own speed (moto answers about 100 requests a second).

    python replay_proxy.py UPSTREAM_PORT [--latency-ms MS]

Every request waits MS milliseconds. A signed request seen before (same method, path,
X-Amz-Target, access key, region, service and body; the region and service are only in the
signature's scope) whose answer was a 200 is answered with that answer, byte for byte,
without asking upstream; any other is forwarded to UPSTREAM_PORT (moto, or fault_proxy.py in
front of it) and its answer kept if it was a signed request's 200. GET /__replay_stats answers
{"replayed": N, "forwarded": M} itself, so that a benchmark can tell a timed run that was not
all replayed. It runs on asyncio in one thread: the peer stands in for AWS, whose CPU
is not on this machine, so it must use as little of the benchmark's two cores as it can (a
thread per connection and http.server's parsing used more CPU than natcost itself).
Prints "READY <port>" once listening on 127.0.0.1.
"""
import asyncio
import json
import re
import sys

upstream = int(sys.argv[1])
latency = 0.0
args = sys.argv[2:]
while args:
    flag, value, args = args[0], args[1], args[2:]
    if flag == "--latency-ms":
        latency = int(value) / 1000
    else:
        sys.exit(f"unknown flag {flag}")
kept = {}
stats = {"replayed": 0, "forwarded": 0}
SCOPE = re.compile(rb"Credential=([^/]+)/\d+/([^/]+)/([^/]+)/")
TARGET = re.compile(rb"\r\nx-amz-target:([^\r]*)", re.IGNORECASE)


def content_length(head):
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
        if name.strip().lower() == b"transfer-encoding":
            raise ValueError("chunked bodies are not supported")
    return 0


async def read_message(reader):
    """(head, body) of one HTTP/1.1 message; None at the end of the stream."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    length = content_length(head)
    return head, (await reader.readexactly(length) if length else b"")


async def serve(reader, writer):
    up = None
    try:
        while (message := await read_message(reader)) is not None:
            head, body = message
            method, path = head.split(b" ", 2)[:2]
            if path == b"/__replay_stats":
                text = json.dumps(stats).encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(text), text))
                await writer.drain()
                continue
            scope, target = SCOPE.search(head), TARGET.search(head)
            key = scope and (method, path, target and target.group(1).strip(), scope.groups(), body)
            if latency:
                await asyncio.sleep(latency)
            answer = kept.get(key) if key else None
            stats["replayed" if answer else "forwarded"] += 1
            if answer is None:
                for attempt in (0, 1):
                    try:
                        if up is None:
                            up = await asyncio.open_connection("127.0.0.1", upstream)
                        up[1].write(head + body)
                        await up[1].drain()
                        reply = await read_message(up[0])
                        if reply is None:
                            raise ConnectionError(f"upstream closed the connection on {head[:200]!r}")
                        break
                    except (ConnectionError, asyncio.IncompleteReadError):
                        if up is not None:
                            up[1].close()
                        up = None
                        if attempt:
                            raise
                answer = reply[0] + reply[1]
                if key and reply[0].split(b" ", 2)[1] == b"200":
                    kept[key] = answer
            writer.write(answer)
            await writer.drain()
    except (ConnectionError, ValueError) as e:
        print(f"replay_proxy: {e}", file=sys.stderr)
    finally:
        if up is not None:
            up[1].close()
        writer.close()


async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", 0, backlog=1024)
    print(f"READY {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
