// SPDX-License-Identifier: GPL-2.0-only
/*
 * The takeover's direct entry: the fentry call of each replaced spinlock
 * function goes straight to our trampoline (pvli_tk_entry.S), which jumps
 * to the replacement.  One ftrace_ops carries all ten functions, so an
 * apply is one text patch (one batch of breakpoints and syncs over all
 * ten call sites) and a remove one unregistration with its RCU-tasks
 * waits: with one ops per function both took ten times that, 24-28 s
 * under load on an oversubscribed TCG guest.  The functions are given to
 * ftrace by address (they are exported), never by name: matching a name
 * walks kallsyms for every ftrace location of the kernel.
 * native_queued_spin_lock_slowpath(), reached only on contention, is
 * redirected by an ordinary IPMODIFY ftrace_ops (it must stay shareable
 * with BPF fentry/fexit, which a direct call is not: pvlocktrace
 * --kernel-only traces it).
 *
 * Why no per-task consistency model is needed (a livepatch has one): a
 * direct call switches every CPU at once, so for a while, and for every
 * task already inside an original function, old and new code run side
 * by side on the same locks, in any mix of functions (the text patch
 * switches the ten sites in one batch, in no promised order).  That is
 * safe because the replacements are word-compatible with the originals
 * (the lock core's invariants, shfl_lock.c): the originals take a lock
 * only by a cmpxchg of the whole word from 0 (never past a queue) and
 * release it by a store of 0 to the locked byte; the replacements take
 * it by a cmpxchg that finds the locked byte 0 and release it by an xchg
 * of that byte.  Each side's acquisition excludes the other's.  What old
 * code cannot do is kick: a lock that new code took naming its holder
 * and old code then releases would leave a waiter halted behind it.
 * pvli_tk_go_live() and pvli_tk_quiesce() (pvli_tk_lock.c) rule that
 * out: holders are named only once register_ftrace_direct() has
 * returned (every site switched, on every CPU: the text patch ends with
 * a sync on each), and before the sites are switched back nobody is
 * named and nobody halts any more.  A task inside an original function
 * at the switch took its lock before holders were named.
 *
 * Unloading: after an unregistration no new call enters our text, but a
 * task may still be in it: preempted in the trampoline, or inside the
 * preempt_enable() at the end of an unlock, or on a CPU where RCU is not
 * watching (idle).  ftrace's own unregistration of a module's ftrace_ops
 * (FTRACE_OPS_FL_DYNAMIC) waits for all of them with
 * synchronize_rcu_tasks_rude() and synchronize_rcu_tasks() after the text
 * is switched back; the slow path's ops goes last, so its waits cover
 * both.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <asm/qspinlock.h>

#include "pvli_tk.h"

/* All ten functions, one trampoline (ftrace fills in func and flags). */
static struct ftrace_ops tk_direct_ops;
static bool tk_direct_filtered;	/* its filter holds the ten functions */
static bool tk_direct_on;	/* registered: the fast paths are ours */
static bool tk_direct_failed;	/* a registration failed half-way: never again (see below) */

static void notrace tk_to_slowpath(unsigned long ip, unsigned long parent_ip,
				   struct ftrace_ops *op, struct ftrace_regs *fregs)
{
	ftrace_regs_set_instruction_pointer(fregs, (unsigned long)pvli_tk_slowpath);
}

/*
 * No FTRACE_OPS_FL_RECURSION: that flag asks ftrace for a recursion guard
 * (ftrace_ops_assist_func()), which skips the handler, and so the
 * redirect, when a slow path is entered from inside another ftrace
 * callback of the same context.  The handler calls nothing and needs no
 * guard, so it always redirects.  (A skipped redirect was safe, only
 * not ours: the kernel's own virt_spin_lock() test-and-set ran, which
 * takes the word anonymously.)
 */
static struct ftrace_ops tk_slowpath_ops = {
	.func = tk_to_slowpath,
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY,
};
static bool tk_slowpath_on;

/*
 * When the direct calls may be registered again.  A registration that
 * failed before register_ftrace_direct() set the ops up (it sets
 * direct_call just before it registers the ops) left the ops untouched:
 * the common case, another direct call on one of the functions (a user's
 * BPF fentry program: -EBUSY), which goes when its owner detaches; it is
 * retried (the adaptive entry, pvli_tk_adapt.c).  One that failed later,
 * half-way, is not: ftrace's reset_direct() undoes it, but nothing here
 * tests that path.  One that was unregistered cleanly may be registered
 * again: unregister_ftrace_direct() resets it for that, as BPF
 * trampolines rely on (the adaptive entry switches the fast paths on and
 * off this way).  Once its filter is freed (tk_direct_undo()) the ops is
 * never used again in this load: ftrace_free_filter() leaves the freed
 * hash in func_hash, and setting a filter again frees it twice (a slub
 * BUG seen on 6.12 when the ipmodify probes reused one ops).  A failed
 * apply fails the module's init, or (entry=auto) falls back to the
 * livepatch.
 */
static bool tk_direct_ops_touched(void)
{
#ifdef CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS
	return tk_direct_ops.direct_call != 0;
#else
	return false;
#endif
}

/* May pvli_tk_direct_fast(true, ...) be tried again after it failed? */
bool pvli_tk_direct_can_retry(void)
{
	return !tk_direct_failed;
}

/*
 * The fast paths ours (@on) or the kernel's again.  On: 0, or -errno and
 * why.  Off: every call site is switched back when it returns, and no
 * task is left in our trampoline (unregister_ftrace_function()'s
 * RCU-tasks waits); the filter is kept for the next on; 0, or -errno and
 * why (@why may be NULL) with the direct calls still on.  Sleeps.
 */
int pvli_tk_direct_fast(bool on, char *why, size_t len)
{
	unsigned long ips[PVLI_TK_NR_FUNCS];
	unsigned int i;
	int ret;

	if (!on) {
		if (!tk_direct_on)
			return 0;
		ret = unregister_ftrace_direct(&tk_direct_ops, (unsigned long)pvli_tk_tramp, false);
		if (ret) {
			if (why)
				snprintf(why, len, "the direct calls did not unregister (%d)", ret);
			return ret;
		}
		tk_direct_on = false;
		return 0;
	}
	if (tk_direct_on)
		return 0;
	if (tk_direct_failed) {
		snprintf(why, len, "an earlier registration of the direct calls failed");
		return -EBUSY;
	}
	if (!tk_direct_filtered) {
		for (i = 0; i < PVLI_TK_NR_FUNCS; i++)
			ips[i] = pvli_tk_fentry(pvli_tk_funcs[i].old_func);
		ret = ftrace_set_filter_ips(&tk_direct_ops, ips, PVLI_TK_NR_FUNCS, 0, 1);
		if (ret) {
			tk_direct_failed = true;
			snprintf(why, len,
				 "a spinlock function has no ftrace call right after its start (%d)", ret);
			return ret;
		}
		tk_direct_filtered = true;
	}
#ifdef CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS
	tk_direct_ops.direct_call = 0;	/* see tk_direct_ops_touched() */
#endif
	ret = register_ftrace_direct(&tk_direct_ops, (unsigned long)pvli_tk_tramp);
	if (ret) {
		if (tk_direct_ops_touched())
			tk_direct_failed = true;
		snprintf(why, len, ret == -EBUSY ?
			 "a spinlock function already has a direct call (a BPF trampoline?) (%d)" :
			 "no direct call on the spinlock functions (%d)", ret);
		return ret;
	}
	tk_direct_on = true;
	return 0;
}

static void tk_direct_undo(void)
{
	/* Nothing better to do at exit: the call sites may outlive our text. */
	if (pvli_tk_direct_fast(false, NULL, 0))
		pr_emerg("the direct calls could not be unregistered: the kernel's spinlock functions may still call into this module's text, which is freed now; reboot\n");
	/*
	 * Also right for an ops never filtered (the slowpath entry).  The
	 * ops is done with for this load: ftrace_free_filter() frees its
	 * filter hash but leaves func_hash pointing at it, and a later
	 * ftrace_set_filter_ips() would free it again.
	 */
	ftrace_free_filter(&tk_direct_ops);
	tk_direct_filtered = false;
	tk_direct_failed = true;
	if (tk_slowpath_on) {
		unregister_ftrace_function(&tk_slowpath_ops);
		tk_slowpath_on = false;
	}
	ftrace_free_filter(&tk_slowpath_ops);
}

int pvli_tk_direct_apply(bool fast_paths, char *why, size_t len)
{
	int ret;

	if (fast_paths) {
		ret = pvli_tk_direct_fast(true, why, len);
		if (ret)
			goto undo;
	}
	ret = ftrace_set_filter_ip(&tk_slowpath_ops,
				   pvli_tk_fentry(native_queued_spin_lock_slowpath), 0, 1);
	if (!ret)
		ret = register_ftrace_function(&tk_slowpath_ops);
	if (ret) {
		snprintf(why, len, "cannot redirect %s (%d)", PVLI_TK_SLOWPATH, ret);
		goto undo;
	}
	tk_slowpath_on = true;
	return 0;

undo:
	tk_direct_undo();
	return ret;
}

void pvli_tk_direct_remove(void)
{
	tk_direct_undo();
}
