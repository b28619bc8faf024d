#!/usr/bin/env python3
"""bench/tls_sender.py CERT KEY BYTES: a TLS server (Python's ssl) that sends BYTES of zeros
to each client and closes; prints "PORT n" first. For bench/tls.py's bulk receive."""
import socket
import ssl
import sys

cert, key, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(8)
print("PORT", listener.getsockname()[1], flush=True)
block = bytes(1 << 20)
while True:
    raw, _ = listener.accept()
    try:
        with context.wrap_socket(raw, server_side=True) as conn:
            left = total
            while left > 0:
                n = conn.send(block[: min(left, len(block))])
                left -= n
            conn.unwrap()
    except (OSError, ssl.SSLError):
        pass
