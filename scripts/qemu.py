#!/usr/bin/env python3
"""The one place that knows how to start the system in QEMU.

Used by ./run (interactive, console on the terminal) and by the system-test
harness (tests/system/run_test.py). As a program it execs QEMU:

    scripts/qemu.py --kernel build/microkernel/kernel.elf [--mem 256M]
                    [--bootargs "..."] [--gdb] [--icount]
"""

import argparse
import os
import sys

QEMU = "qemu-system-riscv64"


def default_initrd(kernel):
    """The boot archive built beside the kernel (build/user/bootfs.cpio)."""
    build = os.path.dirname(os.path.dirname(os.path.abspath(kernel)))
    path = os.path.join(build, "user", "bootfs.cpio")
    return path if os.path.exists(path) else None


def qemu_command(kernel, mem="256M", bootargs="", smp=1, gdb=False, icount=False, initrd=None):
    cmd = [QEMU, "-machine", "virt", "-bios", "default", "-nographic",
           "-m", mem, "-smp", str(smp), "-kernel", kernel]
    if bootargs:
        cmd += ["-append", bootargs]
    if initrd:
        cmd += ["-initrd", initrd]
    if icount:
        # Deterministic instruction counts: one instruction per ns of
        # virtual time (see docs/testing.md).
        cmd += ["-icount", "shift=0"]
    if gdb:
        # -s: gdb server on tcp::1234; -S: wait for gdb before the first
        # instruction.
        cmd += ["-s", "-S"]
    return cmd


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--mem", default="256M")
    parser.add_argument("--smp", type=int, default=1)
    parser.add_argument("--bootargs", default="")
    parser.add_argument("--initrd", help="boot archive (default: the one built beside the kernel)")
    parser.add_argument("--gdb", action="store_true")
    parser.add_argument("--icount", action="store_true")
    args = parser.parse_args()
    initrd = args.initrd or default_initrd(args.kernel)
    cmd = qemu_command(args.kernel, args.mem, args.bootargs, args.smp, args.gdb, args.icount, initrd)
    sys.stdout.flush()
    os.execvp(cmd[0], cmd)


if __name__ == "__main__":
    main()
