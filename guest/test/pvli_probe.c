// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockinfo probes: known guest situations for host-side ground truth.
 *
 *   echo "holder=1 ms=4000" > /sys/kernel/debug/pvlockinfo/hold
 *     a kthread bound to vCPU 1 takes a pvlockinfo lock and keeps it for
 *     4 s (spinning, preemption off): every host preemption of vCPU 1 in
 *     that window is a lock-holder preemption.
 *   echo "holder=0 waiter=1 ms=4000" > .../hold
 *     the same, plus a kthread on vCPU 1 that waits for the lock the whole
 *     time (a "shfl" waiter spins; it never halts, so the host sees a
 *     runnable lock waiter): every preemption of vCPU 1 is a lock-waiter
 *     preemption.
 *   echo "cpu=1 ms=3000 on=0" > /sys/kernel/debug/pvlockinfo/watch
 *   cat .../watch
 *     a kthread on vCPU 0 polls vCPU 1's record for 3 s and lists every
 *     interval it saw vCPU 1 preempted (or woken and waiting for its pCPU)
 *     of at least min_us, so the guest's view of an
 *     injected preemption can be compared with what the host did.
 *
 *   echo "cpu=1 ms=5000" > /sys/kernel/debug/pvlockinfo/quota
 *   cat .../quota
 *     a kthread on vCPU 1 keeps it busy for 5 s and, again and again,
 *     asks the page how much run quota vCPU 1 has left (the prediction),
 *     then spins until the host preempts it and measures, with the
 *     host's clock, how long that took (the truth); it reports the
 *     absolute error's median and p95 next to the median quota.
 *
 * The writes block until the probe ends.  The watcher times intervals
 * with the host's own clock (the record's steal counter, see watch_fn()),
 * so its figures do not depend on how the watching vCPU was scheduled.
 */
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/kthread.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>

#include "pvlockinfo.h"
#include "pvli_test.h"
#include "pvli_lock.h"

#define PROBE_MAX_MS		20000	/* under the soft-lockup threshold */
#define WATCH_MAX_INTERVALS	1024
#define QUOTA_MAX_SAMPLES	4096

/* One probe of each kind at a time; a hold and a watch may overlap. */
static DEFINE_MUTEX(hold_lock);
static DEFINE_MUTEX(watch_lock);
static DEFINE_MUTEX(quota_lock);

/* key=value parser shared by both files: fills @vals for @keys, in order. */
static int parse_kv(char *buf, const char *const *keys, unsigned int *vals, int n)
{
	char *tok, *key;

	while ((tok = strsep(&buf, " \t\n")) != NULL) {
		int i;

		if (!*tok)
			continue;
		key = strsep(&tok, "=");
		for (i = 0; i < n; i++)
			if (!strcmp(key, keys[i]))
				break;
		if (i == n || !tok || kstrtouint(tok, 0, &vals[i]))
			return -EINVAL;
	}
	return 0;
}

static int copy_params(const char __user *ubuf, size_t len, char *buf, size_t size)
{
	if (len >= size)
		return -E2BIG;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	return 0;
}

/* ---- hold ---------------------------------------------------------------------- */

struct hold_run {
	struct pvli_lock lock;
	u64 end_ns;
	struct completion held, done;
	atomic_t left;
	u64 hold_ns, wait_ns;
};

static char hold_result[160] = "no run yet\n";

/* One of the run's parties is finished (or never started); the last wakes the writer. */
static void hold_party_done(struct hold_run *r)
{
	if (atomic_dec_and_test(&r->left))
		complete(&r->done);
}

static int holder_fn(void *arg)
{
	struct hold_run *r = arg;
	u64 t0;

	pvli_lock(&r->lock);
	t0 = ktime_get_ns();
	complete_all(&r->held);
	/*
	 * Interrupts stay on: with them off, another vCPU that sends this one
	 * an IPI (a TLB flush, a kthread's creation) would spin until the
	 * hold ends.
	 */
	while (ktime_get_ns() < r->end_ns)
		cpu_relax();
	r->hold_ns = ktime_get_ns() - t0;
	pvli_unlock(&r->lock);
	hold_party_done(r);
	return 0;
}

static int waiter_fn(void *arg)
{
	struct hold_run *r = arg;
	u64 t0;

	wait_for_completion(&r->held);
	t0 = ktime_get_ns();
	pvli_lock(&r->lock);
	r->wait_ns = ktime_get_ns() - t0;
	pvli_unlock(&r->lock);
	hold_party_done(r);
	return 0;
}

static int start_on(int (*fn)(void *), struct hold_run *r, unsigned int cpu, const char *what)
{
	struct task_struct *t = kthread_create_on_cpu(fn, r, cpu, what);

	if (IS_ERR(t))
		return PTR_ERR(t);
	wake_up_process(t);
	return 0;
}

static ssize_t hold_write(struct file *f, const char __user *ubuf, size_t len, loff_t *off)
{
	static const char *const keys[] = { "holder", "waiter", "ms" };
	unsigned int v[3] = { 0, UINT_MAX, 1000 };
	struct hold_run *r;
	char buf[96];
	int ret;

	ret = copy_params(ubuf, len, buf, sizeof(buf));
	if (ret)
		return ret;
	if (parse_kv(buf, keys, v, 3) || !v[2] || v[2] > PROBE_MAX_MS ||
	    v[0] >= nr_cpu_ids || !cpu_online(v[0]) ||
	    (v[1] != UINT_MAX && (v[1] >= nr_cpu_ids || !cpu_online(v[1]) || v[1] == v[0])))
		return -EINVAL;
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	/* "shfl": no host information, waiters spin and never halt. */
	pvli_lock_init(&r->lock, "shfl");
	init_completion(&r->held);
	init_completion(&r->done);
	atomic_set(&r->left, v[1] == UINT_MAX ? 1 : 2);
	r->end_ns = ktime_get_ns() + (u64)v[2] * NSEC_PER_MSEC;

	mutex_lock(&hold_lock);
	ret = start_on(holder_fn, r, v[0], "pvli_holder/%u");
	if (ret)
		goto out;
	if (v[1] != UINT_MAX) {
		ret = start_on(waiter_fn, r, v[1], "pvli_waiter/%u");
		if (ret)	/* the holder still ends on its own */
			hold_party_done(r);
	}
	wait_for_completion(&r->done);
	if (!ret)
		snprintf(hold_result, sizeof(hold_result),
			 "holder cpu %u held %llu ms; waiter cpu %d waited %llu ms\n", v[0],
			 r->hold_ns / NSEC_PER_MSEC, v[1] == UINT_MAX ? -1 : (int)v[1],
			 r->wait_ns / NSEC_PER_MSEC);
out:
	mutex_unlock(&hold_lock);
	kfree(r);
	return ret ?: len;
}

static int hold_show(struct seq_file *m, void *v)
{
	mutex_lock(&hold_lock);
	seq_puts(m, hold_result);
	mutex_unlock(&hold_lock);
	return 0;
}

/* ---- watch --------------------------------------------------------------------- */

struct watch_run {
	unsigned int cpu, min_us;
	u64 end_ns;
	u64 reads, failed, missed, short_ones;
	u32 nr;
	u64 us[WATCH_MAX_INTERVALS];	/* preempted intervals >= min_us */
	u32 miss[WATCH_MAX_INTERVALS];	/* transitions missed inside each */
	struct completion done;
};

static struct watch_run *last_watch;

/*
 * Intervals are timed by the record's steal counter, to which the host
 * adds each wait (preempted, or woken and not yet running) at the
 * switch-in that ends it.  Between two consecutive snapshots the watcher
 * takes, the steal moved by the waits that ended in between: one wait
 * when the watcher saw both its ends (seq moved by 2 from a PREEMPTED
 * snapshot), or several when it missed transitions, which happens when
 * the watching vCPU is itself stalled.  Under TCG that is not rare: a
 * vCPU that needs all others at a safe point (TB flush, exclusive atomic
 * step) waits until the preempted one runs again.  The missed
 * transitions are counted per interval.
 */
static int watch_fn(void *arg)
{
	struct watch_run *w = arg;
	struct pvli_vcpu_host h, prev;
	bool have_prev = false;

	while (ktime_get_ns() < w->end_ns) {
		w->reads++;
		if (pvli_vcpu_snapshot(w->cpu, &h)) {
			w->failed++;
			have_prev = false;
			goto next;
		}
		if (have_prev && h.steal_ns != prev.steal_ns) {
			u64 us = (h.steal_ns - prev.steal_ns) / NSEC_PER_USEC;
			/* record versions between the two that it never saw */
			u32 missed = (h.seq - prev.seq) / 2 - 1;

			w->missed += missed;
			if (us < w->min_us) {
				w->short_ones++;
			} else if (w->nr < WATCH_MAX_INTERVALS) {
				w->us[w->nr] = us;
				w->miss[w->nr++] = missed;
			}
		}
		prev = h;
		have_prev = true;
next:
		if (!(w->reads & 0xfff))
			cond_resched();
	}
	complete(&w->done);
	return 0;
}

static ssize_t watch_write(struct file *f, const char __user *ubuf, size_t len, loff_t *off)
{
	static const char *const keys[] = { "cpu", "ms", "on", "min_us" };
	unsigned int v[4] = { UINT_MAX, 1000, UINT_MAX, 1000 };
	struct task_struct *t;
	struct watch_run *w;
	char buf[96];
	int ret;

	ret = copy_params(ubuf, len, buf, sizeof(buf));
	if (ret)
		return ret;
	if (parse_kv(buf, keys, v, 4) || v[0] >= nr_cpu_ids || !v[1] || v[1] > PROBE_MAX_MS ||
	    v[2] >= nr_cpu_ids || !cpu_online(v[2]) || v[2] == v[0])
		return -EINVAL;
	if (!pvli_available())
		return -ENODEV;
	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	w->cpu = v[0];
	w->min_us = v[3];
	w->end_ns = ktime_get_ns() + (u64)v[1] * NSEC_PER_MSEC;
	init_completion(&w->done);

	mutex_lock(&watch_lock);
	t = kthread_create_on_cpu(watch_fn, w, v[2], "pvli_watch/%u");
	if (IS_ERR(t)) {
		ret = PTR_ERR(t);
		kfree(w);
	} else {
		wake_up_process(t);
		wait_for_completion(&w->done);
		kfree(last_watch);
		last_watch = w;
	}
	mutex_unlock(&watch_lock);
	return ret ?: len;
}

static int watch_show(struct seq_file *m, void *v)
{
	struct watch_run *w;

	mutex_lock(&watch_lock);
	w = last_watch;
	if (!w) {
		seq_puts(m, "no run yet: echo 'cpu=N ms=M on=C [min_us=U]' > watch\n");
	} else {
		seq_printf(m, "cpu %u reads %llu failed %llu missed %llu short %llu long %u\n",
			   w->cpu, w->reads, w->failed, w->missed, w->short_ones, w->nr);
		for (u32 i = 0; i < w->nr; i++)
			seq_printf(m, "preempted_us %llu missed %u\n", w->us[i], w->miss[i]);
	}
	mutex_unlock(&watch_lock);
	return 0;
}

/* ---- quota ------------------------------------------------------------------ */

struct quota_run {
	u64 end_ns;
	u64 unknown;		/* no quota known (uncapped and uncontended, no clock) */
	u64 blocked;		/* the vCPU blocked (not preempted) first: no truth */
	u64 missed;		/* several switches between two reads: no truth */
	u32 nr;
	s64 err_ns[QUOTA_MAX_SAMPLES];	/* predicted - actual */
	u64 pred_ns[QUOTA_MAX_SAMPLES];
	u64 actual_ns[QUOTA_MAX_SAMPLES];
	struct completion done;
};

static struct quota_run *last_quota;

/*
 * One sample: the quota the page promises now (host clock), then spin
 * reading our own record until it changes, which it can only do while we
 * are off the pCPU.  If exactly one switch-out and switch-in happened and
 * it was a preemption (preempt_count + 1), the switch-out was at the new
 * last_switch_ns (the switch-in) minus the wait the host added to steal.
 * A block (TCG vCPU threads block on QEMU's locks) ends the run quota the
 * host computed too, but it is not what the prediction is about: skipped.
 */
static void quota_sample(struct quota_run *q, int cpu)
{
	struct pvli_vcpu_host a, b;
	u64 now, pred, out;

	if (pvli_vcpu_snapshot(cpu, &a) || a.state != PVLI_STATE_RUNNING)
		return;
	now = pvli_host_now_ns();
	pred = now ? pvli_quota_left_ns(&a, now) : PVLI_QUOTA_UNKNOWN;
	if (pred == PVLI_QUOTA_UNKNOWN) {
		q->unknown++;
		return;
	}
	do {
		cpu_relax();
		if (pvli_vcpu_snapshot(cpu, &b))
			return;
	} while (b.seq == a.seq && ktime_get_ns() < q->end_ns);
	if (b.seq == a.seq)
		return;
	if (b.seq - a.seq != 4 || b.preempt_count != a.preempt_count + 1) {
		if (b.preempt_count == a.preempt_count)
			q->blocked++;
		else
			q->missed++;
		return;
	}
	out = b.last_switch_ns - (b.steal_ns - a.steal_ns);
	if (q->nr < QUOTA_MAX_SAMPLES && out >= now) {
		q->pred_ns[q->nr] = pred;
		q->actual_ns[q->nr] = out - now;
		q->err_ns[q->nr++] = (s64)pred - (s64)(out - now);
	}
}

static int quota_fn(void *arg)
{
	struct quota_run *q = arg;
	int cpu = smp_processor_id();
	u32 seed = 1;

	while (ktime_get_ns() < q->end_ns && q->nr < QUOTA_MAX_SAMPLES) {
		/* Start samples at spread-out points of a slice: 0-2 ms in. */
		u64 until = ktime_get_ns() + (seed % 2000) * NSEC_PER_USEC;

		seed = seed * 1103515245 + 12345;
		while (ktime_get_ns() < until)
			cpu_relax();
		preempt_disable();
		quota_sample(q, cpu);
		preempt_enable();
		cond_resched();
	}
	complete(&q->done);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* The value at per-mille @pm of sorted @v[@n]. */
static u64 pct_of(const u64 *v, u32 n, u32 pm)
{
	return n ? v[min_t(u32, n - 1, (u64)n * pm / 1000)] : 0;
}

static ssize_t quota_write(struct file *f, const char __user *ubuf, size_t len, loff_t *off)
{
	static const char *const keys[] = { "cpu", "ms" };
	unsigned int v[2] = { UINT_MAX, 5000 };
	struct task_struct *t;
	struct quota_run *q;
	char buf[64];
	int ret;

	ret = copy_params(ubuf, len, buf, sizeof(buf));
	if (ret)
		return ret;
	if (parse_kv(buf, keys, v, 2) || v[0] >= nr_cpu_ids || !cpu_online(v[0]) ||
	    !v[1] || v[1] > PROBE_MAX_MS)
		return -EINVAL;
	if (!pvli_available())
		return -ENODEV;
	q = kvzalloc(sizeof(*q), GFP_KERNEL);
	if (!q)
		return -ENOMEM;
	q->end_ns = ktime_get_ns() + (u64)v[1] * NSEC_PER_MSEC;
	init_completion(&q->done);

	mutex_lock(&quota_lock);
	t = kthread_create_on_cpu(quota_fn, q, v[0], "pvli_quota/%u");
	if (IS_ERR(t)) {
		ret = PTR_ERR(t);
		kvfree(q);
	} else {
		wake_up_process(t);
		wait_for_completion(&q->done);
		kvfree(last_quota);
		last_quota = q;
	}
	mutex_unlock(&quota_lock);
	return ret ?: len;
}

static int quota_show(struct seq_file *m, void *v)
{
	struct quota_run *q;
	u64 *abs_err, *pred, *actual;

	mutex_lock(&quota_lock);
	q = last_quota;
	if (!q) {
		seq_puts(m, "no run yet: echo 'cpu=N ms=M' > quota\n");
		goto out;
	}
	abs_err = kvmalloc_array(3 * (size_t)QUOTA_MAX_SAMPLES, sizeof(u64), GFP_KERNEL);
	if (!abs_err) {
		seq_puts(m, "out of memory\n");
		goto out;
	}
	pred = abs_err + QUOTA_MAX_SAMPLES;
	actual = pred + QUOTA_MAX_SAMPLES;
	for (u32 i = 0; i < q->nr; i++) {
		abs_err[i] = q->err_ns[i] < 0 ? -q->err_ns[i] : q->err_ns[i];
		pred[i] = q->pred_ns[i];
		actual[i] = q->actual_ns[i];
	}
	sort(abs_err, q->nr, sizeof(u64), cmp_u64, NULL);
	sort(pred, q->nr, sizeof(u64), cmp_u64, NULL);
	sort(actual, q->nr, sizeof(u64), cmp_u64, NULL);
	seq_printf(m, "samples %u unknown %llu blocked %llu missed %llu\n", q->nr, q->unknown,
		   q->blocked, q->missed);
	seq_printf(m, "abs_err_us p50 %llu p95 %llu\n", pct_of(abs_err, q->nr, 500) / 1000,
		   pct_of(abs_err, q->nr, 950) / 1000);
	seq_printf(m, "predicted_us p50 %llu actual_us p50 %llu max %llu\n",
		   pct_of(pred, q->nr, 500) / 1000, pct_of(actual, q->nr, 500) / 1000,
		   pct_of(actual, q->nr, 1000) / 1000);
	for (u32 i = 0; i < q->nr; i++)
		seq_printf(m, "sample %llu %llu\n", q->pred_ns[i], q->actual_ns[i]);
	kvfree(abs_err);
out:
	mutex_unlock(&quota_lock);
	return 0;
}

#define PROBE_FOPS(name)							\
static int name##_open(struct inode *inode, struct file *file)			\
{										\
	return single_open(file, name##_show, NULL);				\
}										\
static const struct file_operations name##_fops = {				\
	.owner = THIS_MODULE, .open = name##_open, .read = seq_read,		\
	.write = name##_write, .llseek = seq_lseek, .release = single_release,	\
}

PROBE_FOPS(hold);
PROBE_FOPS(watch);
PROBE_FOPS(quota);

int pvli_probe_init(void)
{
	debugfs_create_file("hold", 0600, pvli_debugfs_dir(), NULL, &hold_fops);
	debugfs_create_file("watch", 0600, pvli_debugfs_dir(), NULL, &watch_fops);
	debugfs_create_file("quota", 0600, pvli_debugfs_dir(), NULL, &quota_fops);
	return 0;
}

void pvli_probe_exit(void)
{
	kfree(last_watch);
	last_watch = NULL;
	kvfree(last_quota);
	last_quota = NULL;
}
