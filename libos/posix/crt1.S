/* Entry of a process started by procmgr (fork's child never comes here;
 * exec's new program does). sp points at argc, then argv[], NULL, envp[],
 * NULL and the auxiliary vector, as the System V ABI lays them out. Sets gp,
 * zeroes .bss and calls __libc_start(sp), which never returns. */
    .section .text.start, "ax", @progbits
    .globl _start
_start:
    .option push
    .option norelax
    lla     gp, __global_pointer$
    .option pop
    mv      s1, sp
    lla     t0, __bss_start
    lla     t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:  li      s0, 0
    li      ra, 0
    mv      a0, s1
    call    __libc_start
3:  j       3b
    /* Every process links __os_probe, so the pager's kProbeVa always names
     * it (user.ld puts it first). */
    .reloc  ., R_RISCV_NONE, __os_probe
