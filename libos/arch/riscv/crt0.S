/* Program entry: the kernel (for the root task) or the process manager
 * starts a thread here with sp set and a0 = the start argument (the
 * boot-info page for the root task). Sets gp for linker relaxation, zeroes
 * .bss, runs constructors and calls os_start(a0), which calls main. */
    .section .text.start, "ax", @progbits
    .globl _start
_start:
    .option push
    .option norelax
    lla     gp, __global_pointer$
    .option pop
    mv      s1, a0
    lla     t0, __bss_start
    lla     t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:  li      s0, 0
    li      ra, 0
    mv      a0, s1
    call    os_start
3:  j       3b
