// SPDX-License-Identifier: GPL-2.0-only
/*
 * Takeover mode of pvlockinfo.ko: the switch for the kernel-spinlock
 * takeover.
 *
 * The work is done by pvlockinfo_takeover.ko, a livepatch module of its
 * own (klp_enable_patch() is for a livepatch module's init only).  This
 * file owns what users see:
 *
 *   modprobe pvlockinfo takeover=1                 apply at load
 *   echo 1 > /sys/module/pvlockinfo/parameters/takeover   on at runtime
 *   echo 0 > /sys/module/pvlockinfo/parameters/takeover   off at runtime
 *
 * "On" loads pvlockinfo_takeover.ko (request_module) if it is not applied
 * yet, then turns its channel-aware waiting on.  "Off" turns that waiting
 * off at once: the kernel's spinlocks wait as the original test-and-set
 * again, with the livepatch still in place (taking it out is a livepatch
 * transition; see README).  When the takeover cannot be applied (no
 * livepatch support, a symbol missing, another patch on the same
 * functions, pv spinlocks) pvlockinfo stays loaded in non-takeover mode,
 * logs the reason the takeover module gave, shows it in debugfs status,
 * and a runtime "echo 1" fails with EOPNOTSUPP.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kmod.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "pvlockinfo.h"
#include "shfl_lock.h"

/* Read by the takeover's slow path (READ_ONCE); written under tk_mutex. */
bool pvli_takeover_active;
EXPORT_SYMBOL_GPL(pvli_takeover_active);
/* How it waits when on: queued shfl-pv (true) or test-and-set (tas-pv). */
bool pvli_takeover_queue = true;
EXPORT_SYMBOL_GPL(pvli_takeover_queue);

static DEFINE_MUTEX(tk_mutex);
static bool tk_applied;		/* pvlockinfo_takeover.ko registered */
static const char *tk_entry;	/* its entry: "adaptive", "direct", "livepatch" or "slowpath" */
static bool tk_wanted_at_load;	/* takeover=1 given to modprobe */
static bool tk_load_pending;	/* ... and tk_load_work has not finished */
static bool tk_load_off;	/* ... and "off" was written meanwhile: it wins */
static bool tk_ready;		/* init done: request_module() may run */
static char tk_refusal[160];	/* why the last try failed; "" if it did not */
/* The takeover module's, told of every flip while it is registered. */
static void (*tk_switched)(bool on);

/* The switch; under tk_mutex, so that the takeover module hears each flip in order. */
static void tk_set_active(bool on)
{
	lockdep_assert_held(&tk_mutex);
	WRITE_ONCE(pvli_takeover_active, on);
	if (tk_switched)
		tk_switched(on);
}

/*
 * Called by pvlockinfo_takeover.ko from its init, once the patch is on;
 * it is switched on, and @switched hears of every flip from now until
 * pvli_takeover_unregister() (it may sleep; tk_mutex is held).
 */
void pvli_takeover_register(const char *entry, bool kernel_fields, void (*switched)(bool on))
{
	mutex_lock(&tk_mutex);
	tk_applied = true;
	tk_entry = entry;
	tk_refusal[0] = '\0';
	tk_switched = switched;
	tk_set_active(true);
	mutex_unlock(&tk_mutex);
	if (kernel_fields)
		pvli_publish_kernel_flag(true);
}
EXPORT_SYMBOL_GPL(pvli_takeover_register);

void pvli_takeover_unregister(void)
{
	mutex_lock(&tk_mutex);
	tk_applied = false;
	tk_switched = NULL;
	tk_set_active(false);
	mutex_unlock(&tk_mutex);
	pvli_publish_kernel_flag(false);
}
EXPORT_SYMBOL_GPL(pvli_takeover_unregister);

/* Called by pvlockinfo_takeover.ko when its init refuses. */
void pvli_takeover_refused(const char *why)
{
	mutex_lock(&tk_mutex);
	strscpy(tk_refusal, why, sizeof(tk_refusal));
	mutex_unlock(&tk_mutex);
}
EXPORT_SYMBOL_GPL(pvli_takeover_refused);

/* Switch on, loading the takeover module first if need be.  Sleeps. */
static int takeover_on(void)
{
	int ret;

	mutex_lock(&tk_mutex);
	if (tk_applied) {
		tk_set_active(true);
		mutex_unlock(&tk_mutex);
		return 0;
	}
	tk_refusal[0] = '\0';
	mutex_unlock(&tk_mutex);

	/* The module's init calls pvli_takeover_register() or _refused(). */
	ret = request_module("pvlockinfo_takeover");

	mutex_lock(&tk_mutex);
	if (tk_applied) {
		mutex_unlock(&tk_mutex);
		pr_info("takeover mode on: the kernel's spinlocks wait the channel-aware way\n");
		return 0;
	}
	if (!tk_refusal[0])
		snprintf(tk_refusal, sizeof(tk_refusal),
			 "modprobe pvlockinfo_takeover failed (%d): is the module installed, is CONFIG_LIVEPATCH set?",
			 ret);
	pr_err("takeover mode not available: %s; pvlockinfo stays loaded without it\n",
	       tk_refusal);
	mutex_unlock(&tk_mutex);
	return -EOPNOTSUPP;
}

static void takeover_off(void)
{
	mutex_lock(&tk_mutex);
	tk_set_active(false);
	tk_load_off = tk_load_pending;
	mutex_unlock(&tk_mutex);
}

/*
 * takeover=1 at load, applied once init is done.  The switch is the
 * user's meanwhile: an "off" written before this ends is the last word
 * (the module, once it registers, starts switched on), and an "on" after
 * that "off" takes it back (takeover_set()).  Applied either way, so that
 * what follows a load with takeover=1 does not depend on when the work
 * ran: applied, and on or off as last written.
 */
static void takeover_at_load(struct work_struct *w)
{
	takeover_on();
	mutex_lock(&tk_mutex);
	if (tk_load_off && tk_applied) {
		tk_set_active(false);
		pr_info("takeover mode off again: switched off while it was being applied\n");
	}
	tk_load_pending = false;
	tk_load_off = false;
	mutex_unlock(&tk_mutex);
}
static DECLARE_WORK(tk_load_work, takeover_at_load);

/*
 * A boolean parameter's write, into *@on.  At modprobe time parameters
 * are set before init: then it is only kept in *@at_load, for init to
 * apply, and 1 is returned.  Else 0, or -errno for a malformed value.
 * Under tk_mutex, as init's reading of *@at_load and setting of
 * tk_ready: the sysfs file exists before init runs, and a write between
 * the two would be neither kept for init nor applied.
 */
static int bool_param(const char *val, bool *on, bool *at_load)
{
	int ret = kstrtobool(val, on);

	if (ret)
		return ret;
	mutex_lock(&tk_mutex);
	if (!tk_ready) {
		*at_load = *on;
		ret = 1;
	}
	mutex_unlock(&tk_mutex);
	return ret;
}

static int takeover_set(const char *val, const struct kernel_param *kp)
{
	bool on;
	/*
	 * Kept until init is done: the takeover module needs pvlockinfo
	 * live to resolve its symbols, so it is requested from a work item.
	 */
	int ret = bool_param(val, &on, &tk_wanted_at_load);

	if (ret)
		return ret < 0 ? ret : 0;
	if (on) {
		mutex_lock(&tk_mutex);
		tk_load_off = false;	/* see takeover_at_load() */
		mutex_unlock(&tk_mutex);
		return takeover_on();
	}
	takeover_off();
	return 0;
}

static int takeover_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(pvli_takeover_active));
}

static const struct kernel_param_ops takeover_ops = {
	.set = takeover_set,
	.get = takeover_get,
};
module_param_cb(takeover, &takeover_ops, NULL, 0644);
MODULE_PARM_DESC(takeover,
		 "kernel spinlocks wait the channel-aware way (1) or as the kernel's own (0); loads pvlockinfo_takeover.ko");

/*
 * takeover_policy: shfl-pv (queue in the lock word, shuffled around
 * preempted vCPUs, halting behind preempted holders) or tas-pv
 * (test-and-set, halting behind preempted holders).  Switchable at any
 * time: each waiter finishes the way it started, and the two share the
 * word (the lock core, shfl_lock.c).
 */
static int policy_set(const char *val, const struct kernel_param *kp)
{
	if (sysfs_streq(val, "shfl-pv"))
		WRITE_ONCE(pvli_takeover_queue, true);
	else if (sysfs_streq(val, "tas-pv"))
		WRITE_ONCE(pvli_takeover_queue, false);
	else
		return -EINVAL;
	return 0;
}

static int policy_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", READ_ONCE(pvli_takeover_queue) ? "shfl-pv" : "tas-pv");
}

static const struct kernel_param_ops policy_ops = {
	.set = policy_set,
	.get = policy_get,
};
module_param_cb(takeover_policy, &policy_ops, NULL, 0644);
MODULE_PARM_DESC(takeover_policy,
		 "how kernel spinlocks wait in takeover mode: shfl-pv (queued, shuffled; default) or tas-pv (test-and-set)");

/*
 * takeover_irqsoff_halt: waiters whose interrupts are off (the caller's:
 * the run-queue locks, most of what a loaded guest waits for) halt too,
 * ended by an NMI kick (guest/lock/shim_kernel_nmi.c); 0: they spin, as
 * in the kernel's own slow path.  On by default; given to modprobe, it
 * takes effect once the module's NMI handler is in
 * (pvli_takeover_ctl_init()), which first checks with an NMI to itself
 * that the handler can end such a halt (shim_kernel_nmi.c) and otherwise
 * logs why not and leaves it off.
 */
static bool irqsoff_halt_at_load = true;

static int irqsoff_halt_set(const char *val, const struct kernel_param *kp)
{
	bool on;
	int ret = bool_param(val, &on, &irqsoff_halt_at_load);

	if (ret)
		return ret < 0 ? ret : 0;
	return shfl_nmi_halts_enable(on);
}

static int irqsoff_halt_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(tk_ready) ? shfl_nmi_halts_enabled() :
			  irqsoff_halt_at_load);
}

static const struct kernel_param_ops irqsoff_halt_ops = {
	.set = irqsoff_halt_set,
	.get = irqsoff_halt_get,
};
module_param_cb(takeover_irqsoff_halt, &irqsoff_halt_ops, NULL, 0644);
MODULE_PARM_DESC(takeover_irqsoff_halt,
		 "kernel spinlock waiters whose interrupts are off halt too, woken by an NMI (1; default), or spin (0)");

int pvli_takeover_status(char *buf, size_t len)
{
	int n;

	mutex_lock(&tk_mutex);
	n = scnprintf(buf, len, "takeover: %s (%s%s)%s%s; policy %s; irqs-off halts %s\n",
		      pvli_takeover_active ? "on" : "off",
		      tk_applied ? "applied, entry " : "not applied", tk_applied ? tk_entry : "",
		      tk_refusal[0] ? "; last refusal: " : "", tk_refusal,
		      pvli_takeover_queue ? "shfl-pv" : "tas-pv",
		      !shfl_nmi_halts_enabled() ? "off" :
		      shfl_nmi_halts_armed() ? "on (armed)" : "on (armed while the takeover is live and on)");
	mutex_unlock(&tk_mutex);
	return n;
}

int pvli_takeover_ctl_init(void)
{
	/* Against bool_param(): see there. */
	mutex_lock(&tk_mutex);
	if (irqsoff_halt_at_load && shfl_nmi_halts_enable(true))
		pr_warn("takeover_irqsoff_halt: left off (see above); kernel spinlock waiters with interrupts off spin\n");
	WRITE_ONCE(tk_ready, true);
	if (tk_wanted_at_load) {
		tk_load_pending = true;
		schedule_work(&tk_load_work);
	}
	mutex_unlock(&tk_mutex);
	return 0;
}

void pvli_takeover_ctl_exit(void)
{
	/* The takeover module holds a reference: it is gone by now. */
	cancel_work_sync(&tk_load_work);
}
