#!/usr/bin/env python3
"""Send raw bytes to the hub over mutual TLS and print what comes back.

The regress scenarios use this for what the real client never sends:
oversized length prefixes, garbage protobuf, wrong protocol versions.
Each answer frame prints as one line: "error CODE FATAL MESSAGE" for an
Error envelope, "body N" for any other, then "closed" when the hub closes.
"""
import argparse
import socket
import ssl
import sys
import time

HELLO = bytes.fromhex("00000004" "0801" "5200")  # version 1, empty hello


def varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def fields(buf):
    """Yield (number, wire type, value) for each field of a message."""
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            val, i = varint(buf, i)
        elif wt == 2:
            n, i = varint(buf, i)
            val = buf[i:i + n]
            i += n
        elif wt == 1:
            val = buf[i:i + 8]
            i += 8
        elif wt == 5:
            val = buf[i:i + 4]
            i += 4
        else:
            raise ValueError("wire type %d" % wt)
        yield num, wt, val


def describe(payload):
    for num, wt, val in fields(payload):
        if num == 20 and wt == 2:
            code, msg, fatal = 0, "", 0
            for n, _, v in fields(val):
                if n == 1:
                    code = v
                elif n == 2:
                    msg = v.decode("utf-8", "replace")
                elif n == 4:
                    fatal = v
            return "error %d %d %s" % (code, fatal, msg)
        if num >= 10:
            return "body %d" % num
    return "body none"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--no-cert", action="store_true")
    ap.add_argument("--hex", default="")
    ap.add_argument("--file", help="hex from a fixture file (# comments)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="send the bytes this many times")
    ap.add_argument("--source", help="local address to connect from "
                    "(another loopback address plays another host)")
    ap.add_argument("--rcvbuf", type=int, default=0,
                    help="socket receive buffer, to play a slow reader")
    ap.add_argument("--stall", type=float, default=0.0,
                    help="seconds to wait before reading anything")
    ap.add_argument("--hello", action="store_true",
                    help="send a valid hello first")
    ap.add_argument("--byte-delay", type=float, default=0.0,
                    help="seconds between single bytes")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--expect", type=int, default=0,
                    help="stop after this many answer frames, so that a "
                    "session the hub keeps open costs no timeout")
    ap.add_argument("--tls12", action="store_true",
                    help="offer TLS 1.2 only, and print the version "
                    "agreed as \"tls VERSION\"")
    ap.add_argument("--ciphers", help="TLS 1.2 cipher list to offer")
    a = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if a.tls12:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    else:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    if a.ciphers:
        ctx.set_ciphers(a.ciphers)
    ctx.load_verify_locations(a.ca)
    ctx.check_hostname = False
    if not a.no_cert:
        ctx.load_cert_chain(a.cert, a.key)
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if a.rcvbuf:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
    raw.settimeout(a.timeout)
    if a.source:
        raw.bind((a.source, 0))
    raw.connect((a.host, a.port))
    try:
        s = ctx.wrap_socket(raw, server_hostname="localhost")
    except (ssl.SSLError, OSError) as e:
        print("tls-failed %s" % e)
        return 0
    if a.tls12:
        print("tls %s" % s.version())
        sys.stdout.flush()
    hexdata = a.hex
    if a.file:
        with open(a.file) as f:
            hexdata = "".join(l.split("#")[0] for l in f)
    data = (HELLO if a.hello else b"") + bytes.fromhex(hexdata) * a.repeat
    try:
        if a.byte_delay > 0:
            for b in data:
                s.sendall(bytes([b]))
                time.sleep(a.byte_delay)
        elif data:
            s.sendall(data)
    except (ssl.SSLError, OSError) as e:
        print("send-failed %s" % e)
    if a.stall > 0:
        time.sleep(a.stall)
    buf = b""
    frames = 0
    deadline = time.time() + a.timeout
    while time.time() < deadline:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            print("timeout")
            return 0
        except (ssl.SSLError, OSError) as e:
            print("closed %s" % e)
            return 0
        if not chunk:
            print("closed")
            return 0
        buf += chunk
        while len(buf) >= 4:
            n = int.from_bytes(buf[:4], "big")
            if len(buf) < 4 + n:
                break
            print(describe(buf[4:4 + n]))
            sys.stdout.flush()
            buf = buf[4 + n:]
            frames += 1
            if a.expect and frames >= a.expect:
                return 0
    print("timeout")
    return 0


if __name__ == "__main__":
    sys.exit(main())
