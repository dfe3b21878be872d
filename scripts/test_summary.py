#!/usr/bin/env python3
"""Print the closing line of ./test: "N passed, N failed".

Counts every test case: each GoogleTest case of the unit binaries (Meson's
JUnit report carries them for `protocol: 'gtest'` tests) and each system
test. A Meson test that failed without reporting cases (a crash, a timeout,
a build problem) counts as one failure, so nothing that failed is lost in
the count. Exits 1 if anything failed or nothing ran.
"""

import json
import os
import sys
import xml.etree.ElementTree as ET

GOOD = {"OK", "EXPECTEDFAIL"}


def main():
    log = sys.argv[1] if len(sys.argv) > 1 else "build/meson-logs/testlog.json"
    junit = os.path.join(os.path.dirname(log), "testlog.junit.xml")
    if not os.path.exists(log):
        print("no test log found")
        print("0 passed, 1 failed")
        return 1

    results = {}
    try:
        with open(log) as f:
            for line in f:
                line = line.strip()
                if line:
                    entry = json.loads(line)
                    results[entry["name"]] = entry["result"]
    except (OSError, ValueError, KeyError) as e:
        print(f"unreadable test log {log}: {e}")
        print("0 passed, 1 failed")
        return 1

    # Cases per Meson test from the JUnit report: a gtest test "proj:unit /
    # fdt" appears as one <testsuite> per GoogleTest suite, named
    # "proj.proj:unit / fdt.SuiteName", holding a <testcase> per case.
    prefixes = {name.split(":")[0] + "." + name + ".": name for name in results}
    cases = {}
    if os.path.exists(junit):
        for suite in ET.parse(junit).getroot().iter("testsuite"):
            suite_name = suite.get("name", "")
            owner = next((n for p, n in prefixes.items() if suite_name.startswith(p)), None)
            if owner is None:
                continue
            p, f = cases.get(owner, (0, 0))
            for case in suite.iter("testcase"):
                if case.find("failure") is not None or case.find("error") is not None:
                    f += 1
                elif case.find("skipped") is None:
                    p += 1
            cases[owner] = (p, f)

    passed = failed = 0
    for name, result in results.items():
        p, f = cases.get(name, (0, 0))
        if p + f == 0:
            p, f = (1, 0) if result in GOOD else (0, 1)
        elif result not in GOOD and f == 0:
            f = 1  # the binary failed beyond its cases (crash, timeout)
        passed += p
        failed += f
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
