#!/usr/bin/env python3
"""bench/run.py — netproc's benchmark driver (issue 6).

    python3 bench/run.py [--quick] [--runs N] [--systems a,b] [--workloads W1,W2,...] [--out FILE]

Runs every workload against every system under test (SUT), each in its own process, with a
plain-C peer program (bench/peer_*.c) on the other side of a loopback socket: the same peer
for every system, so that each system only does its own side. Runs alternate between the
systems (run 1 of every system, then run 2, ...). For each cell it reports the median of the
runs with the min-max, the ratios of netproc to libuv and to plain epoll, and of netproc's
Emacs twins to Emacs's built-in primitives; prints one table at the end and writes it, with
the machine description and the targets of issue 6, to bench/RESULTS.md (--quick: to
bench/RESULTS-quick.md). It asserts nothing: a failed run is recorded as a result.

CPU figures are the SUT's own user+system time from getrusage(RUSAGE_SELF) (Emacs: the same
through process-attributes). They are the stable ones on a shared machine; wall-clock
figures move with the machine's load, which is recorded for every cell.
"""

import argparse
import datetime
import os
import platform
import re
import resource
import select
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "bench", "bin")
GIB = 1024 ** 3
MIB = 1024 ** 2

C_SYSTEMS = ["netproc", "epoll", "libuv"]
EMACS_SYSTEMS = ["emacs-builtin", "emacs-netproc"]
ALL_SYSTEMS = C_SYSTEMS + EMACS_SYSTEMS


def sut_command(system):
    if system in C_SYSTEMS:
        return [os.path.join(BIN, "sut_" + system)]
    mode = system.split("-", 1)[1]
    return ["env", "BENCH_SYSTEM=" + mode, "emacs", "-Q", "--batch", "-L", os.path.join(ROOT, "lisp"),
            "-l", os.path.join(ROOT, "bench", "sut_emacs.el")]


def peer(name):
    return [os.path.join(BIN, "peer_" + name)]


def hard_nofile():
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1]


def raise_nofile():
    """In each child: soft RLIMIT_NOFILE up to the hard limit (Emacs cannot do it itself)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# ---- the workloads -------------------------------------------------------------------------

class Case:
    """One row group of the table: a workload with its parameters.

    listener: "peer" when the peer listens and the SUT connects, "sut" otherwise.
    sut_args(port) / peer_args(port): argument lists (port None for the listening side).
    metrics: (key, label, scale, fmt, lower_is_better); key is computed by derive().
    """

    def __init__(self, wid, title, listener, sut_args, peer_args, metrics, derive, pin=None, systems=None,
                 timeout=300):
        self.wid, self.title, self.listener = wid, title, listener
        self.sut_args, self.peer_args = sut_args, peer_args
        self.metrics, self.derive, self.pin = metrics, derive, pin
        self.systems = systems
        self.timeout = timeout


def d_recv(r):
    return {"mb_s": r["bytes"] / 1e6 / r["wall"], "cpu_gib": r["cpu"] / (r["bytes"] / GIB)}


def d_pingpong(r):
    return {"rate": r["rounds"] / r["wall"], "cpu_rt": r["cpu"] / r["rounds"] * 1e6}


def d_accept(r):
    return {"rate": r["closed"] / r["wall"], "cpu_conn": r["cpu"] / max(r["closed"], 1) * 1e6}


def d_scale(r):
    return {"rate": r["rate"], "mem": r["mem_per_conn"], "cpu_rt": r["pp_cpu"] / max(r["rounds"], 1) * 1e6}


def d_udp(r):
    return {"rate": r["rate"], "loss": r["loss_pct"], "cpu_dg": r["cpu"] / max(r["received"], 1) * 1e6}


M_RECV = [("mb_s", "MB/s", "{:.0f}", False), ("cpu_gib", "CPU s/GiB", "{:.3f}", True)]
M_PP = [("rate", "round trips/s", "{:.0f}", False), ("cpu_rt", "CPU µs/round trip", "{:.2f}", True)]
M_ACCEPT = [("rate", "connections/s", "{:.0f}", False), ("cpu_conn", "CPU µs/connection", "{:.1f}", True)]
M_SCALE = [("rate", "ping-pongs/s", "{:.0f}", False), ("mem", "user bytes/idle conn", "{:.0f}", True),
           ("cpu_rt", "CPU µs/ping-pong", "{:.2f}", True)]
M_UDP = [("rate", "datagrams/s", "{:.0f}", False), ("loss", "loss %", "{:.2f}", True),
         ("cpu_dg", "CPU µs/datagram", "{:.2f}", True)]


def make_cases(quick, systems):
    p = {
        "recv": 64 * MIB if quick else GIB,
        "recv_emacs": 32 * MIB if quick else 256 * MIB,
        "rounds": 10_000 if quick else 100_000,
        "rounds_emacs": 5_000 if quick else 100_000,
        "accepts": 2_000 if quick else 20_000,
        "scale_n": [10, 1000] if quick else [10, 1000, 10_000, max_idle()],
        "scale_n_emacs": [10, 1000] if quick else [10, 1000, 10_000],
        "scale_rounds": 2_000 if quick else 10_000,
        "datagrams": 100_000 if quick else 1_000_000,
    }
    emacs = [s for s in systems if s in EMACS_SYSTEMS]
    cases = []

    def recv_case(wid, title, coding):
        def sut_args(port, system):
            n = p["recv_emacs"] if system in EMACS_SYSTEMS else p["recv"]
            return ["recv", str(port), str(n), coding]

        def peer_args(port, system):
            n = p["recv_emacs"] if system in EMACS_SYSTEMS else p["recv"]
            return peer("sender") + [str(n), "65536"]

        return Case(wid, title, "peer", sut_args, peer_args, M_RECV, d_recv)

    cases.append(recv_case("W1", "W1 receive, :coding binary, 64 KiB writes", "binary"))

    for wid, title, pin in [("W2-cross", "W2 ping-pong 64 B, peer on the other CPU", ("0", "1")),
                            ("W2-one", "W2 ping-pong 64 B, both on CPU 0", ("0", "0"))]:
        def sut_args(port, system):
            n = p["rounds_emacs"] if system in EMACS_SYSTEMS else p["rounds"]
            return ["pingpong", str(port), str(n)]
        cases.append(Case(wid, title, "peer", sut_args, lambda port, system: peer("echo"), M_PP, d_pingpong,
                          pin=pin))

    cases.append(Case("W3", "W3 accept+close {} connections, 64 in flight".format(p["accepts"]), "sut",
                      lambda port, system: ["accept", str(p["accepts"])],
                      lambda port, system: peer("connector") + [str(port), str(p["accepts"]), "64"],
                      M_ACCEPT, d_accept))

    for n in p["scale_n"]:
        def sut_args(port, system, n=n):
            return ["scale", str(n), str(p["scale_rounds"])]

        def peer_args(port, system, n=n):
            return peer("scale") + [str(port), str(n), str(p["scale_rounds"])]
        only = None if n in p["scale_n_emacs"] else [s for s in systems if s not in EMACS_SYSTEMS]
        cases.append(Case("W4-{}".format(n), "W4 {} idle + 1 active ({} ping-pongs)".format(n, p["scale_rounds"]),
                          "sut", sut_args, peer_args, M_SCALE, d_scale, systems=only))

    for wid, title, rate in [("W5-paced", "W5 UDP {} x 64 B at 100,000/s".format(p["datagrams"]), 100_000),
                             ("W5-unpaced", "W5 UDP {} x 64 B unpaced".format(p["datagrams"]), 0)]:
        cases.append(Case(wid, title, "sut", lambda port, system: ["udp", str(p["datagrams"])],
                          lambda port, system, rate=rate: peer("udp") + [str(port), str(p["datagrams"]), str(rate)],
                          M_UDP, d_udp))

    cases.append(recv_case("W6", "W6 receive, :coding utf-8 (valid text)", "utf-8"))
    del emacs
    return cases, p


def max_idle():
    """W4's largest N: what the open-file limit allows, less room for the other descriptors."""
    return max(hard_nofile() - 100, 1000)


# ---- running one cell ----------------------------------------------------------------------

def parse_kv(line):
    out = {}
    for tok in line.split()[1:]:
        if "=" in tok:
            k, v = tok.split("=", 1)
            try:
                out[k] = float(v)
            except ValueError:
                out[k] = v
    return out


def start(cmd, pin):
    if pin is not None:
        cmd = ["taskset", "-c", pin] + cmd
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
                            preexec_fn=raise_nofile, start_new_session=True, text=True)


def kill(proc):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def read_port(proc, timeout):
    """The port from the "PORT n" line the listening side prints first, on stdout (C) or
    stderr (Emacs, whose batch stdout is flushed only at exit). Raw reads, so nothing else
    is taken from the pipes' buffers."""
    deadline = time.monotonic() + timeout
    fds = {proc.stdout.fileno(): b"", proc.stderr.fileno(): b""}
    while fds and time.monotonic() < deadline:
        ready, _, _ = select.select(list(fds), [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        for fd in ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                del fds[fd]
                continue
            fds[fd] += chunk
            m = re.search(rb"^PORT (\d+)$", fds[fd], re.M)
            if m:
                return int(m.group(1))
    return None


def run_once(case, system):
    """One run: returns (result dict or None, note)."""
    sut_pin = case.pin[0] if case.pin else None
    peer_pin = case.pin[1] if case.pin else None
    procs = []
    try:
        if case.listener == "peer":
            first = start(case.peer_args(None, system), peer_pin)
            procs.append(first)
            port = read_port(first, 30)
            if port is None:
                return None, "peer printed no port"
            sut = start(sut_command(system) + case.sut_args(port, system), sut_pin)
            procs.append(sut)
            other = first
        else:
            sut = start(sut_command(system) + case.sut_args(None, system), sut_pin)
            procs.append(sut)
            port = read_port(sut, 30)
            if port is None:
                return None, "SUT printed no port: " + sut.stderr.read()[-300:] if sut.poll() is not None else \
                    "SUT printed no port"
            other = start(case.peer_args(port, system), peer_pin)
            procs.append(other)
        try:
            out, err = sut.communicate(timeout=case.timeout)
        except subprocess.TimeoutExpired:
            return None, "timed out after {} s".format(case.timeout)
        try:
            _, perr = other.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            perr = "(peer timed out)"
        result = None
        for line in out.splitlines():
            if line.startswith("RESULT "):
                result = parse_kv(line)
        peer_line = next((l for l in (perr or "").splitlines() if l.startswith("PEER")), "")
        if result is None:
            return None, "no result (exit {}): {} {}".format(sut.returncode, err.strip()[-200:], peer_line)
        result["exit"] = sut.returncode
        result["peer"] = peer_line
        if sut.returncode != 0:
            return result, "incomplete (exit {}): {}".format(sut.returncode, summarize_failure(result, peer_line))
        return result, ""
    finally:
        for proc in procs:
            kill(proc)


def summarize_failure(r, peer_line):
    keys = ["accepted", "accept_failed", "closed", "rounds", "bytes", "received"]
    return " ".join("{}={:.0f}".format(k, r[k]) for k in keys if isinstance(r.get(k), float)) + \
        (" | " + peer_line if peer_line else "")


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# ---- statistics and the table --------------------------------------------------------------

def summary(values):
    if not values:
        return None
    return (statistics.median(values), min(values), max(values))


def fmt_summary(s, fmt, nruns=None):
    if s is None:
        return "—"
    med, lo, hi = s
    text = fmt.format(med)
    if lo != hi:
        text += " ({}–{})".format(fmt.format(lo), fmt.format(hi))
    return text


def ratio(a, b):
    if a is None or b is None or b[0] == 0:
        return "—"
    return "{:.2f}".format(a[0] / b[0])


def machine_description():
    def cmd(args):
        try:
            return subprocess.run(args, capture_output=True, text=True, timeout=20).stdout.strip().splitlines()[0]
        except Exception:  # noqa: BLE001 - a missing tool is just "unknown"
            return "unknown"
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "unknown"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = "{:.1f} GiB".format(int(line.split()[1]) / 1024 / 1024)
    version = "unknown"
    with open(os.path.join(ROOT, "Cargo.toml")) as f:
        m = re.search(r'^version\s*=\s*"([^"]+)"', f.read(), re.M)
        version = m.group(1) if m else version
    commit = cmd(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return [
        ("date", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("CPUs (nproc)", str(os.cpu_count())),
        ("CPU model", cpu),
        ("memory", mem),
        ("kernel", platform.release()),
        ("compiler", cmd(["cc", "--version"])),
        ("rustc", cmd(["rustc", "--version"])),
        ("libuv", cmd(["pkg-config", "--modversion", "libuv"])),
        ("Emacs", cmd(["emacs", "--version"])),
        ("netproc", "{} at {}{}".format(version, commit, " (work tree has uncommitted changes)" if dirty else "")),
        ("open-file limit (hard)", str(hard_nofile())),
        ("net.core.somaxconn", open("/proc/sys/net/core/somaxconn").read().strip()),
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="scaled-down sizes (make bench-quick)")
    ap.add_argument("--runs", type=int, help="runs per cell (default 3)")
    ap.add_argument("--systems", default=",".join(ALL_SYSTEMS))
    ap.add_argument("--workloads", default="", help="comma-separated prefixes, e.g. W1,W4")
    ap.add_argument("--out", help="Markdown file to write (default bench/RESULTS.md, --quick RESULTS-quick.md)")
    args = ap.parse_args()
    runs = args.runs or 3
    systems = [s for s in args.systems.split(",") if s]
    for s in systems:
        if s not in ALL_SYSTEMS:
            sys.exit("unknown system {}; known: {}".format(s, ", ".join(ALL_SYSTEMS)))
    out_path = args.out or os.path.join(ROOT, "bench", "RESULTS-quick.md" if args.quick else "RESULTS.md")
    cases, params = make_cases(args.quick, systems)
    if args.workloads:
        wanted = args.workloads.split(",")
        cases = [c for c in cases if any(c.wid.startswith(w) for w in wanted)]

    t_start = time.monotonic()
    load_start = loadavg()
    print("netproc benchmarks: {} runs per cell, systems {}; load average at start {}".format(
        runs, ", ".join(systems), load_start), flush=True)
    results = {}  # (wid, system) -> list of derived dicts
    notes = {}    # (wid, system) -> list of notes
    loads = {}    # wid -> (start, end)
    for case in cases:
        csys = [s for s in systems if case.systems is None or s in case.systems]
        loads[case.wid] = [loadavg(), None]
        for r in range(runs):
            for system in csys:
                t0 = time.monotonic()
                res, note = run_once(case, system)
                key = (case.wid, system)
                if res is not None and res.get("exit") == 0:
                    d = case.derive(res)
                    results.setdefault(key, []).append(d)
                    shown = "  ".join(("{} " + fmt).format(label, d[k]) for k, label, fmt, _ in case.metrics)
                else:
                    shown = "FAILED: " + note
                    notes.setdefault(key, []).append(note)
                print("  {:<11} run {} {:<14} {}  [{:.1f} s]".format(case.wid, r + 1, system, shown,
                                                                   time.monotonic() - t0), flush=True)
        loads[case.wid][1] = loadavg()
    load_end = loadavg()
    elapsed = time.monotonic() - t_start

    # ---- the table
    header = ["workload", "metric"] + systems + ["netproc÷libuv", "netproc÷epoll", "twins÷built-in"]
    rows = []
    sums = {}
    for case in cases:
        for k, label, fmt, _ in case.metrics:
            cells = []
            for s in systems:
                vals = [d[k] for d in results.get((case.wid, s), [])]
                sums[(case.wid, s, k)] = summary(vals)
                fails = len(notes.get((case.wid, s), []))
                text = fmt_summary(sums[(case.wid, s, k)], fmt)
                if case.systems is not None and s not in case.systems:
                    text = "not run"
                elif fails:
                    text += " [{} of {} failed]".format(fails, runs) if vals else " FAILED"
                cells.append(text)
            g = lambda s: sums.get((case.wid, s, k))  # noqa: E731
            rows.append([case.wid, label] + cells +
                        [ratio(g("netproc"), g("libuv")), ratio(g("netproc"), g("epoll")),
                         ratio(g("emacs-netproc"), g("emacs-builtin"))])
    table = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    table += ["| " + " | ".join(row) + " |" for row in rows]

    targets = evaluate_targets(sums, params, runs)
    failures = ["- {} / {}: {}".format(w, s, "; ".join(sorted(set(n)))) for (w, s), n in sorted(notes.items())]

    print()
    print("\n".join(table))
    print()
    print("\n".join(targets))
    if failures:
        print("\nFailed runs:\n" + "\n".join(failures))
    print("\nload average: start {}, end {}; {:.0f} s in all; written to {}".format(load_start, load_end, elapsed,
                                                                                  os.path.relpath(out_path, ROOT)))
    write_markdown(out_path, args.quick, runs, systems, cases, params, table, targets, failures, loads,
                   load_start, load_end, elapsed)


def evaluate_targets(sums, params, runs):
    def med(w, s, k):
        v = sums.get((w, s, k))
        return None if v is None else v[0]

    lines = []

    def check(name, value, limit, ok, detail=""):
        if value is None:
            lines.append("- {}: not measured {}".format(name, detail).rstrip())
            return
        verdict = "**met**" if ok else "**missed**"
        lines.append("- {}: {} (target {}) {}{}".format(name, value, limit, verdict, detail))

    for w, k, label in [("W1", "cpu_gib", "W1 CPU/GiB"), ("W2-one", "cpu_rt", "W2 one-CPU CPU/round trip"),
                        ("W3", "cpu_conn", "W3 CPU/connection"), ("W5-paced", "cpu_dg", "W5 paced CPU/datagram"),
                        ("W5-unpaced", "cpu_dg", "W5 unpaced CPU/datagram")]:
        n, u, e = med(w, "netproc", k), med(w, "libuv", k), med(w, "epoll", k)
        if n is not None and u:
            check(label + " netproc÷libuv", "{:.3f}".format(n / u), "≤ 1.00", n / u <= 1.0,
                  "" if n / u <= 1.0 else " by {:.1f}%".format((n / u - 1) * 100))
        if n is not None and e:
            check(label + " netproc÷epoll", "{:.3f}".format(n / e), "≤ 1.30", n / e <= 1.3,
                  "" if n / e <= 1.3 else " by {:.1f}%".format((n / e / 1.3 - 1) * 100))
    ns = [int(w.split("-")[1]) for (w, s, k) in sums if w.startswith("W4-") and s == "netproc" and k == "rate"
          and sums[(w, s, k)] is not None]
    if ns:
        big = max(ns)
        r10, rbig = med("W4-10", "netproc", "rate"), med("W4-{}".format(big), "netproc", "rate")
        if r10 and rbig:
            drop = (1 - rbig / r10) * 100
            check("W4 netproc ping-pong rate at {} idle vs 10 idle".format(big), "{:+.1f}%".format(-drop),
                  "within 5%", drop <= 5)
        mem = med("W4-{}".format(big), "netproc", "mem")
        if mem is not None:
            check("W4 netproc user memory per idle connection (N={})".format(big), "{:.0f} B".format(mem), "≤ 512 B",
                  mem <= 512, "" if mem <= 512 else " ({:.1f}× the limit)".format(mem / 512))
    loss = med("W5-paced", "netproc", "loss")
    if loss is not None:
        check("W5 netproc loss at 100,000/s", "{:.2f}%".format(loss), "0", loss == 0)
    nl, ul = med("W5-unpaced", "netproc", "loss"), med("W5-unpaced", "libuv", "loss")
    if nl is not None and ul is not None:
        check("W5 netproc unpaced loss vs libuv's", "{:.2f}% vs {:.2f}%".format(nl, ul), "no worse", nl <= ul)
    b, u = med("W1", "netproc", "cpu_gib"), med("W6", "netproc", "cpu_gib")
    if b and u:
        check("W6 netproc utf-8÷binary CPU/GiB", "{:.2f}".format(u / b), "≤ 1.5", u / b <= 1.5)
    eb, en = med("W1", "emacs-builtin", "mb_s"), med("W1", "emacs-netproc", "mb_s")
    if eb and en:
        check("Emacs W1 twins÷built-in MB/s", "{:.2f}×".format(en / eb), "≥ 10×", en / eb >= 10,
              "" if en / eb >= 10 else " (needs {:.1f}× more)".format(10 / (en / eb)))
    for who in ["emacs-netproc", "emacs-builtin"]:
        r = med("W4-10000", who, "rate")
        if (("W4-10000", who, "rate") in sums):
            lines.append("- Emacs W4 at 10,000 idle, {}: {}".format(
                who, "held them, {:.0f} ping-pongs/s".format(r) if r is not None else "failed (see failed runs)"))
    s = sums.get(("W3", "emacs-netproc", "cpu_conn"))
    if s is not None and runs >= 2:
        spread = (s[2] - s[1]) / s[0] * 100
        check("Emacs W3 twins run-to-run spread of CPU/connection", "{:.0f}%".format(spread), "< 15%", spread < 15)
    s = sums.get(("W3", "emacs-netproc", "rate"))
    if s is not None and runs >= 2:
        spread = (s[2] - s[1]) / s[0] * 100
        check("Emacs W3 twins run-to-run spread of connections/s", "{:.0f}%".format(spread), "< 15%", spread < 15)
    el = med("W5-paced", "emacs-netproc", "loss")
    if el is not None:
        check("Emacs W5 twins loss at 100,000/s", "{:.2f}%".format(el), "< 1%", el < 1,
              " (built-in: {})".format("{:.2f}%".format(med("W5-paced", "emacs-builtin", "loss"))
                                       if med("W5-paced", "emacs-builtin", "loss") is not None else "—"))
    return lines


NOTES = [
    "Emacs 28.2 lowers its own soft RLIMIT_NOFILE to 1024 (FD_SETSIZE) at startup, whatever it "
    "inherits (bench/run.py raises it to the hard limit for every child; /proc/PID/limits of "
    "`emacs -Q --batch` still shows 1024). So in W4 both the built-in and netproc's twins, which "
    "live in the same Emacs process, stop accepting at about 1,020 descriptors (the peer gets "
    "about 2,040 connections through: 1,020 accepted plus a full 1,024 backlog), and the run is "
    "recorded as failed. For the twins to reach 10,000, the module would have to raise the soft "
    "limit to the hard limit when it loads.",
    "W5 paced loss: the hand-written epoll loop and libuv also lose about 0.05-0.1% at 100,000/s on "
    "this shared machine, so the last tenth of a percent is the machine's; compare systems within "
    "the run.",
    "Wall-clock rates (MB/s, round trips/s, connections/s) vary by up to 2x between runs here "
    "(see the min-max); CPU per unit of work is the figure to compare.",
]


def write_markdown(path, quick, runs, systems, cases, params, table, targets, failures, loads, load_start,
                   load_end, elapsed):
    md = ["# netproc benchmark results" + (" (quick)" if quick else ""), ""]
    md.append("Written by `{}` (bench/run.py). Median of {} run{} per cell, with min–max; ratios are of the "
              "medians. CPU is the system under test's own user+system time (getrusage RUSAGE_SELF; in Emacs "
              "through process-attributes, 10 ms resolution); the peer's CPU is not counted. See bench/README.md "
              "for what each workload does.".format("make bench-quick" if quick else "make bench", runs,
                                                    "" if runs == 1 else "s"))
    md += ["", "## Machine", "", "| | |", "|---|---|"]
    md += ["| {} | {} |".format(k, v) for k, v in machine_description()]
    md += ["| load average (1/5/15 min) | start {}, end {} |".format(load_start, load_end),
           "| duration | {:.0f} s |".format(elapsed), ""]
    md += ["Machine load: this is a shared 2-core machine on which other builds and tests may run during the "
           "benchmark; the load average is recorded per workload below. Treat the CPU-time figures as the stable "
           "ones and wall-clock rates as indicative.", ""]
    md += ["## Results", ""] + table + [""]
    md += ["## Targets (issue 6)", ""] + targets + [""]
    if failures:
        md += ["## Failed or incomplete runs", ""] + failures + [""]
    md += ["## Notes", ""] + ["- " + n for n in NOTES] + [""]
    md += ["## Sizes", ""]
    md.append("- W1/W6: {} MiB per run (Emacs systems: {} MiB{}), 64 KiB writes of valid UTF-8 text.".format(
        params["recv"] // MIB, params["recv_emacs"] // MIB,
        "" if quick else ", reduced to keep `make bench` within a quarter of an hour"))
    md.append("- W2: {} round trips (Emacs systems: {}).".format(params["rounds"], params["rounds_emacs"]))
    md.append("- W3: {} connections, 64 in flight, listen backlog 1024 for every system.".format(params["accepts"]))
    md.append("- W4: N = {} idle (Emacs systems: {}), then {} ping-pongs on one more connection; the largest N is "
              "the hard open-file limit less 100.".format(", ".join(map(str, params["scale_n"])),
                                                        ", ".join(map(str, params["scale_n_emacs"])),
                                                        params["scale_rounds"]))
    md.append("- W5: {} datagrams of 64 bytes, paced at 100,000/s and unpaced (sendmmsg batches of 32).".format(
        params["datagrams"]))
    md += ["", "## Load average per workload (start → end)", ""]
    md += ["- {}: {} → {}".format(w, a, b) for w, (a, b) in loads.items()]
    md.append("")
    with open(path, "w") as f:
        f.write("\n".join(md))


if __name__ == "__main__":
    main()
