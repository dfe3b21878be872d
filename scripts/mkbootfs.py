#!/usr/bin/env python3
"""Pack programs into the boot archive (cpio newc) as bin/NAME.

    mkbootfs.py OUTPUT PROGRAM...

Uses the system's cpio with a fixed order, so the archive is the same for
the same programs.
"""

import os
import shutil
import subprocess
import sys
import tempfile


def main():
    output, programs = sys.argv[1], sys.argv[2:]
    with tempfile.TemporaryDirectory() as root:
        os.mkdir(os.path.join(root, "bin"))
        names = []
        for program in sorted(programs, key=os.path.basename):
            name = os.path.join("bin", os.path.basename(program))
            shutil.copyfile(program, os.path.join(root, name))
            os.chmod(os.path.join(root, name), 0o755)
            names.append(name)
        listing = "\n".join(["bin"] + names) + "\n"
        with open(output, "wb") as out:
            subprocess.run(["cpio", "--quiet", "-o", "-H", "newc", "--reproducible"], cwd=root,
                           input=listing.encode(), stdout=out, check=True)


if __name__ == "__main__":
    main()
