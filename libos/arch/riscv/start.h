/* The start of every user program, shared by crt0.S (servers and root
 * tasks: main(a0)) and posix/crt1.S (processes: __libc_start(sp)): set gp
 * for linker relaxation, zero .bss, clear the frame pointer and ra, and call
 * `entry` with `arg` (a register as the program found it) in a0. */
.macro UKOS_START arg, entry
    .option push
    .option norelax
    lla     gp, __global_pointer$
    .option pop
    mv      s1, \arg
    lla     t0, __bss_start
    lla     t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:  li      s0, 0
    li      ra, 0
    mv      a0, s1
    call    \entry
3:  j       3b
.endm
