#!/usr/bin/env python3
"""Pack programs into the boot archive (cpio newc) as bin/NAME.

    mkbootfs.py OUTPUT PROGRAM...

The archived copies are stripped of symbols and debug information (the
unstripped programs stay in the build directory for gdb and
scripts/symbolize.py). Uses the system's cpio with a fixed order, so the
archive is the same for the same programs.
"""

import os
import shutil
import subprocess
import sys
import tempfile


STRIP = shutil.which("riscv64-linux-gnu-strip") or "strip"


def main():
    output, programs = sys.argv[1], sys.argv[2:]
    with tempfile.TemporaryDirectory() as root:
        os.mkdir(os.path.join(root, "bin"))
        names = []
        for program in sorted(programs, key=os.path.basename):
            name = os.path.join("bin", os.path.basename(program))
            shutil.copyfile(program, os.path.join(root, name))
            subprocess.run([STRIP, "--strip-all", os.path.join(root, name)], check=True)
            os.chmod(os.path.join(root, name), 0o755)
            names.append(name)
        listing = "\n".join(["bin"] + names) + "\n"
        with open(output, "wb") as out:
            subprocess.run(["cpio", "--quiet", "-o", "-H", "newc", "--reproducible"], cwd=root,
                           input=listing.encode(), stdout=out, check=True)


if __name__ == "__main__":
    main()
