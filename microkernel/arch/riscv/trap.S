/* Trap entry and exit.
 *
 * sscratch tells where a trap came from: while a user thread runs it holds
 * that thread's arch::UserContext (inside its TCB); while the kernel runs it
 * is 0. stvec points at trap_entry, which swaps t6 with sscratch to look:
 *
 *  - from user mode: every user register and the pc are saved in the
 *    UserContext, sscratch is zeroed, tp and sp are loaded from the hart
 *    (UserContext::hart, Hart::kernel_stack_top) and user_trap(context) runs
 *    on the hart's kernel stack. The kernel is event driven: user_trap never
 *    returns; it ends in return_to_user() for whichever thread runs next, so
 *    one kernel stack per hart serves every thread.
 *  - from the kernel (an interrupt while idle, or a kernel bug): everything
 *    is saved in an arch::TrapFrame on the current stack and kernel_trap()
 *    runs; it returns to the interrupted code.
 *
 * Instruction accounting: the entry from user mode reads instret as soon as
 * it has a free register, and every exit through return_to_user reads it as
 * late as it can. What lies between an exit into a thread and its next entry
 * is that thread's user mode: the entry adds it to the thread
 * (UserContext::user_instret) and to the hart (Hart::user_instret); the
 * exit stores where it will begin (UserContext::resumed_at), counting the
 * fixed instructions of the trap path outside the two reads (EXIT_TAIL after
 * the exit's read, ENTRY_HEAD before the entry's) as kernel instructions.
 * Everything else the hart retires is S-mode. 9 instructions on entry, 3 on
 * exit.
 *
 * The layouts must match UserContext and TrapFrame in cpu.h and Hart in
 * kernel/hart.h (static_asserts there). */

#define REG(n) ((n) * 8)
#define FRAME_SEPC    REG(32)
#define FRAME_SSTATUS REG(33)
#define FRAME_SCAUSE  REG(34)
#define FRAME_STVAL   REG(35)
#define FRAME_SIZE    REG(36)

#define CTX_PC        REG(32)
#define CTX_HART      REG(33)
#define CTX_USER_INSTRET REG(34)
#define CTX_RESUMED_AT REG(35)
#define HART_KSTACK   0
#define HART_USER_INSTRET 48
#define ENTRY_HEAD    3                 /* csrrw, bnez, sd before the entry's csrr */
#define EXIT_TAIL     6                 /* the exit's csrr, addi, sd, ld, ld, sret */
#define SSTATUS_SPP   (1 << 8)
#define SSTATUS_SPIE  (1 << 5)
#define SSTATUS_FS    (3 << 13)
#define SCAUSE_ECALL_U 8
#define SYSCALL_CALL      1             /* uapi::Syscall::Call (static_assert in fastpath.cc) */
#define SYSCALL_REPLYRECV 2             /* uapi::Syscall::ReplyRecv */

    .text
    .balign 4
    .globl trap_entry
trap_entry:
    csrrw   t6, sscratch, t6
    bnez    t6, from_user
    csrrw   t6, sscratch, t6            /* from the kernel: t6 back, sscratch 0 */
    j       kernel_trap_entry

from_user:                              /* t6 = UserContext*, sscratch = user t6 */
    sd      x5, REG(5)(t6)
    csrr    t0, instret                 /* t0: instret on entry, until accounted below */
    sd      x1, REG(1)(t6)
    sd      x2, REG(2)(t6)
    sd      x3, REG(3)(t6)
    sd      x4, REG(4)(t6)
    sd      x6, REG(6)(t6)
    sd      x7, REG(7)(t6)
    sd      x8, REG(8)(t6)
    sd      x9, REG(9)(t6)
    sd      x10, REG(10)(t6)
    sd      x11, REG(11)(t6)
    sd      x12, REG(12)(t6)
    sd      x13, REG(13)(t6)
    sd      x14, REG(14)(t6)
    sd      x15, REG(15)(t6)
    sd      x16, REG(16)(t6)
    sd      x17, REG(17)(t6)
    sd      x18, REG(18)(t6)
    sd      x19, REG(19)(t6)
    sd      x20, REG(20)(t6)
    sd      x21, REG(21)(t6)
    sd      x22, REG(22)(t6)
    sd      x23, REG(23)(t6)
    sd      x24, REG(24)(t6)
    sd      x25, REG(25)(t6)
    sd      x26, REG(26)(t6)
    sd      x27, REG(27)(t6)
    sd      x28, REG(28)(t6)
    sd      x29, REG(29)(t6)
    sd      x30, REG(30)(t6)
    csrr    t5, sscratch
    sd      t5, REG(31)(t6)
    csrr    t5, sepc
    sd      t5, CTX_PC(t6)
    csrw    sscratch, zero
    ld      tp, CTX_HART(t6)
    ld      sp, HART_KSTACK(tp)
    ld      t1, CTX_RESUMED_AT(t6)      /* the thread's user mode since the last exit */
    ld      t2, CTX_USER_INSTRET(t6)
    ld      t3, HART_USER_INSTRET(tp)
    sub     t0, t0, t1
    add     t2, t2, t0
    add     t3, t3, t0
    sd      t2, CTX_USER_INSTRET(t6)
    sd      t3, HART_USER_INSTRET(tp)
    li      s0, 0                       /* ends kernel backtraces */
    li      ra, 0
    mv      a0, t6
    /* The IPC fast path (kernel/fastpath.cc) is tried first for Call and
     * ReplyRecv system calls; it falls back to user_trap itself. */
    csrr    t0, scause
    li      t1, SCAUSE_ECALL_U
    bne     t0, t1, 2f
    ld      t0, REG(17)(a0)             /* a7: the system call number */
    li      t1, SYSCALL_CALL
    beq     t0, t1, 3f
    li      t1, SYSCALL_REPLYRECV
    beq     t0, t1, 4f
2:  call    user_trap                   /* never returns */
1:  j       1b
    /* The fast path returns the context to leave into, or 0 when it does
     * not apply; then the slow path starts over from the saved context. */
3:  mv      s1, a0
    call    fastpath_call
    bnez    a0, 5f
    mv      a0, s1
    j       2b
4:  mv      s1, a0
    call    fastpath_reply_recv
    bnez    a0, 5f
    mv      a0, s1
    j       2b
5:  j       return_to_user

/* return_to_user(UserContext* a0): leave the kernel into the thread whose
 * context a0 is. User mode, interrupts on after sret, no FPU (FS = Off: an
 * FP instruction traps; FIXME: per-thread FP state is not kept yet). */
    .globl return_to_user
return_to_user:
    csrw    sscratch, a0
    ld      t0, CTX_PC(a0)
    csrw    sepc, t0
    li      t0, SSTATUS_SPP | SSTATUS_FS
    csrc    sstatus, t0
    li      t0, SSTATUS_SPIE
    csrs    sstatus, t0
    ld      x1, REG(1)(a0)
    ld      x2, REG(2)(a0)
    ld      x3, REG(3)(a0)
    ld      x4, REG(4)(a0)
    ld      x6, REG(6)(a0)
    ld      x7, REG(7)(a0)
    ld      x8, REG(8)(a0)
    ld      x9, REG(9)(a0)
    ld      x11, REG(11)(a0)
    ld      x12, REG(12)(a0)
    ld      x13, REG(13)(a0)
    ld      x14, REG(14)(a0)
    ld      x15, REG(15)(a0)
    ld      x16, REG(16)(a0)
    ld      x17, REG(17)(a0)
    ld      x18, REG(18)(a0)
    ld      x19, REG(19)(a0)
    ld      x20, REG(20)(a0)
    ld      x21, REG(21)(a0)
    ld      x22, REG(22)(a0)
    ld      x23, REG(23)(a0)
    ld      x24, REG(24)(a0)
    ld      x25, REG(25)(a0)
    ld      x26, REG(26)(a0)
    ld      x27, REG(27)(a0)
    ld      x28, REG(28)(a0)
    ld      x29, REG(29)(a0)
    ld      x30, REG(30)(a0)
    ld      x31, REG(31)(a0)
    csrr    t0, instret                 /* user mode begins EXIT_TAIL + ENTRY_HEAD later */
    addi    t0, t0, EXIT_TAIL + ENTRY_HEAD
    sd      t0, CTX_RESUMED_AT(a0)
    ld      x5, REG(5)(a0)
    ld      x10, REG(10)(a0)
    sret

    .globl kernel_trap_entry
kernel_trap_entry:
    addi    sp, sp, -FRAME_SIZE
    sd      x1, REG(1)(sp)
    sd      x3, REG(3)(sp)
    sd      x4, REG(4)(sp)
    sd      x5, REG(5)(sp)
    sd      x6, REG(6)(sp)
    sd      x7, REG(7)(sp)
    sd      x8, REG(8)(sp)
    sd      x9, REG(9)(sp)
    sd      x10, REG(10)(sp)
    sd      x11, REG(11)(sp)
    sd      x12, REG(12)(sp)
    sd      x13, REG(13)(sp)
    sd      x14, REG(14)(sp)
    sd      x15, REG(15)(sp)
    sd      x16, REG(16)(sp)
    sd      x17, REG(17)(sp)
    sd      x18, REG(18)(sp)
    sd      x19, REG(19)(sp)
    sd      x20, REG(20)(sp)
    sd      x21, REG(21)(sp)
    sd      x22, REG(22)(sp)
    sd      x23, REG(23)(sp)
    sd      x24, REG(24)(sp)
    sd      x25, REG(25)(sp)
    sd      x26, REG(26)(sp)
    sd      x27, REG(27)(sp)
    sd      x28, REG(28)(sp)
    sd      x29, REG(29)(sp)
    sd      x30, REG(30)(sp)
    sd      x31, REG(31)(sp)
    addi    t0, sp, FRAME_SIZE          /* sp as it was at the trap */
    sd      t0, REG(2)(sp)
    sd      zero, REG(0)(sp)
    csrr    t0, sepc
    sd      t0, FRAME_SEPC(sp)
    csrr    t0, sstatus
    sd      t0, FRAME_SSTATUS(sp)
    csrr    t0, scause
    sd      t0, FRAME_SCAUSE(sp)
    csrr    t0, stval
    sd      t0, FRAME_STVAL(sp)

    mv      a0, sp
    call    kernel_trap

    ld      t0, FRAME_SEPC(sp)
    csrw    sepc, t0
    ld      t0, FRAME_SSTATUS(sp)
    csrw    sstatus, t0
    ld      x1, REG(1)(sp)
    ld      x3, REG(3)(sp)
    ld      x4, REG(4)(sp)
    ld      x5, REG(5)(sp)
    ld      x6, REG(6)(sp)
    ld      x7, REG(7)(sp)
    ld      x8, REG(8)(sp)
    ld      x9, REG(9)(sp)
    ld      x10, REG(10)(sp)
    ld      x11, REG(11)(sp)
    ld      x12, REG(12)(sp)
    ld      x13, REG(13)(sp)
    ld      x14, REG(14)(sp)
    ld      x15, REG(15)(sp)
    ld      x16, REG(16)(sp)
    ld      x17, REG(17)(sp)
    ld      x18, REG(18)(sp)
    ld      x19, REG(19)(sp)
    ld      x20, REG(20)(sp)
    ld      x21, REG(21)(sp)
    ld      x22, REG(22)(sp)
    ld      x23, REG(23)(sp)
    ld      x24, REG(24)(sp)
    ld      x25, REG(25)(sp)
    ld      x26, REG(26)(sp)
    ld      x27, REG(27)(sp)
    ld      x28, REG(28)(sp)
    ld      x29, REG(29)(sp)
    ld      x30, REG(30)(sp)
    ld      x31, REG(31)(sp)
    addi    sp, sp, FRAME_SIZE
    sret
