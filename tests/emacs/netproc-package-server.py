#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Small loopback servers for the package scripts of netproc-test-packages.el.

    netproc-package-server.py http|irc [--tls CERT KEY]

Listens on 127.0.0.1 on a free port, prints "PORT N" on stdout, and serves until
killed (or until its stdin closes, so that it never outlives the Emacs that started
it).  With --tls every connection is TLS from the start.

http: HTTP/1.1 with keep-alive (a connection serves requests until the client closes
it or sends "Connection: close").  Every reply names its connection and the request's
number on it, so a client can tell whether it reused a connection:
    GET  /hello      "hello conn C req R\n", with Content-Length
    GET  /chunked    "chunked conn C req R\n", then 300 numbered lines of 64 bytes, then
                     "end\n", with Transfer-Encoding: chunked, in chunks of 1 to 7000
                     bytes sent apart
    GET  /n/K        "body K\n" (the many-fetches test)
    POST /digest     "length N sha256 HEX\n" of the request body (read by Content-Length)
    anything else    404

irc: enough of RFC 2812 for erc and rcirc: registration (NICK, USER; CAP is answered
with no capabilities), PING, MODE, WHO, JOIN (with a member "npbot" in every channel),
PRIVMSG to a channel (npbot answers "echo: TEXT" in the channel), QUIT.
"""

import asyncio
import hashlib
import itertools
import os
import resource
import ssl
import sys
import threading

SERVER = "np.test"


def tls_context(cert, key):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


# ---- HTTP ----

connection_ids = itertools.count(1)


async def read_request(reader):
    """(method, path, headers, body) of the next request, or None at end of stream."""
    line = await reader.readline()
    if not line:
        return None
    method, path, _version = line.decode("latin-1").split(" ", 2)
    headers = {}
    while True:
        header = await reader.readline()
        if header in (b"\r\n", b"\n", b""):
            break
        name, _, value = header.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return method, path, headers, body


def reply(writer, status, body, extra=()):
    head = [f"HTTP/1.1 {status}", "Content-Type: text/plain",
            f"Content-Length: {len(body)}", *extra]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)


async def reply_chunked(writer, first_line):
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n")
    body = first_line + b"".join(b"%063d\n" % i for i in range(300)) + b"end\n"
    sizes = itertools.cycle([1, 7000, 17, 4096, 333])
    position = 0
    while position < len(body):
        chunk = body[position:position + next(sizes)]
        position += len(chunk)
        writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        await writer.drain()
        await asyncio.sleep(0.002)
    writer.write(b"0\r\n\r\n")


async def serve_http(reader, writer):
    connection = next(connection_ids)
    try:
        for number in itertools.count(1):
            request = await read_request(reader)
            if request is None:
                break
            method, path, headers, body = request
            tag = b"conn %d req %d\n" % (connection, number)
            if method == "GET" and path == "/hello":
                reply(writer, "200 OK", b"hello " + tag)
            elif method == "GET" and path == "/chunked":
                await reply_chunked(writer, b"chunked " + tag)
            elif method == "GET" and path.startswith("/n/"):
                reply(writer, "200 OK", b"body %s\n" % path[3:].encode())
            elif method == "POST" and path == "/digest":
                digest = hashlib.sha256(body).hexdigest().encode()
                reply(writer, "200 OK", b"length %d sha256 %s\n" % (len(body), digest))
            else:
                reply(writer, "404 Not Found", b"no such thing\n")
            await writer.drain()
            if headers.get("connection", "").lower() == "close":
                break
    except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
        pass
    finally:
        writer.close()


# ---- IRC ----

channels = {}  # channel -> set of writers of its members (npbot is implicit)


def irc_send(writer, line):
    writer.write(line.encode("utf-8") + b"\r\n")


async def serve_irc(reader, writer):
    nick, user, registered, joined = None, None, False, set()
    try:
        while True:
            raw = await reader.readline()
            if not raw:
                break
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not line:
                continue
            words, _, trailing = line.partition(" :")
            words = words.split()
            command, args = words[0].upper(), words[1:] + ([trailing] if _ else [])
            prefix = f":{nick}!{user}@127.0.0.1"
            if command == "CAP":
                if args and args[0] == "LS":
                    irc_send(writer, f":{SERVER} CAP * LS :")
            elif command == "NICK":
                nick = args[0]
            elif command == "USER":
                user = args[0]
            elif command == "PING":
                irc_send(writer, f":{SERVER} PONG {SERVER} :{args[-1] if args else ''}")
            elif command == "JOIN" and registered:
                for channel in args[0].split(","):
                    channels.setdefault(channel, set()).add(writer)
                    joined.add(channel)
                    irc_send(writer, f"{prefix} JOIN {channel}")
                    irc_send(writer, f":{SERVER} 353 {nick} = {channel} :{nick} @npbot")
                    irc_send(writer, f":{SERVER} 366 {nick} {channel} :End of /NAMES list.")
            elif command == "MODE" and registered:
                if args and args[0].startswith("#"):
                    irc_send(writer, f":{SERVER} 324 {nick} {args[0]} +nt")
            elif command == "WHO" and registered:
                irc_send(writer, f":{SERVER} 315 {nick} {args[0] if args else '*'} :End of WHO list.")
            elif command == "PRIVMSG" and registered and len(args) == 2:
                target, text = args
                if target in joined:
                    for other in channels.get(target, ()):
                        if other is not writer:
                            irc_send(other, f"{prefix} PRIVMSG {target} :{text}")
                    irc_send(writer, f":npbot!bot@{SERVER} PRIVMSG {target} :echo: {text}")
            elif command == "QUIT":
                irc_send(writer, f"ERROR :Closing Link: 127.0.0.1 (Quit: {args[0] if args else ''})")
                await writer.drain()
                break
            if not registered and nick and user:
                registered = True
                for number, text in (("001", f":Welcome to the np test network {nick}"),
                                     ("002", f":Your host is {SERVER}"),
                                     ("003", ":This server was created today"),
                                     ("004", f"{SERVER} np-1 i nt"),
                                     ("005", "CHANTYPES=# PREFIX=(ov)@+ NETWORK=nptest "
                                             ":are supported by this server"),
                                     ("375", f":- {SERVER} Message of the day -"),
                                     ("372", ":- hello"),
                                     ("376", ":End of /MOTD command.")):
                    irc_send(writer, f":{SERVER} {number} {nick} {text}")
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        for channel in joined:
            channels[channel].discard(writer)
        writer.close()


# ---- main ----

def exit_when_stdin_closes():
    sys.stdin.buffer.read()
    os._exit(0)


async def main():
    kind = sys.argv[1]
    context = None
    if len(sys.argv) == 5 and sys.argv[2] == "--tls":
        context = tls_context(sys.argv[3], sys.argv[4])
    # The many-fetches test opens 2,000 connections at once.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    handler = {"http": serve_http, "irc": serve_irc}[kind]
    server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=context, backlog=4096)
    print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    async with server:
        await server.serve_forever()


asyncio.run(main())
