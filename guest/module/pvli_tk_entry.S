/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The takeover's direct entry: one ftrace direct-call trampoline per
 * replaced spinlock function (pvli_tk_direct.c registers them).
 *
 * ftrace turns the __fentry__ call at the start of, say, _raw_spin_lock()
 * into "call pvli_tk_tramp_spin_lock".  On entry here the stack is
 *
 *	(%rsp)   the return address into _raw_spin_lock's body
 *	8(%rsp)  the return address into _raw_spin_lock's caller
 *
 * and the argument registers are the caller's.  The trampoline drops the
 * first and jumps to the replacement, which then runs as if the caller
 * had called it and returns straight to the caller: the original body
 * never runs.  When other ftrace users trace the same function,
 * ftrace_regs_caller() enters the trampoline with the same stack (it
 * "returns" into it), so the same two instructions serve.
 *
 * Cost: one call and one jump on top of the native function, instead of
 * ftrace_regs_caller()'s pt_regs save and restore and the livepatch
 * handler's lookup of the patch and the task's patch state.
 *
 * No CALL_DEPTH_ACCOUNT: the caller's call into _raw_spin_lock() was
 * accounted by its call thunk, the fentry call into this trampoline is
 * not (ftrace writes a plain call), and one return (the replacement's)
 * ends both.  The return stack buffer keeps one stale entry (the body's
 * return address), as after any tail call from a trampoline that skips
 * the traced function (BPF's BPF_TRAMP_F_SKIP_FRAME does the same).
 *
 * For objtool: after dropping the return address the stack is as at a
 * function's entry again (UNWIND_HINT_FUNC), so the jump is a plain
 * sibling call.
 */
#include <linux/linkage.h>
#include <asm/unwind_hints.h>

.macro TK_TRAMPOLINE name, target
SYM_FUNC_START(\name)
	addq	$8, %rsp
	UNWIND_HINT_FUNC
	jmp	\target
SYM_FUNC_END(\name)
.endm

	.text
TK_TRAMPOLINE pvli_tk_tramp_spin_lock,			pvli_tk_spin_lock
TK_TRAMPOLINE pvli_tk_tramp_spin_lock_bh,		pvli_tk_spin_lock_bh
TK_TRAMPOLINE pvli_tk_tramp_spin_lock_irq,		pvli_tk_spin_lock_irq
TK_TRAMPOLINE pvli_tk_tramp_spin_lock_irqsave,		pvli_tk_spin_lock_irqsave
TK_TRAMPOLINE pvli_tk_tramp_spin_trylock,		pvli_tk_spin_trylock
TK_TRAMPOLINE pvli_tk_tramp_spin_trylock_bh,		pvli_tk_spin_trylock_bh
TK_TRAMPOLINE pvli_tk_tramp_spin_unlock,		pvli_tk_spin_unlock
TK_TRAMPOLINE pvli_tk_tramp_spin_unlock_bh,		pvli_tk_spin_unlock_bh
TK_TRAMPOLINE pvli_tk_tramp_spin_unlock_irq,		pvli_tk_spin_unlock_irq
TK_TRAMPOLINE pvli_tk_tramp_spin_unlock_irqrestore,	pvli_tk_spin_unlock_irqrestore
