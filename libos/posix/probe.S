/* __os_probe(p, n, write): touches every page of [p, p+n) -- a load of its
 * first byte, of each page start and of the last byte, and when write != 0 a
 * store of the same value back -- and returns 0; or, when one of them
 * faults, -1. libos checks a caller's buffer with it before sending a
 * request, so a bad pointer is EFAULT, as on Unix, instead of a dead
 * process.
 *
 * How a fault comes back: user.ld puts this section first in .text, at
 * pager::protocol::kProbeVa, in every program. When the pager finds a fault
 * it cannot resolve whose pc lies in [kProbeVa, kProbeVa + kProbeRecover),
 * it resumes the thread at kProbeVa + kProbeRecover (the label below)
 * instead of reporting a segfault. The function is a leaf and touches no
 * stack, so ra still returns to the caller. */
    .section .text.probe, "ax", @progbits
    .globl __os_probe
    .type __os_probe, @function
__os_probe:
    beqz    a1, 3f
    add     a3, a0, a1
    addi    a3, a3, -1          /* the last byte */
1:  lb      t0, 0(a0)
    beqz    a2, 2f
    sb      t0, 0(a0)
2:  bgeu    a0, a3, 3f          /* that was the last byte */
    srli    a0, a0, 12
    addi    a0, a0, 1
    slli    a0, a0, 12          /* the next page's first byte */
    bltu    a0, a3, 1b
    mv      a0, a3
    j       1b
3:  li      a0, 0
    ret
    /* kProbeRecover: the assembler refuses if the code above outgrows it. */
    .org    0x40
    .globl __os_probe_fault
__os_probe_fault:
    li      a0, -1
    ret
    .size __os_probe, . - __os_probe
