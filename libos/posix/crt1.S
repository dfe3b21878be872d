/* Entry of a process started by procmgr (fork's child never comes here;
 * exec's new program does). sp points at argc, then argv[], NULL, envp[],
 * NULL and the auxiliary vector, as the System V ABI lays them out. Sets gp,
 * zeroes .bss and calls __libc_start(sp), which never returns. */
#include "../arch/riscv/start.h"

    .section .text.start, "ax", @progbits
    .globl _start
_start:
    UKOS_START sp, __libc_start
    /* Every process links __os_probe, so the pager's kProbeVa always names
     * it (user.ld puts it first). */
    .reloc  ., R_RISCV_NONE, __os_probe
