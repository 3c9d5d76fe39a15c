// SPDX-License-Identifier: GPL-2.0-only
/*
 * The takeover's direct entry: each replaced spinlock function's fentry
 * call goes straight to a trampoline of ours (pvli_tk_entry.S), which
 * jumps to the replacement; native_queued_spin_lock_slowpath(), reached
 * only on contention, is redirected by an ordinary IPMODIFY ftrace_ops
 * (it must stay shareable with BPF fentry/fexit, which a direct call is
 * not: pvlocktrace --kernel-only traces it).
 *
 * Why no per-task consistency model is needed (a livepatch has one): a
 * direct call switches every CPU at once, one function at a time, so for
 * a while, and for every task already inside an original function, old
 * and new code run side by side on the same locks.  That is safe because
 * the replacements are word-compatible with the originals (the lock
 * core's invariants, shfl_lock.c): the originals take a lock only by a
 * cmpxchg of the whole word from 0 (never past a queue) and release it by
 * a store of 0 to the locked byte; the replacements take it by a cmpxchg
 * that finds the locked byte 0 and release it by an xchg of that byte.
 * Each side's acquisition excludes the other's.  What old code cannot do
 * is kick: a lock that new code took naming its holder and old code then
 * releases would leave a waiter halted behind it.  The order below and
 * pvli_tk_quiesce() (pvli_tk_lock.c) rule that out: releases are
 * switched first and back last, holders are named only once every
 * function is switched, and before anything is switched back nobody is
 * named and nobody halts any more.
 *
 * Unloading: after the last unregister no new call enters our text, but
 * a task may still be in it: preempted in a trampoline, or inside the
 * preempt_enable() at the end of an unlock, or on a CPU where RCU is not
 * watching (idle).  synchronize_rcu_tasks_rude() and
 * synchronize_rcu_tasks() wait for all of them, as ftrace does for its
 * own dynamic trampolines.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/kernel.h>
#include <linux/rcupdate.h>
#include <linux/string.h>

#include "pvli_takeover.h"

static struct ftrace_ops tk_direct_ops[PVLI_TK_NR_FUNCS];
static unsigned int tk_direct_nr;	/* registered, in pvli_tk_funcs[] order */

static void notrace tk_to_slowpath(unsigned long ip, unsigned long parent_ip,
				   struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	ftrace_regs_set_instruction_pointer(fregs, (unsigned long)pvli_tk_slowpath);
}

/*
 * RECURSION: the handler calls nothing, so it needs no recursion guard
 * from ftrace, and it always redirects (no guard that might skip it).
 */
static struct ftrace_ops tk_slowpath_ops = {
	.func = tk_to_slowpath,
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY | FTRACE_OPS_FL_RECURSION,
};
static bool tk_slowpath_on;

static void tk_direct_undo(void)
{
	if (tk_slowpath_on) {
		unregister_ftrace_function(&tk_slowpath_ops);
		tk_slowpath_on = false;
	}
	ftrace_free_filter(&tk_slowpath_ops);
	/* Locks first, releases last: the reverse of pvli_tk_direct_apply(). */
	while (tk_direct_nr) {
		unsigned int i = --tk_direct_nr;

		unregister_ftrace_direct(&tk_direct_ops[i], (unsigned long)pvli_tk_funcs[i].tramp,
					 true);
	}
}

int pvli_tk_direct_apply(char *why, size_t len)
{
	const char *slow = PVLI_TK_SLOWPATH;
	int ret;

	for (tk_direct_nr = 0; tk_direct_nr < PVLI_TK_NR_FUNCS; tk_direct_nr++) {
		const struct pvli_tk_func *f = &pvli_tk_funcs[tk_direct_nr];
		struct ftrace_ops *ops = &tk_direct_ops[tk_direct_nr];

		memset(ops, 0, sizeof(*ops));
		ret = ftrace_set_filter(ops, (unsigned char *)f->name, strlen(f->name), 1);
		if (!ret)
			ret = register_ftrace_direct(ops, (unsigned long)f->tramp);
		if (ret) {
			snprintf(why, len, ret == -EBUSY ?
				 "%s already has a direct call (a BPF trampoline?) (%d)" :
				 "no direct call on %s (%d)", f->name, ret);
			ftrace_free_filter(ops);
			goto undo;
		}
	}
	ret = ftrace_set_filter(&tk_slowpath_ops, (unsigned char *)slow, strlen(slow), 1);
	if (!ret)
		ret = register_ftrace_function(&tk_slowpath_ops);
	if (ret) {
		snprintf(why, len, "cannot redirect %s (%d)", slow, ret);
		goto undo;
	}
	tk_slowpath_on = true;
	return 0;

undo:
	tk_direct_undo();
	synchronize_rcu_tasks_rude();
	synchronize_rcu_tasks();
	return ret;
}

void pvli_tk_direct_remove(void)
{
	tk_direct_undo();
	synchronize_rcu_tasks_rude();
	synchronize_rcu_tasks();
}
