#!/usr/bin/env python3
"""bench/responsive.py: is Emacs responsive while a filter receives at full speed?
(issue 14, item 5; `make bench-responsive`, also run by `make bench`).

For each system (Emacs's built-in `make-network-process`, netproc's twin) and each way of
waiting (`accept-process-output`, and Emacs's own loop through `sleep-for`), RUNS fresh
`emacs -Q --batch -l bench/responsive.el` receive BYTES from bench/peer_sender on loopback
while a 10 ms repeating timer records how late it runs. Runs are interleaved, so that the
machine's load falls on every system alike. Prints the median over runs of each figure
(max, p99 and median lateness; MB/s) and the worst max, and writes bench/RESULTS-responsive.md.

Asserts nothing about speed: the bound the issue asks for (max lateness <= 8 ms, twins
faster than the built-in) is printed as met or not.
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEER = os.path.join(ROOT, "bench", "bin", "peer_sender")
SYSTEMS = ["builtin", "netproc"]
WAITS = ["apo", "loop"]
FIELDS = ["late_max_ms", "late_p99_ms", "late_p50_ms", "mb_s"]


def one_run(system, wait, total, timeout):
    """One receive: peer_sender listening, Emacs connecting. Returns the RESULT fields."""
    peer = subprocess.Popen([PEER, str(total)], stdout=subprocess.PIPE, text=True)
    try:
        line = peer.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"peer_sender said {line!r}")
        port = line.split()[1]
        env = dict(os.environ, BENCH_SYSTEM=system)
        done = subprocess.run(
            ["emacs", "-Q", "--batch", "-L", "lisp", "-l", "bench/responsive.el", port, str(total), wait],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        result = [l for l in done.stdout.splitlines() if l.startswith("RESULT ")]
        if done.returncode != 0 or not result:
            raise RuntimeError(f"{system}/{wait} failed ({done.returncode}): {done.stdout}{done.stderr}")
        fields = dict(item.split("=", 1) for item in result[0].split()[1:])
        return {key: float(fields[key]) for key in FIELDS}
    finally:
        peer.kill()
        peer.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bytes", type=int, default=256 << 20, help="bytes per run (256 MiB)")
    parser.add_argument("--runs", type=int, default=5, help="runs per cell")
    parser.add_argument("--waits", default=",".join(WAITS), help="apo,loop")
    parser.add_argument("--output", default=os.path.join(ROOT, "bench", "RESULTS-responsive.md"))
    args = parser.parse_args()
    waits = args.waits.split(",")
    cells = {(s, w): [] for s in SYSTEMS for w in waits}
    for _ in range(args.runs):
        for wait in waits:
            for system in SYSTEMS:
                cells[(system, wait)].append(one_run(system, wait, args.bytes, 600))

    head = ("| system | waiting in | max late (ms) | p99 late (ms) | median late (ms) "
            "| worst max (ms) | MB/s |")
    lines = [head, "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    verdicts = []
    for wait in waits:
        medians = {}
        for system in SYSTEMS:
            runs = cells[(system, wait)]
            med = {key: statistics.median(r[key] for r in runs) for key in FIELDS}
            medians[system] = med
            worst = max(r["late_max_ms"] for r in runs)
            name = "built-in" if system == "builtin" else "netproc twin"
            where = "accept-process-output" if wait == "apo" else "sleep-for (Emacs's loop)"
            lines.append(f"| {name} | {where} | {med['late_max_ms']:.1f} | {med['late_p99_ms']:.1f} "
                         f"| {med['late_p50_ms']:.1f} | {worst:.1f} | {med['mb_s']:.0f} |")
        twin, builtin = medians["netproc"], medians["builtin"]
        met = twin["late_max_ms"] <= 8.0 and twin["mb_s"] > builtin["mb_s"]
        verdicts.append(f"{wait}: twin max late {twin['late_max_ms']:.1f} ms (target <= 8), "
                        f"{twin['mb_s'] / builtin['mb_s']:.2f}x the built-in's MB/s: "
                        f"{'met' if met else 'NOT met'}")
    load = os.getloadavg()
    table = "\n".join(lines)
    print(table)
    for verdict in verdicts:
        print(verdict)
    with open(args.output, "w") as out:
        out.write("# A 10 ms timer while a filter receives at full speed (issue 14, item 5)\n\n")
        out.write(f"`make bench-responsive`: {args.bytes >> 20} MiB from bench/peer_sender on loopback per "
                  f"run, {args.runs} runs per row (median of each figure; worst max over the runs), "
                  f"`emacs -Q --batch`, {platform.machine()}, {os.cpu_count()} CPUs, load average "
                  f"{load[0]:.2f} at the end, {time.strftime('%Y-%m-%d')}.\n\n")
        out.write("Lateness: when the timer ran less when it was due. The filter only counts bytes.\n\n")
        out.write(table + "\n\n")
        for verdict in verdicts:
            out.write(f"- {verdict}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
