#!/usr/bin/env python3
"""Print the compiler's own header directories, one per line, for -isystem.

    system_includes.py [--rsp FILE DIR] COMPILER [ARG...]

With --rsp, also writes FILE, a GCC response file (given as @FILE) with
-nostdinc, those directories and DIR (the SDK's C headers) as -isystem.
Meson gets the flags this way because it drops -isystem options that name
the compiler's default directories from the arguments it is given.

The SDK compiles programs with -nostdinc, so that neither the cross
compiler's glibc headers nor the host's /usr/include are ever found, and
gives back the directories it still needs, in the compiler's order:
libstdc++'s (for C++) and GCC's own (stddef.h, stdarg.h, stdint.h,
limits.h, ...), the one `-print-file-name=include` names. Every directory
after that one belongs to a C library and is left out; the SDK's C headers
(libos/include/c) come after these, so that libstdc++'s #include_next of
<stdlib.h> and GCC's of <limits.h> reach them.
"""

import os
import subprocess
import sys


def main():
    args = sys.argv[1:]
    rsp = None
    if args[:1] == ["--rsp"]:
        rsp, c_headers, args = args[1], args[2], args[3:]
    compiler = args
    gcc_include = subprocess.run(compiler + ["-print-file-name=include"], check=True,
                                 capture_output=True, text=True).stdout.strip()
    probe = subprocess.run(compiler + ["-E", "-v", "-"], input="", check=True,
                           capture_output=True, text=True).stderr.splitlines()
    start = probe.index("#include <...> search starts here:") + 1
    end = probe.index("End of search list.")
    dirs = []
    for line in probe[start:end]:
        d = os.path.realpath(line.strip())
        dirs.append(d)
        if d == os.path.realpath(gcc_include):
            break
    else:
        sys.exit(f"system_includes.py: {gcc_include} is not in {compiler[0]}'s search list")
    print("\n".join(dirs))
    if rsp is not None:
        os.makedirs(os.path.dirname(rsp), exist_ok=True)
        with open(rsp, "w") as f:
            f.write(" ".join(["-nostdinc"] + [f"-isystem {d}" for d in dirs + [c_headers]]) + "\n")


if __name__ == "__main__":
    main()
