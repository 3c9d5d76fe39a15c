// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockinfo: the shared page, as a PCI driver for the ivshmem device.
 *
 * QEMU maps the VM's page (a host BPF array map) as BAR2 of an
 * ivshmem-plain device, 1af4:1110.  The driver validates the header once
 * at probe and refuses anything it cannot trust, with the reason in dmesg.
 * After that a watchdog keeps checking, every PVLI_WATCH_MS:
 *   - the magic (pvlockd clears it when the VM is torn down),
 *   - the heartbeat (the host BPF program sets it at every vCPU switch,
 *     wakeup or repair; if it stands still for PVLI_STALE_NS the host
 *     side is gone),
 *   - the generation (a new pvlockd took the page over: logged).
 * Queries go through pvli_live, which is NULL whenever the page is not
 * both valid and fresh, so every caller falls back to "unknown".
 *
 * Clock: pvlockd publishes the host's TSC -> CLOCK_MONOTONIC line.  Under
 * TCG the guest TSC runs at the host TSC's rate but from a different
 * origin (QEMU subtracts the host TSC at VM start), so the line is off by
 * a constant.  The driver learns it: whenever a vCPU reads its own record
 * while running, the host switched it in at last_switch_ns, before this
 * read, so  host_now >= last_switch_ns  and
 *   clock_fix >= last_switch_ns - line(tsc).
 * clock_fix is the largest such bound seen; its error is the shortest
 * delay between a switch-in and a read of the own record (measured by the
 * quota bench).  A new generation (new pvlockd) keeps it: the TSC origin
 * belongs to QEMU, not to pvlockd.
 *
 * Lifetime: pvli_live is RCU-protected; remove() clears it and waits for
 * readers before the mapping goes away.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/sched/clock.h>
#include <linux/workqueue.h>
#include <asm/msr.h>

#include "pvlockinfo.h"
#include "pvli_trace_ids.h"
#include "pvli_uapi.h"

#define PVLI_WATCH_MS	100
#define PVLI_SNAPSHOT_TRIES	64

struct pvli_page {
	struct pci_dev *pdev;
	struct pvli_page_hdr *hdr;
	struct pvli_vcpu *rec;
	phys_addr_t phys;	/* of the BAR, for /dev/pvlockinfo's mappings */
	u64 len;
	u32 nr_vcpus;
	u32 generation;
	u64 last_heartbeat;
	u64 last_change;	/* guest ktime_get_ns() when the heartbeat moved */
	bool live;		/* as last published to pvli_live */
	atomic64_t clock_fix;	/* ns to add to the header's TSC line; see above */
	bool clock_fixed;	/* at least one sample taken */
	const char *why;	/* why not live, for the status file */
	struct delayed_work watch;
};

static struct pvli_page *pvli_bound;		/* set while a device is bound */
static struct pvli_page __rcu *pvli_live;	/* bound, valid and fresh */
/* Each CPU's guest half of pvli_live's record (pvlockinfo.h); set and cleared with it. */
DEFINE_PER_CPU(struct pvli_vcpu_guest *, pvli_own_guest);
EXPORT_PER_CPU_SYMBOL_GPL(pvli_own_guest);

/*
 * That record's kernel_hold_depth, or while there is none a per-CPU sink:
 * never NULL (from pvli_page_init() on), so that the takeover publishes
 * its hold depth with a load and a store and no branch, which under TCG
 * would end a translation block on every spin_lock() and spin_unlock().
 * Set with pvli_own_guest, under the same rules.
 */
static DEFINE_PER_CPU(u32, pvli_depth_sink);
DEFINE_PER_CPU(u32 *, pvli_own_depth);
EXPORT_PER_CPU_SYMBOL_GPL(pvli_own_depth);

static void set_own_guest(struct pvli_page *p)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		bool rec = p && cpu < p->nr_vcpus;

		WRITE_ONCE(per_cpu(pvli_own_guest, cpu), rec ? &p->rec[cpu].guest : NULL);
		WRITE_ONCE(per_cpu(pvli_own_depth, cpu),
			   rec ? &p->rec[cpu].guest.kernel_hold_depth : per_cpu_ptr(&pvli_depth_sink, cpu));
	}
}

bool pvli_available(void)
{
	return rcu_access_pointer(pvli_live) != NULL;
}
EXPORT_SYMBOL_GPL(pvli_available);

/* The header's TSC line at this instant, without the fix; 0 if unknown. */
static notrace u64 raw_host_now_ns(struct pvli_page *p)
{
	struct pvli_page_hdr snap;

	for (int tries = 0; tries < PVLI_SNAPSHOT_TRIES; tries++) {
		u32 seq = READ_ONCE(p->hdr->clock_seq);

		if (seq & 1)
			continue;
		smp_rmb();	/* pairs with pvlockd's release after the odd seq */
		snap.clock_shift = READ_ONCE(p->hdr->clock_shift);
		snap.clock_mult = READ_ONCE(p->hdr->clock_mult);
		snap.clock_base_tsc = READ_ONCE(p->hdr->clock_base_tsc);
		snap.clock_base_ns = READ_ONCE(p->hdr->clock_base_ns);
		smp_rmb();	/* pairs with pvlockd's release before the even seq */
		if (READ_ONCE(p->hdr->clock_seq) == seq)
			return pvli_tsc_to_host_ns(&snap, rdtsc_ordered());
	}
	return 0;
}

/*
 * seq of the own record this CPU last sampled.  Only the first read after
 * a switch-in can tighten the bound (later reads of the same
 * last_switch_ns see a larger line(tsc), hence a looser bound), so a read
 * of an unchanged record skips the TSC and header reads.
 */
static DEFINE_PER_CPU(u32, clock_sampled_seq);

/*
 * Tighten clock_fix from this CPU's own record, which must have been read
 * (@own) just before, with preemption off, while RUNNING.
 */
static void clock_sample(struct pvli_page *p, const struct pvli_vcpu_host *own)
{
	s64 bound, cur;
	u64 line;

	if (own->state != PVLI_STATE_RUNNING ||
	    (READ_ONCE(p->clock_fixed) && __this_cpu_read(clock_sampled_seq) == own->seq))
		return;
	line = raw_host_now_ns(p);
	if (!line)
		return;
	__this_cpu_write(clock_sampled_seq, own->seq);
	bound = (s64)(own->last_switch_ns - line);
	cur = atomic64_read(&p->clock_fix);
	while ((!READ_ONCE(p->clock_fixed) || bound > cur) &&
	       !atomic64_try_cmpxchg(&p->clock_fix, &cur, bound))
		;
	WRITE_ONCE(p->clock_fixed, true);
}

/*
 * Copy a host record; retries while one of its host writers is mid-update.
 * @now, if not NULL: local_clock() read inside the record's seq window,
 * so that no host switch of the vCPU falls between the copy and it.
 */
static notrace int read_host_at(const struct pvli_vcpu_host *src, struct pvli_vcpu_host *dst,
				u64 *now)
{
	for (int tries = 0; tries < PVLI_SNAPSHOT_TRIES; tries++) {
		u32 seq = READ_ONCE(src->seq);

		if (seq & 1) {
			cpu_relax();
			continue;
		}
		smp_rmb();	/* pairs with the atomic after the writer's odd seq */
		dst->state = READ_ONCE(src->state);
		dst->last_switch_ns = READ_ONCE(src->last_switch_ns);
		dst->quota_ns = READ_ONCE(src->quota_ns);
		dst->steal_ns = READ_ONCE(src->steal_ns);
		dst->run_ns = READ_ONCE(src->run_ns);
		dst->preempt_count = READ_ONCE(src->preempt_count);
		dst->pcpu = READ_ONCE(src->pcpu);
		dst->lhp_count = READ_ONCE(src->lhp_count);
		dst->lwp_count = READ_ONCE(src->lwp_count);
		if (now)
			*now = local_clock();
		smp_rmb();	/* pairs with the atomic before the writer's even seq */
		if (READ_ONCE(src->seq) == seq) {
			dst->seq = seq;
			if (dst->state > PVLI_STATE_MAX)
				dst->state = PVLI_STATE_UNKNOWN;	/* garbage */
			return 0;
		}
	}
	return -EAGAIN;
}

static notrace int read_host(const struct pvli_vcpu_host *src, struct pvli_vcpu_host *dst)
{
	return read_host_at(src, dst, NULL);
}

/**
 * pvli_vcpu_snapshot - consistent copy of the host half of a vCPU record
 * @cpu: guest CPU (= vCPU index)
 * @out: where to copy it
 *
 * Return: 0; -ENODEV without a live page or for a CPU the page does not
 * cover; -EAGAIN if the host kept rewriting the record.
 */
int pvli_vcpu_snapshot(int cpu, struct pvli_vcpu_host *out)
{
	struct pvli_page *p;
	int ret = -ENODEV;

	rcu_read_lock();
	p = rcu_dereference(pvli_live);
	if (p && cpu >= 0 && cpu < p->nr_vcpus) {
		ret = read_host(&p->rec[cpu].host, out);
		/* Our own record, read while we run: a clock sample for free. */
		if (!ret && !preemptible() && cpu == smp_processor_id())
			clock_sample(p, out);
	}
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL_GPL(pvli_vcpu_snapshot);

/**
 * pvli_vcpu_preempted_atomic - pvli_vcpu_preempted() for lock slow paths
 * @cpu: guest CPU
 *
 * For callers that run with preemption disabled inside the kernel's own
 * spinlock code (the takeover's slow path): no rcu_read_lock(), whose
 * unlock may take scheduler and RCU locks the caller may be waiting for.
 * A preemption-disabled region is an RCU reader all the same (the page is
 * freed after synchronize_rcu()).  No clock sample, no tracing.
 */
bool notrace pvli_vcpu_preempted_atomic(int cpu)
{
	struct pvli_page *p = rcu_dereference_sched(pvli_live);
	struct pvli_vcpu_host h;

	if (!p || cpu < 0 || cpu >= p->nr_vcpus || read_host(&p->rec[cpu].host, &h))
		return false;
	return h.state == PVLI_STATE_PREEMPTED;
}
EXPORT_SYMBOL_GPL(pvli_vcpu_preempted_atomic);

/**
 * pvli_own_steal_ns_atomic - this vCPU's steal clock, from any context
 *
 * The steal half of pvli_own_clocks_atomic(), for BPF programs on the
 * kernel's spinlock slow path (pvli_kfunc.c).  The rules of both, for
 * callers in any context, NMI included (the takeover's wait accounting,
 * pvli_tk_lock.c, too): reads only, no clock sample, and its own
 * preemption-disabled RCU read side (NMI-safe, and waited for by the
 * synchronize_rcu() before the page is freed), so it does not depend on
 * how the BPF program was entered (a sleepable one holds only RCU tasks
 * trace).  The calling vCPU runs, so a record that says RUNNING has its
 * steal clock current: the host adds to steal_ns only when the vCPU comes
 * back on a host CPU.  A record in any other state is stale (a switch-in
 * the host has not reported yet; its repair will add time that includes
 * running), so it answers unknown.  Not detectable: a stale stretch that
 * began and was repaired between a caller's two reads.
 *
 * Return: host ns, or PVLI_TP_STEAL_UNKNOWN without a live page, for a
 * CPU the page does not cover, for a stale record, or while the host
 * keeps rewriting it.
 */
u64 notrace pvli_own_steal_ns_atomic(void)
{
	u64 steal, run;

	pvli_own_clocks_atomic(&steal, &run);
	return steal;
}
EXPORT_SYMBOL_GPL(pvli_own_steal_ns_atomic);

/**
 * pvli_own_clocks_atomic - this vCPU's steal and run clocks, from any context
 * @steal: its steal clock (host ns), as pvli_own_steal_ns_atomic()
 * @run: its run clock: ns on a host CPU.  The record's run_ns counts up to
 *       its last switch-in (last_switch_ns, host clock); the vCPU has run
 *       since, so the clock now is run_ns - last_switch_ns + now, taken
 *       here with now on the guest's local_clock(), read inside the
 *       record's seq window (no host switch between the record and now).
 *       The two clocks' offset is in every reading alike and drops out of
 *       a difference, which is all this is for (the sum wraps alike: take
 *       differences as signed); their rates agree (both count real ns),
 *       and a wait never changes CPU, so local_clock() is one clock.
 *
 * Under the rules of pvli_own_steal_ns_atomic(); no TSC line needed, so
 * under KVM too.  Over an interval the two clocks split its wall time into
 * preempted (steal), on a host CPU (run) and the rest: halted, or blocked
 * in the host.
 *
 * Return: true with both set; false (both PVLI_TP_STEAL_UNKNOWN) without a
 * live page, for a stale record, or while the host keeps rewriting it.
 */
bool notrace pvli_own_clocks_atomic(u64 *steal, u64 *run)
{
	struct pvli_vcpu_host h;
	struct pvli_page *p;
	bool ok = false;
	u64 now;
	int cpu;

	*steal = *run = PVLI_TP_STEAL_UNKNOWN;
	preempt_disable_notrace();
	p = rcu_dereference_sched(pvli_live);
	cpu = smp_processor_id();
	if (p && cpu < p->nr_vcpus && !read_host_at(&p->rec[cpu].host, &h, &now) &&
	    h.state == PVLI_STATE_RUNNING) {
		*steal = h.steal_ns;
		*run = h.run_ns - h.last_switch_ns + now;
		ok = true;
	}
	preempt_enable_notrace();
	return ok;
}
EXPORT_SYMBOL_GPL(pvli_own_clocks_atomic);

enum pvli_vcpu_state pvli_vcpu_state(int cpu)
{
	struct pvli_vcpu_host h;

	return pvli_vcpu_snapshot(cpu, &h) ? PVLI_STATE_UNKNOWN : h.state;
}
EXPORT_SYMBOL_GPL(pvli_vcpu_state);

bool pvli_vcpu_preempted(int cpu)
{
	return pvli_vcpu_state(cpu) == PVLI_STATE_PREEMPTED;
}
EXPORT_SYMBOL_GPL(pvli_vcpu_preempted);

/**
 * pvli_host_now_ns - the host's CLOCK_MONOTONIC now, from this vCPU's TSC
 *
 * Uses the TSC line pvlockd publishes in the header (refreshed every
 * second), corrected by the origin fix the driver learns (see the top of
 * this file).  Return: host ns, or 0 when unknown.
 */
u64 pvli_host_now_ns(void)
{
	struct pvli_page *p;
	u64 now = 0;

	rcu_read_lock();
	p = rcu_dereference(pvli_live);
	if (p && READ_ONCE(p->clock_fixed)) {
		now = raw_host_now_ns(p);
		if (now)
			now += atomic64_read(&p->clock_fix);
	}
	rcu_read_unlock();
	return now;
}
EXPORT_SYMBOL_GPL(pvli_host_now_ns);

/**
 * pvli_vcpu_quota_ns - run time @cpu has left before the host preempts it
 * @cpu: guest CPU
 *
 * Return: ns from now; 0 if the vCPU is not running; PVLI_QUOTA_UNKNOWN
 * without a live page, without a clock, or when the host cannot bound it.
 */
u64 pvli_vcpu_quota_ns(int cpu)
{
	struct pvli_vcpu_host h;
	u64 now;

	if (pvli_vcpu_snapshot(cpu, &h))
		return PVLI_QUOTA_UNKNOWN;
	now = pvli_host_now_ns();
	if (!now)
		return PVLI_QUOTA_UNKNOWN;
	return pvli_quota_left_ns(&h, now);
}
EXPORT_SYMBOL_GPL(pvli_vcpu_quota_ns);

/**
 * pvli_vcpu_steal_ns - @cpu's steal clock now: ns runnable but not running
 * @cpu: guest CPU
 *
 * The record's steal_ns counts up to its last transition; a vCPU that is
 * preempted now has been stealing since then too.
 *
 * Return: host ns, or PVLI_TP_STEAL_UNKNOWN without a live page, or for a
 * preempted vCPU without a clock.
 */
u64 pvli_vcpu_steal_ns(int cpu)
{
	struct pvli_vcpu_host h;
	u64 now;

	if (pvli_vcpu_snapshot(cpu, &h) || h.state == PVLI_STATE_UNKNOWN)
		return PVLI_TP_STEAL_UNKNOWN;
	if (h.state != PVLI_STATE_PREEMPTED)
		return h.steal_ns;
	now = pvli_host_now_ns();
	if (!now)
		return PVLI_TP_STEAL_UNKNOWN;
	return h.steal_ns + (now > h.last_switch_ns ? now - h.last_switch_ns : 0);
}
EXPORT_SYMBOL_GPL(pvli_vcpu_steal_ns);

/* The guest half of this CPU's record, or NULL.  Caller has preemption off. */
static notrace struct pvli_vcpu_guest *own_guest_half(void)
{
	struct pvli_page *p = rcu_dereference_sched(pvli_live);
	int cpu = smp_processor_id();

	return p && cpu < p->nr_vcpus ? &p->rec[cpu].guest : NULL;
}

/**
 * pvli_publish_hold - record that this vCPU took (+1) or released (-1) a lock
 * @delta: +1 or -1
 *
 * The host reads hold_depth when it preempts this vCPU: nonzero counts as
 * lock-holder preemption.  Call with preemption disabled, as lock code is.
 */
void pvli_publish_hold(int delta)
{
	struct pvli_vcpu_guest *g = own_guest_half();

	if (g) {
		WRITE_ONCE(g->hold_depth, READ_ONCE(g->hold_depth) + delta);
		if (delta > 0)
			WRITE_ONCE(g->lock_acquired, READ_ONCE(g->lock_acquired) + 1);
	}
}
EXPORT_SYMBOL_GPL(pvli_publish_hold);

/**
 * pvli_publish_wait - record that this vCPU waits for @lock_id (0: done)
 * @lock_id: an opaque, nonzero id of the lock; never a pointer the host uses
 */
void pvli_publish_wait(u64 lock_id)
{
	struct pvli_vcpu_guest *g = own_guest_half();

	if (g) {
		WRITE_ONCE(g->wait_since_ns, lock_id ? ktime_get_mono_fast_ns() : 0);
		WRITE_ONCE(g->wait_lock, lock_id);
	}
}
EXPORT_SYMBOL_GPL(pvli_publish_wait);

/**
 * pvli_vcpu_guest_snapshot - a copy of the guest half of @cpu's record
 * Return: 0, or -ENODEV without a live page (as pvli_vcpu_snapshot()).
 */
int pvli_vcpu_guest_snapshot(int cpu, struct pvli_vcpu_guest *out)
{
	struct pvli_page *p;
	int ret = -ENODEV;

	rcu_read_lock();
	p = rcu_dereference(pvli_live);
	if (p && cpu >= 0 && cpu < p->nr_vcpus) {
		memcpy(out, (const void *)&p->rec[cpu].guest, sizeof(*out));
		ret = 0;
	}
	rcu_read_unlock();
	return ret;
}

/*
 * Whether the kernel_* fields are published (the takeover is applied).
 * The page keeps it, so that a page that comes (back) to life gets the
 * flag without the takeover switch having to notice.  kernel_flag_mutex
 * orders set_live() against pvli_publish_kernel_flag(): whichever runs
 * second sees the other's change, so a new page never misses the flag.
 */
static DEFINE_MUTEX(kernel_flag_mutex);
static bool kernel_flag;

/* Write @on into every record of @p; false also clears the kernel_* fields. */
static void apply_kernel_flag(struct pvli_page *p, bool on)
{
	for (int cpu = 0; cpu < p->nr_vcpus; cpu++) {
		struct pvli_vcpu_guest *g = &p->rec[cpu].guest;
		u32 f = READ_ONCE(g->flags);

		if (!on) {
			WRITE_ONCE(g->kernel_hold_depth, 0);
			WRITE_ONCE(g->kernel_waiting, 0);
		}
		WRITE_ONCE(g->flags, on ? f | PVLI_GUEST_KERNEL_LOCKS : f & ~PVLI_GUEST_KERNEL_LOCKS);
	}
}

/**
 * pvli_publish_kernel_flag - say whether the kernel_* fields are published
 * @on: true while the takeover is applied; false clears every vCPU's fields
 *
 * Remembered: a page that goes live later gets it too.  Sleeps.
 */
void pvli_publish_kernel_flag(bool on)
{
	struct pvli_page *p;

	mutex_lock(&kernel_flag_mutex);
	kernel_flag = on;
	rcu_read_lock();
	p = rcu_dereference(pvli_live);
	if (p)
		apply_kernel_flag(p, on);
	rcu_read_unlock();
	mutex_unlock(&kernel_flag_mutex);
}
EXPORT_SYMBOL_GPL(pvli_publish_kernel_flag);

/* ---- the page for user space (pvli_chardev.c) ------------------------------ */

/* Whole pages of the bound BAR that /dev/pvlockinfo may map. */
static u32 user_bytes(struct pvli_page *p)
{
	if (!p || !PAGE_ALIGNED(p->phys))
		return 0;
	return min_t(u64, p->len & PAGE_MASK, PVLI_UAPI_HOST_MAX);
}

/**
 * pvli_page_user_pfn - page frame of page @pgoff of the bound page
 * @pgoff: page index from the start of the page set
 * @pfn: where to store it
 *
 * Return: false without a bound device or past the bytes it may map.
 * The caller serialises against its pvli_page_init() callback.
 */
bool pvli_page_user_pfn(unsigned long pgoff, unsigned long *pfn)
{
	struct pvli_page *p = READ_ONCE(pvli_bound);

	if (pgoff >= user_bytes(p) >> PAGE_SHIFT)
		return false;
	*pfn = PHYS_PFN(p->phys) + pgoff;
	return true;
}

/*
 * Told of every change of the bound page or of its liveness (the user
 * view, pvli_chardev.c): set by pvli_page_init() before the driver can
 * bind, so it is constant while any caller below runs.
 */
static void (*host_changed)(bool live, u32 size) __ro_after_init;

/* ---- watchdog ----------------------------------------------------------------- */

static void set_live(struct pvli_page *p, bool live, const char *why)
{
	if (p->live == live)
		return;
	p->live = live;
	p->why = why;
	if (live) {
		rcu_assign_pointer(pvli_live, p);
		set_own_guest(p);
		dev_info(&p->pdev->dev, "host channel live\n");
		mutex_lock(&kernel_flag_mutex);
		apply_kernel_flag(p, kernel_flag);
		mutex_unlock(&kernel_flag_mutex);
	} else {
		RCU_INIT_POINTER(pvli_live, NULL);
		set_own_guest(NULL);
		dev_warn(&p->pdev->dev, "host channel lost: %s; queries answer \"unknown\"\n",
			 why);
	}
	host_changed(live, user_bytes(p));
}

static void pvli_watch(struct work_struct *work)
{
	struct pvli_page *p = container_of(work, struct pvli_page, watch.work);
	u64 now = ktime_get_ns(), hb = READ_ONCE(p->hdr->heartbeat_ns);
	u32 gen = READ_ONCE(p->hdr->generation);

	if (READ_ONCE(p->hdr->magic) != PVLI_PAGE_MAGIC) {
		set_live(p, false, "the host tore the page down (magic cleared)");
	} else {
		if (gen != p->generation) {
			dev_info(&p->pdev->dev, "host daemon changed (generation %u -> %u)\n",
				 p->generation, gen);
			p->generation = gen;
		}
		if (hb != p->last_heartbeat) {
			p->last_heartbeat = hb;
			p->last_change = now;
		}
		if (p->live) {
			struct pvli_vcpu_host own;

			/* Freshly woken to run this work: a tight clock sample. */
			preempt_disable();
			pvli_vcpu_snapshot(smp_processor_id(), &own);
			preempt_enable();
		}
		if (now - p->last_change > PVLI_STALE_NS)
			set_live(p, false, "stale: the host heartbeat stopped");
		else
			set_live(p, true, NULL);
	}
	schedule_delayed_work(&p->watch, msecs_to_jiffies(PVLI_WATCH_MS));
}

int pvli_page_status(char *buf, size_t len)
{
	struct pvli_page *p = pvli_bound;

	if (!p)
		return scnprintf(buf, len, "available: no (no ivshmem device bound)\n");
	return scnprintf(buf, len,
			 "available: %s%s%s\ndevice: %s\nabi: %u.%u\nvcpus: %u\nbytes: %llu\n"
			 "accel: %s\ngeneration: %u\nheartbeat_age_ms: %llu\n"
			 "clock_mult: %llu\nclock_shift: %u\nclock_fix_ns: %lld%s\nhost_now_ns: %llu\n",
			 p->live ? "yes" : "no", p->live ? "" : " - ", p->live ? "" : p->why,
			 pci_name(p->pdev), p->hdr->abi_major, p->hdr->abi_minor, p->nr_vcpus,
			 p->len,
			 p->hdr->accel == PVLI_ACCEL_KVM ? "kvm" :
			 p->hdr->accel == PVLI_ACCEL_TCG ? "tcg" : "unknown",
			 p->generation, (ktime_get_ns() - p->last_change) / NSEC_PER_MSEC,
			 READ_ONCE(p->hdr->clock_mult), READ_ONCE(p->hdr->clock_shift),
			 (long long)atomic64_read(&p->clock_fix),
			 READ_ONCE(p->clock_fixed) ? "" : " (no sample yet)", pvli_host_now_ns());
}

/* ---- PCI driver --------------------------------------------------------------- */

static int pvli_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct pvli_page_hdr snap;
	enum pvli_page_error e;
	struct pvli_page *p;
	resource_size_t start, len;
	void *base;
	int ret;

	if (pvli_bound) {
		dev_err(&pdev->dev, "a shared page is already bound (%s); ignoring this one\n",
			pci_name(pvli_bound->pdev));
		return -EBUSY;
	}
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	start = pci_resource_start(pdev, 2);
	len = pci_resource_len(pdev, 2);
	if (!start || len < sizeof(struct pvli_page_hdr)) {
		dev_err(&pdev->dev, "refusing shared page: BAR2 is missing or too small (%pa bytes)\n",
			&len);
		return -ENODEV;
	}
	/* The BAR is host RAM: map it cacheable, as the host maps it. */
	base = devm_memremap(&pdev->dev, start, len, MEMREMAP_WB);
	if (IS_ERR(base))
		return PTR_ERR(base);

	memcpy(&snap, base, sizeof(snap));
	e = pvli_page_check(&snap, len, num_possible_cpus());
	if (e) {
		dev_err(&pdev->dev,
			"refusing shared page: %s (magic %#llx, ABI %u.%u, header %u, stride %u, %u vCPUs for %u possible CPUs, size %u of %llu mapped)\n",
			pvli_page_strerror(e), snap.magic, snap.abi_major, snap.abi_minor,
			snap.hdr_size, snap.vcpu_stride, snap.nr_vcpus, num_possible_cpus(),
			snap.page_size, (u64)len);
		return -EINVAL;
	}

	p = devm_kzalloc(&pdev->dev, sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	p->pdev = pdev;
	p->hdr = base;
	p->rec = base + snap.hdr_size;
	p->phys = start;
	p->len = len;
	p->nr_vcpus = snap.nr_vcpus;
	p->generation = snap.generation;
	p->last_heartbeat = snap.heartbeat_ns;
	p->last_change = ktime_get_ns();
	p->why = "not checked yet";
	INIT_DELAYED_WORK(&p->watch, pvli_watch);
	pci_set_drvdata(pdev, p);
	WRITE_ONCE(pvli_bound, p);
	host_changed(false, user_bytes(p));
	dev_info(&pdev->dev, "shared page ABI %u.%u, %u vCPUs, %llu bytes, generation %u\n",
		 snap.abi_major, snap.abi_minor, snap.nr_vcpus, (u64)len, snap.generation);
	pvli_watch(&p->watch.work);
	return 0;
}

static void pvli_remove(struct pci_dev *pdev)
{
	struct pvli_page *p = pci_get_drvdata(pdev);

	cancel_delayed_work_sync(&p->watch);
	RCU_INIT_POINTER(pvli_live, NULL);
	set_own_guest(NULL);
	/* Readers run under rcu_read_lock or with preemption off. */
	synchronize_rcu();
	WRITE_ONCE(pvli_bound, NULL);
	/* Processes that mapped the page get zero pages from now on. */
	host_changed(false, 0);
}

static const struct pci_device_id pvli_ids[] = {
	{ PCI_DEVICE(PCI_VENDOR_ID_REDHAT_QUMRANET, 0x1110) },	/* ivshmem */
	{ }
};
MODULE_DEVICE_TABLE(pci, pvli_ids);

static struct pci_driver pvli_driver = {
	.name = "pvlockinfo",
	.id_table = pvli_ids,
	.probe = pvli_probe,
	.remove = pvli_remove,
};

/**
 * pvli_page_init - register the page's PCI driver
 * @changed: called (may sleep) whenever a page is bound or unbound or its
 *           liveness changes, with pvli_available() and the bytes of the
 *           bound page a process may map (0: none bound); until
 *           pvli_page_exit() returns
 */
int pvli_page_init(void (*changed)(bool live, u32 size))
{
	host_changed = changed;
	set_own_guest(NULL);
	return pci_register_driver(&pvli_driver);
}

void pvli_page_exit(void)
{
	pci_unregister_driver(&pvli_driver);
}
