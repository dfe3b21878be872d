#!/usr/bin/env python3
"""System-test harness: boot the system in QEMU and judge the run.

A test passes only if QEMU exits by itself before the timeout (or, with
--expect-hang, is still running then: an idle system), with the expected
exit status (the kernel stops the machine through the QEMU finisher,
so the status is the kernel's verdict, not text), every --expect pattern
appears in the console output, and no kernel panic happened unless the test
asks for one (--expect-exit 3, unless --no-panic says that 3 is a guest
program's status). Whenever the output holds a panic, the backtrace is
symbolized (scripts/symbolize.py) and printed, and --expect-symbol names must
appear in it. --input/--input-after pairs type a conversation on the console.

    run_test.py --kernel K --mem 64M --bootargs ktest=boot --expect-exit 0 \\
                --expect 'RAM: 64 MiB' --expect 'ktest boot: PASS'
"""

import argparse
import os
import re
import select
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "scripts"))

import qemu  # noqa: E402
import symbolize  # noqa: E402

PANIC = "KERNEL PANIC"


def run(args):
    initrd = None if args.no_initrd else (args.initrd or qemu.default_initrd(args.kernel))
    cmd = qemu.qemu_command(args.kernel, args.mem, args.bootargs, args.smp, icount=args.icount, initrd=initrd)
    print("$ " + " ".join(cmd), flush=True)
    if args.input:
        return run_with_input(cmd, args)
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=args.timeout)
        output = proc.stdout.decode(errors="replace")
        status = proc.returncode
    except subprocess.TimeoutExpired as e:
        output = (e.stdout or b"").decode(errors="replace")
        status = None
    return output, status


def input_steps(args):
    """The (text, regex or None) pairs to type: the i-th --input waits for
    the i-th --input-after (none: typed right after the step before)."""
    after = args.input_after + [None] * (len(args.input) - len(args.input_after))
    return list(zip(args.input, after))


def run_with_input(cmd, args):
    """Like run(), but types each --input on QEMU's stdin (the console UART)
    in turn, once the output since the previous one was typed matches its
    --input-after (at once without one). Sets args.steps_typed."""
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    steps = input_steps(args)
    deadline = time.monotonic() + args.timeout
    output = bytearray()
    args.steps_typed = 0
    since = 0  # where the output after the last typed step starts
    fd = proc.stdout.fileno()
    while True:
        while args.steps_typed < len(steps):
            text, after = steps[args.steps_typed]
            if after and not re.search(after, output[since:].decode(errors="replace"), re.MULTILINE):
                break
            proc.stdin.write(text.encode())
            proc.stdin.flush()
            args.steps_typed += 1
            since = len(output)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            proc.kill()
            proc.wait()
            return output.decode(errors="replace"), None
        ready, _, _ = select.select([fd], [], [], min(remaining, 0.2))
        if not ready:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:  # QEMU closed its output: it has exited
            break
        output += chunk
    try:
        status = proc.wait(timeout=max(deadline - time.monotonic(), 1))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        status = None
    proc.stdin.close()
    return output.decode(errors="replace"), status


def judge(args, output, status):
    """Returns the list of failure reasons (empty = pass)."""
    failures = []
    if args.expect_hang:
        if status is not None:
            failures.append(f"exit status {status}, expected the system to keep running")
    elif status is None:
        failures.append(f"hang: QEMU still running after {args.timeout} s")
    elif status != args.expect_exit:
        failures.append(f"exit status {status}, expected {args.expect_exit}")
    for pattern in args.expect:
        if not re.search(pattern, output, re.MULTILINE):
            failures.append(f"missing output matching {pattern!r}")
    steps = input_steps(args) if args.input else []
    if getattr(args, "steps_typed", len(steps)) < len(steps):
        text, after = steps[args.steps_typed]
        failures.append(f"input never typed: {text!r} waited for output matching {after!r}")
    for pattern in args.reject:
        if re.search(pattern, output, re.MULTILINE):
            failures.append(f"unexpected output matching {pattern!r}")
    panicked = PANIC in output
    expect_panic = args.expect_exit == 3 and not args.no_panic
    if panicked and not expect_panic:
        failures.append("kernel panic")
    if expect_panic and not panicked:
        failures.append("expected a kernel panic report")
    if args.expect_symbol:
        report = symbolized_report(args.kernel, output)
        for name in args.expect_symbol:
            if not re.search(name, report):
                failures.append(f"backtrace lacks {name!r} after symbolization")
    return failures


def symbolized_report(kernel, output):
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if PANIC in line), len(lines))
    return "\n".join(symbolize.symbolize(kernel, lines[start:]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--mem", default="64M")
    parser.add_argument("--smp", type=int, default=1)
    parser.add_argument("--bootargs", default="")
    parser.add_argument("--initrd", help="boot archive (default: the one built beside the kernel)")
    parser.add_argument("--no-initrd", action="store_true", help="boot without a boot archive")
    parser.add_argument("--icount", action="store_true",
                        help="qemu -icount shift=0: exact instruction counts (instret counts instructions)")
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--expect-exit", type=int, default=0)
    parser.add_argument("--expect-hang", action="store_true",
                        help="the system must still be running (idle) at the timeout")
    parser.add_argument("--expect", action="append", default=[], help="regex that must appear")
    parser.add_argument("--reject", action="append", default=[], help="regex that must not appear")
    parser.add_argument("--expect-symbol", action="append", default=[],
                        help="regex that must appear in the symbolized backtrace")
    parser.add_argument("--input", action="append", default=[],
                        help="text to type on QEMU's stdin, the console (default: stdin is empty); "
                             "repeat it for a conversation: each is typed in turn")
    parser.add_argument("--input-after", action="append", default=[],
                        help="regex: type the --input of the same rank once the output since the "
                             "previous one was typed matches it")
    parser.add_argument("--no-panic", action="store_true",
                        help="--expect-exit 3 is a program's status, not a kernel panic: a panic fails")
    args = parser.parse_args()

    output, status = run(args)
    print(output)
    if PANIC in output:
        print("---- symbolized panic report ----")
        print(symbolized_report(args.kernel, output))
    failures = judge(args, output, status)
    for reason in failures:
        print(f"FAIL: {reason}")
    if not failures:
        print("PASS")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
