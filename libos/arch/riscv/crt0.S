/* Program entry: the kernel (for the root task) or the process manager
 * starts a thread here with sp set and a0 = the start argument (the
 * boot-info page for the root task). Sets gp for linker relaxation, zeroes
 * .bss, runs constructors and calls os_start(a0), which calls main. */
#include "start.h"

    .section .text.start, "ax", @progbits
    .globl _start
_start:
    UKOS_START a0, os_start
