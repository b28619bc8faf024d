#!/usr/bin/env python3
"""bench/tls.py: issue 13's TLS measurements (make bench-tls; also run by make bench).

1. Client CPU per TLS 1.3 handshake against `openssl s_server` on loopback: netproc's C
   API (bench/bin/tls_client), Emacs's built-in GnuTLS and the netproc twins in Emacs
   (bench/tls_emacs.el), the same server and certificates, interleaved runs.
2. Client CPU to receive BYTES through TLS from a Python ssl server (bench/tls_sender.py):
   netproc's C API against `openssl s_client` reading the same stream to /dev/null.

Asserts nothing: prints a table and writes bench/RESULTS-tls.md. Every child has a timeout.
"""
import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def result(line_output):
    for line in line_output.splitlines():
        if line.startswith("RESULT "):
            return dict(kv.split("=", 1) for kv in line.split()[1:])
    raise RuntimeError("no RESULT line in: " + line_output)


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd, timeout=600, **kw):
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, **kw)
    if done.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--handshakes", type=int, default=300)
    parser.add_argument("--bytes", type=int, default=1 << 30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.handshakes, args.bytes = 100, 256 << 20
    for tool in ("openssl", "emacs", "python3"):
        if shutil.which(tool) is None:
            sys.exit(f"bench/tls.py: {tool} is needed and not installed")
    certs = tempfile.mkdtemp(prefix="netproc-bench-tls-")
    run([os.path.join(ROOT, "target/release/examples/test-certs"), certs])
    ca = os.path.join(certs, "ca.pem")
    cert, key = os.path.join(certs, "server.pem"), os.path.join(certs, "server.key")

    # 1. Handshakes.
    port = free_port()
    server = subprocess.Popen(
        ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", cert, "-key", key, "-quiet", "-tls1_3"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    systems = {
        "netproc (C API)": lambda: result(run(["bench/bin/tls_client", "handshake", str(port), ca,
                                               str(args.handshakes)])),
        "Emacs 28.2 built-in (GnuTLS)": lambda: result(run(["emacs", "-Q", "--batch", "-l", "bench/tls_emacs.el",
                                                            str(port), ca, str(args.handshakes)])),
        "netproc twins in Emacs": lambda: result(run(["emacs", "-Q", "--batch", "-l", "bench/tls_emacs.el",
                                                      str(port), ca, str(args.handshakes), "netproc"])),
    }
    handshake = {name: [] for name in systems}
    try:
        import time
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        for _ in range(args.runs):
            for name, measure in systems.items():
                handshake[name].append(float(measure()["cpu_us_per_handshake"]))
    finally:
        server.kill()
        server.wait()

    # 2. Bulk receive.
    sender = subprocess.Popen([sys.executable, "bench/tls_sender.py", cert, key, str(args.bytes)],
                              stdout=subprocess.PIPE, text=True, cwd=ROOT)
    bulk = {"netproc (C API)": [], "openssl s_client": []}
    try:
        port = int(sender.stdout.readline().split()[1])
        for _ in range(args.runs):
            r = result(run(["bench/bin/tls_client", "recv", str(port), ca, str(args.bytes)]))
            bulk["netproc (C API)"].append((float(r["user"]) + float(r["sys"])) * (1 << 30) / args.bytes)
            before = children_cpu()
            with open(os.devnull, "wb") as sink:
                done = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", ca,
                                       "-quiet", "-ign_eof"], stdin=subprocess.DEVNULL, stdout=sink,
                                      stderr=subprocess.DEVNULL, timeout=600)
            if done.returncode not in (0, 1):
                raise RuntimeError(f"s_client failed: {done.returncode}")
            bulk["openssl s_client"].append((children_cpu() - before) * (1 << 30) / args.bytes)
    finally:
        sender.kill()
        sender.wait()
    shutil.rmtree(certs)

    lines = ["# TLS measurements (bench/tls.py)", "",
             f"Median of {args.runs} interleaved runs; min–max in brackets.", "",
             f"## Client CPU per TLS 1.3 handshake ({args.handshakes} per run, `openssl s_server`)", "",
             "| system | µs CPU per handshake | vs netproc |", "| --- | --- | --- |"]
    base = statistics.median(handshake["netproc (C API)"])
    for name, values in handshake.items():
        med = statistics.median(values)
        lines.append(f"| {name} | {med:.0f} [{min(values):.0f}–{max(values):.0f}] | {med / base:.1f}× |")
    lines += ["", f"## Client CPU to receive through TLS, per GiB ({args.bytes >> 20} MiB per run)", "",
              "| system | CPU seconds per GiB | vs openssl s_client |", "| --- | --- | --- |"]
    ref = statistics.median(bulk["openssl s_client"])
    for name, values in bulk.items():
        med = statistics.median(values)
        lines.append(f"| {name} | {med:.3f} [{min(values):.3f}–{max(values):.3f}] | {med / ref:.2f}× |")
    text = "\n".join(lines) + "\n"
    print(text)
    out = "RESULTS-tls-quick.md" if args.quick else "RESULTS-tls.md"
    with open(os.path.join(ROOT, "bench", out), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
