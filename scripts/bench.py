#!/usr/bin/env python3
"""Run a benchmark program as the root task under qemu -icount shift=0 and
collect its figures.

The program prints lines "NAME,MEASUREMENT,INSTRUCTIONS,CYCLES" (NAME being
the benchmark); this script runs it once with the kernel's IPC fast path
and once without (bootargs kernel.fastpath=0), writes
build/bench/BENCH.csv with the header name,instructions,cycles (slow-path
rows carry the suffix _slowpath) and prints a table with the wall time of
each QEMU run beside the counts.
"""

import argparse
import csv
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import qemu  # noqa: E402

BENCHES = {
    "ipc": {"program": "bin/ipcbench", "prefix": "ipcbench", "mem": "128M"},
}


def run(kernel, bench, extra_bootargs, timeout):
    bootargs = f"roottask={bench['program']} {extra_bootargs}".strip()
    cmd = qemu.qemu_command(kernel, bench["mem"], bootargs, icount=True, initrd=qemu.default_initrd(kernel))
    start = time.monotonic()
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    wall = time.monotonic() - start
    out = proc.stdout.decode(errors="replace")
    rows = []
    for line in out.splitlines():
        parts = line.strip().split(",")
        if len(parts) == 4 and parts[0] == bench["prefix"]:
            rows.append((parts[1], int(parts[2]), int(parts[3])))
    if proc.returncode != 0 or not rows:
        sys.stderr.write(out)
        sys.exit(f"bench: the benchmark run failed (exit status {proc.returncode})")
    return rows, wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("bench", choices=sorted(BENCHES))
    parser.add_argument("--build", default=os.path.join(REPO, "build"))
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    bench = BENCHES[args.bench]
    kernel = os.path.join(args.build, "microkernel", "kernel.elf")
    fast, fast_wall = run(kernel, bench, "", args.timeout)
    slow, slow_wall = run(kernel, bench, "kernel.fastpath=0", args.timeout)

    out_dir = os.path.join(args.build, "bench")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"{args.bench}.csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "instructions", "cycles"])
        for name, ins, cyc in fast:
            w.writerow([name, ins, cyc])
        for name, ins, cyc in slow:
            w.writerow([f"{name}_slowpath", ins, cyc])

    slow_by_name = {name: ins for name, ins, _ in slow}
    print(f"{'measurement':28} {'instructions':>12} {'cycles':>10} {'slow path':>10}")
    for name, ins, cyc in fast:
        print(f"{name:28} {ins:>12} {cyc:>10} {slow_by_name.get(name, 0):>10}")
    print(f"(qemu -icount shift=0; medians per operation; wall time of the runs: "
          f"{fast_wall:.1f} s with the fast path, {slow_wall:.1f} s without)")
    print(f"wrote {os.path.relpath(path, REPO)}")


if __name__ == "__main__":
    main()
