#!/usr/bin/env python3
"""Proves the system-test harness can fail: runs run_test.py on a scenario
that must be judged a failure and checks that it is, for the right reason.

    harness_test.py --kernel K SCENARIO
"""

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# scenario: (run_test.py arguments, the FAIL reason it must print)
SCENARIOS = {
    # No ktest: the kernel idles forever.
    "hang": (["--bootargs", "", "--timeout", "3"], "FAIL: hang"),
    "wrong-exit": (["--bootargs", "ktest=boot", "--expect-exit", "1"], "FAIL: exit status 0, expected 1"),
    "missing-line": (["--bootargs", "ktest=boot", "--expect", "no such line"],
                     "FAIL: missing output matching 'no such line'"),
    "unexpected-panic": (["--bootargs", "ktest=panic", "--expect-exit", "0"], "FAIL: kernel panic"),
    "missing-symbol": (["--bootargs", "ktest=panic", "--expect-exit", "3", "--expect-symbol", "no_such_function"],
                       "FAIL: backtrace lacks 'no_such_function'"),
    # Exit status 3 as a program's status (--no-panic): a panic still fails.
    "panic-with-no-panic": (["--bootargs", "ktest=panic", "--expect-exit", "3", "--no-panic"], "FAIL: kernel panic"),
    # A conversation whose second line waits for output that never comes.
    "input-never-typed": (["--bootargs", "ktest=boot", "--input", "a", "--input-after", "ktest boot",
                           "--input", "b", "--input-after", "no such prompt"],
                          "FAIL: input never typed: 'b' waited for output matching 'no such prompt'"),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kernel", required=True)
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    args = parser.parse_args()
    extra, reason = SCENARIOS[args.scenario]
    cmd = [sys.executable, os.path.join(HERE, "run_test.py"), "--kernel", args.kernel, "--mem", "64M"] + extra
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    print(proc.stdout[-3000:])
    if proc.returncode == 0:
        print(f"harness passed scenario '{args.scenario}', which must fail")
        return 1
    if reason not in proc.stdout:
        print(f"harness failed, but not with {reason!r}")
        return 1
    print(f"harness correctly failed: {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
