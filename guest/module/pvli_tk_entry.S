/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The takeover's direct entry: one ftrace direct-call trampoline for all
 * ten replaced spinlock functions (pvli_tk_direct.c registers it on all
 * of them with one ftrace_ops, so that applying and removing is one text
 * patch and one wait for RCU-tasks each, not ten).
 *
 * ftrace turns the __fentry__ call at the start of, say, _raw_spin_lock()
 * into "call pvli_tk_tramp".  On entry here the stack is
 *
 *	(%rsp)   the return address into _raw_spin_lock's body: its fentry
 *	         call's end, _raw_spin_lock + PVLI_TK_FENTRY_END
 *	8(%rsp)  the return address into _raw_spin_lock's caller
 *
 * and the argument registers are the caller's.  The trampoline pops the
 * first, finds by it which function was called, and jumps to its
 * replacement, which then runs as if the caller had called it and
 * returns straight to the caller: the original body never runs.  When
 * other ftrace users trace the same function, ftrace_regs_caller()
 * enters the trampoline with the same stack (it "returns" into it).
 *
 * %r11 is free here: it is no argument register, the caller saved it if
 * it cared (it called a function), and ftrace_regs_caller() has restored
 * everything before it comes here.
 *
 * Cost: one call, a pop, and one compare and branch per function ahead
 * of the called one in the list below, which is therefore ordered by how
 * often the kernel calls them (lock and unlock first, then the irqsave
 * pair).  The compares take the vmlinux addresses as sign-extended
 * 32-bit immediates (kernel text lives in the top 2 GB; the module loader
 * resolves R_X86_64_32S).  pvli_tk_direct.c registers the ftrace site at
 * exactly function + ENDBR_INSN_SIZE, so a kernel whose fentry call sits
 * elsewhere is refused there and never reaches a wrong compare.  An
 * address matches none only when an IPMODIFY ftrace_ops (a livepatch)
 * shares the site and has moved the ip: ftrace_regs_caller() has then
 * put that ops' target where the return address was.  ftrace refuses
 * such an ops once we are registered (our direct ops has no ops_func),
 * and pvli_takeover.c refuses to apply when one is there already, so
 * only one that registered between that check and our registration
 * gets here: its target is pushed back and "returned" to, and that
 * patch runs instead of ours.
 *
 * No CALL_DEPTH_ACCOUNT: the caller's call into _raw_spin_lock() was
 * accounted by its call thunk, the fentry call into this trampoline is
 * not (ftrace writes a plain call), and one return (the replacement's)
 * ends both.  The return stack buffer keeps one stale entry (the body's
 * return address), as after any tail call from a trampoline that skips
 * the traced function (BPF's BPF_TRAMP_F_SKIP_FRAME does the same).
 *
 * For objtool: after the pop the stack is as at a function's entry again
 * (UNWIND_HINT_FUNC), so each conditional jump is a sibling call.
 */
#include <linux/linkage.h>
#include <asm/ibt.h>
#include <asm/unwind_hints.h>

#define PVLI_TK_FENTRY_END	(ENDBR_INSN_SIZE + 5)

.macro TK_CASE func, target
	cmpq	$(\func + PVLI_TK_FENTRY_END), %r11
	je	\target
.endm

	.text
SYM_FUNC_START(pvli_tk_tramp)
	popq	%r11
	UNWIND_HINT_FUNC
	TK_CASE _raw_spin_lock,			pvli_tk_spin_lock
	TK_CASE _raw_spin_unlock,		pvli_tk_spin_unlock
	TK_CASE _raw_spin_lock_irqsave,		pvli_tk_spin_lock_irqsave
	TK_CASE _raw_spin_unlock_irqrestore,	pvli_tk_spin_unlock_irqrestore
	TK_CASE _raw_spin_lock_irq,		pvli_tk_spin_lock_irq
	TK_CASE _raw_spin_unlock_irq,		pvli_tk_spin_unlock_irq
	TK_CASE _raw_spin_lock_bh,		pvli_tk_spin_lock_bh
	TK_CASE _raw_spin_unlock_bh,		pvli_tk_spin_unlock_bh
	TK_CASE _raw_spin_trylock,		pvli_tk_spin_trylock
	TK_CASE _raw_spin_trylock_bh,		pvli_tk_spin_trylock_bh
	/* Not one of ours: run the original after all. */
	pushq	%r11
	UNWIND_HINT_FUNC
	RET
SYM_FUNC_END(pvli_tk_tramp)
