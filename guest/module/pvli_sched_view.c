// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockinfo: the guest scheduler view for user space.
 *
 * One record per CPU naming the thread that runs there now
 * (include/pvli_uapi.h), written by a probe on the sched_switch
 * tracepoint and mapped read-only into processes by /dev/pvlockinfo
 * (pvli_chardev.c).  A user-space lock compares its holder's TID with
 * the record of the holder's CPU to tell a descheduled holder thread
 * from a running one; the host page tells it whether the vCPU under a
 * running thread runs.
 *
 * Why a tracepoint probe in the module rather than a guest BPF program
 * on an mmapable map (the seed's approach): the probe is a direct call
 * that does two stores, where a tp_btf program goes through the BPF
 * trampoline (run-context set-up, migrate and RCU bookkeeping) on every
 * switch; and the module already owns the device, so no loader process
 * has to keep a map pinned.  schedview-cost (guest/tools/schedview_cost.c)
 * measures both in the guest (the numbers are in README.md).
 *
 * The probe is registered only while some process has the device open
 * (users > 0): a guest that runs no libpvlock program pays nothing per
 * context switch.  Registration seeds every CPU's record with an IPI
 * that runs after the probe is live, so no record keeps a thread that
 * left before the probe saw the switch.
 *
 * Invariant: view->cpu[c] is written only on CPU c, from the probe
 * (interrupts off, runqueue locked) or the seeding IPI (interrupts
 * off), so the two never interleave and each field is written whole.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <linux/vmalloc.h>

#include "pvlockinfo.h"
#include "pvli_uapi.h"

static struct pvli_uview_hdr *view;	/* vmalloc_user(), view_bytes long */
static size_t view_bytes;
static struct tracepoint *sched_switch_tp;
static DEFINE_MUTEX(users_mutex);
static unsigned int users;		/* open files; the probe is on while > 0 */

static inline struct pvli_ucpu *view_cpu(int cpu)
{
	return (struct pvli_ucpu *)((char *)view + PVLI_UAPI_HDR_SIZE) + cpu;
}

static void notrace probe_sched_switch(void *data, bool preempt, struct task_struct *prev,
				       struct task_struct *next, unsigned int prev_state)
{
	struct pvli_ucpu *c = view_cpu(smp_processor_id());

	WRITE_ONCE(c->tid, next->pid);
	WRITE_ONCE(c->switches, c->switches + 1);
}

/* IPI: this CPU's record names the thread it runs now. */
static void seed_cpu(void *unused)
{
	struct pvli_ucpu *c = view_cpu(smp_processor_id());

	WRITE_ONCE(c->tid, current->pid);
}

static void find_sched_switch(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "sched_switch"))
		sched_switch_tp = tp;
}

/**
 * pvli_sched_view_get - a process opened the device: keep the view live
 *
 * Return: 0, or the tracepoint's error (the view then stays unwritten
 * and its PVLI_UVIEW_SCHED flag clear, which readers see).
 */
int pvli_sched_view_get(void)
{
	int ret = 0;

	mutex_lock(&users_mutex);
	if (users == 0) {
		ret = tracepoint_probe_register(sched_switch_tp, probe_sched_switch, NULL);
		if (ret) {
			pr_warn("sched_switch probe: error %d; the user-space view stays empty\n",
				ret);
			goto out;
		}
		on_each_cpu(seed_cpu, NULL, 1);
		/* Readers that see the flag see seeded records: pairs with their acquire. */
		smp_store_release(&view->flags, view->flags | PVLI_UVIEW_SCHED);
	}
	users++;
out:
	mutex_unlock(&users_mutex);
	return ret;
}

/* The last user closed the device: stop paying for the probe. */
void pvli_sched_view_put(void)
{
	mutex_lock(&users_mutex);
	if (!WARN_ON_ONCE(users == 0) && --users == 0) {
		WRITE_ONCE(view->flags, view->flags & ~PVLI_UVIEW_SCHED);
		tracepoint_probe_unregister(sched_switch_tp, probe_sched_switch, NULL);
	}
	mutex_unlock(&users_mutex);
}

/* Publish the driver's verdict on the host page (see pvli_uapi.h). */
void pvli_sched_view_set_host(bool live, u32 size)
{
	WRITE_ONCE(view->host_live, live);
	WRITE_ONCE(view->host_size, size);
	smp_wmb();	/* pairs with the reader's smp_rmb() after host_gen */
	WRITE_ONCE(view->host_gen, view->host_gen + 1);
}

/* Map the view read-only into @vma (the caller checked the flags). */
int pvli_sched_view_mmap(struct vm_area_struct *vma)
{
	if (vma->vm_end - vma->vm_start > view_bytes)
		return -EINVAL;
	return remap_vmalloc_range(vma, view, 0);
}

int pvli_sched_view_status(char *buf, size_t len)
{
	unsigned int n;

	mutex_lock(&users_mutex);
	n = users;
	mutex_unlock(&users_mutex);
	return scnprintf(buf, len, "user_view: %u open, sched_switch probe %s, host_live %u\n", n,
			 n ? "on" : "off", READ_ONCE(view->host_live));
}

int pvli_sched_view_init(void)
{
	for_each_kernel_tracepoint(find_sched_switch, NULL);
	if (!sched_switch_tp) {
		pr_err("no sched_switch tracepoint in this kernel\n");
		return -ENOENT;
	}
	view_bytes = PAGE_ALIGN(pvli_uview_bytes(nr_cpu_ids));
	view = vmalloc_user(view_bytes);	/* zeroed */
	if (!view)
		return -ENOMEM;
	view->magic = PVLI_UAPI_MAGIC;
	view->abi_major = PVLI_UAPI_MAJOR;
	view->abi_minor = PVLI_UAPI_MINOR;
	view->hdr_size = PVLI_UAPI_HDR_SIZE;
	view->cpu_stride = PVLI_UAPI_CPU_STRIDE;
	view->nr_cpus = nr_cpu_ids;
	view->view_size = view_bytes;
	return 0;
}

/* After the device is gone: no file is open, so the probe is off. */
void pvli_sched_view_exit(void)
{
	WARN_ON_ONCE(users);
	/* A probe call still running on another CPU must not see the view freed. */
	tracepoint_synchronize_unregister();
	vfree(view);
}
