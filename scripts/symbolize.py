#!/usr/bin/env python3
"""Turn the addresses of a kernel panic report into function names and
source lines.

Reads console output (a file or stdin) and copies it to stdout; every
backtrace line the kernel prints ("  #N pc 0x..." or "  #N ra 0x...") gets
"function at file:line" appended, found with addr2line in the kernel ELF.
A return address ("ra") points after the call, so it is looked up one byte
earlier to land on the call itself. Inlined frames are shown as
"inlined into" chains.

    scripts/symbolize.py build/microkernel/kernel.elf console.log
    ./run 2>&1 | scripts/symbolize.py build/microkernel/kernel.elf
"""

import argparse
import os
import re
import shutil
import subprocess
import sys

FRAME = re.compile(r"^(\s*#\d+\s+(pc|ra)\s+0x([0-9a-fA-F]+).*?)\s*$")


def find_addr2line():
    for name in ("riscv64-linux-gnu-addr2line", "addr2line"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("symbolize: no addr2line found (install binutils-riscv64-linux-gnu)")


def lookup(elf, addresses):
    """Map each address to a description, with one addr2line run."""
    if not addresses:
        return {}
    cmd = [find_addr2line(), "-e", elf, "-f", "-C", "-i", "-p"]
    out = subprocess.run(cmd, input="\n".join(hex(a) for a in addresses) + "\n",
                         capture_output=True, text=True, check=True).stdout
    # -i prints one line per inlined frame followed by " (inlined by) ..."
    # lines; group them back per address: a new group starts on each line
    # that is not an "(inlined by)" continuation.
    groups = []
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("(inlined by)") and groups:
            groups[-1].append(line.replace("(inlined by) ", "inlined into "))
        else:
            groups.append([line])
    result = {}
    for address, group in zip(addresses, groups):
        result[address] = "; ".join(shorten(g) for g in group)
    return result


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def shorten(text):
    # Paths come out as the build directory joined with "../microkernel/...":
    # normalise them and show them relative to the repository. Drop
    # discriminators.
    text = re.sub(r"\s*\(discriminator \d+\)", "", text)

    def relative(m):
        path = os.path.normpath(m.group(1))
        if path.startswith(REPO + os.sep):
            path = os.path.relpath(path, REPO)
        return f" at {path}:{m.group(2)}"

    return re.sub(r" at (\S+):(\d+|\?)", relative, text)


def symbolize(elf, lines):
    wanted = []
    for line in lines:
        m = FRAME.match(line)
        if m:
            address = int(m.group(3), 16)
            wanted.append(address - 1 if m.group(2) == "ra" else address)
    names = lookup(elf, sorted(set(wanted)))
    out = []
    for line in lines:
        m = FRAME.match(line)
        if m:
            address = int(m.group(3), 16)
            key = address - 1 if m.group(2) == "ra" else address
            out.append(f"{m.group(1)}  {names.get(key, '??')}")
        else:
            out.append(line.rstrip("\n"))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("elf", help="kernel ELF with debug information")
    parser.add_argument("log", nargs="?", help="console output (default: stdin)")
    args = parser.parse_args()
    text = open(args.log, errors="replace").read() if args.log else sys.stdin.read()
    print("\n".join(symbolize(args.elf, text.splitlines())))


if __name__ == "__main__":
    main()
