/* Kernel entry. OpenSBI jumps here in S-mode with the MMU off, at the
 * physical load address, with a0 = hart id and a1 = physical address of the
 * device tree. The first instruction reads instret for kmain (a2): the
 * kernel's count of S-mode instructions starts there. Everything before the
 * jump to the linked (upper-half) address must use PC-relative addressing
 * only (lla), which gives physical addresses while we run at the physical
 * address.
 *
 * The boot page table maps, with 1 GiB pages:
 *   - the GiB holding the kernel at its own physical address (identity), so
 *     the instruction after `csrw satp` still has a mapping;
 *   - the same GiB at the kernel's linked address (root index 510);
 *   - the first 64 GiB of physical space at the direct-map base (indices
 *     256..319), so kmain can reach RAM, the device tree and the UART.
 * kmain replaces it with a precise table (kernel/memory.cc). */

#define PTE_V (1 << 0)
#define PTE_R (1 << 1)
#define PTE_W (1 << 2)
#define PTE_X (1 << 3)
#define PTE_G (1 << 5)
#define PTE_A (1 << 6)
#define PTE_D (1 << 7)
#define BOOT_PTE_FLAGS (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
#define GIGA_SHIFT 30
#define PTE_PPN_SHIFT 10
#define DIRECT_MAP_INDEX 256
#define DIRECT_MAP_GIGAPAGES 64
#define KERNEL_INDEX 510
#define SATP_MODE_SV39 (8 << 60)

    .section .text.boot, "ax", @progbits
    .globl _start
_start:
    csrr    a2, instret
    csrw    sie, zero
    csrw    satp, zero

    /* Zero .bss (the boot page table and stack live there). */
    lla     t0, __bss_start
    lla     t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:
    lla     t0, boot_root_table

    /* Leaf PTE for the kernel's GiB: PPN = (pa >> 12), so pte = (pa >> 30) << 28. */
    lla     t1, _start
    srli    t2, t1, GIGA_SHIFT
    slli    t3, t2, GIGA_SHIFT - 12 + PTE_PPN_SHIFT
    ori     t3, t3, BOOT_PTE_FLAGS
    slli    t4, t2, 3                   /* identity: root[pa >> 30] */
    add     t4, t0, t4
    sd      t3, 0(t4)
    ori     t3, t3, PTE_G
    li      t4, KERNEL_INDEX * 8        /* linked address: root[510] */
    add     t4, t0, t4
    sd      t3, 0(t4)

    /* Direct map: root[256 + i] = gigapage i, global. */
    li      t1, 0
    li      t2, DIRECT_MAP_GIGAPAGES
    li      t4, DIRECT_MAP_INDEX * 8
    add     t4, t0, t4
3:  slli    t3, t1, GIGA_SHIFT - 12 + PTE_PPN_SHIFT
    ori     t3, t3, BOOT_PTE_FLAGS | PTE_G
    sd      t3, 0(t4)
    addi    t1, t1, 1
    addi    t4, t4, 8
    bltu    t1, t2, 3b

    srli    t1, t0, 12
    li      t2, SATP_MODE_SV39
    or      t1, t1, t2
    sfence.vma
    csrw    satp, t1
    sfence.vma

    /* Jump to the linked address (an absolute address from a literal). */
    ld      t0, .Lhigh_entry
    jr      t0

    .balign 8
.Lhigh_entry:
    .dword  boot_high

    .text
boot_high:
    lla     sp, boot_stack_top
    li      s0, 0                       /* ends the backtrace */
    li      ra, 0
    call    kmain                       /* kmain(hart_id, dtb_phys, boot_instret) never returns */
4:  wfi
    j       4b

    .section .bss
    .balign 4096
    .globl boot_root_table
boot_root_table:
    .space  4096
    .globl boot_stack_bottom
boot_stack_bottom:
    .space  16384
    .globl boot_stack_top
boot_stack_top:
