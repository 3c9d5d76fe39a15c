/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pvlockinfo guest API: what the host says about this VM's vCPUs.
 *
 * Every query answers "unknown" (PVLI_STATE_UNKNOWN, false,
 * PVLI_QUOTA_UNKNOWN, -ENODEV) when there is no page, when the page is
 * garbage, and when it is stale (the host stopped writing it), so callers
 * fall back to plain behaviour.  Linux CPU numbers are taken to be QEMU
 * vCPU indexes (true for x86 with QEMU's default topology).
 */
#ifndef __PVLOCKINFO_H
#define __PVLOCKINFO_H

#include <linux/percpu.h>
#include <linux/types.h>
#include "pvli_abi.h"

bool pvli_available(void);
enum pvli_vcpu_state pvli_vcpu_state(int cpu);
bool pvli_vcpu_preempted(int cpu);
bool pvli_vcpu_preempted_atomic(int cpu);
u64 pvli_vcpu_quota_ns(int cpu);
int pvli_vcpu_snapshot(int cpu, struct pvli_vcpu_host *out);
u64 pvli_host_now_ns(void);
u64 pvli_vcpu_steal_ns(int cpu);
u64 pvli_own_steal_ns_atomic(void);
bool pvli_own_clocks_atomic(u64 *steal, u64 *run);

/* Publish this vCPU's lock state (the guest half of its record). */
void pvli_publish_hold(int delta);
void pvli_publish_wait(u64 lock_id);
int pvli_vcpu_guest_snapshot(int cpu, struct pvli_vcpu_guest *out);
void pvli_publish_kernel_flag(bool on);
/*
 * This CPU's guest half of its record while the page is live, else NULL:
 * for code that publishes from inside the kernel's own spinlocks (the
 * takeover), with preemption off, which makes it an RCU reader; the
 * mapping outlives such readers.
 */
DECLARE_PER_CPU(struct pvli_vcpu_guest *, pvli_own_guest);
/* Its kernel_hold_depth, or a per-CPU sink while there is none: never NULL. */
DECLARE_PER_CPU(u32 *, pvli_own_depth);

/* The driver's debugfs directory, where the test module adds its files. */
struct dentry;
struct dentry *pvli_debugfs_dir(void);

/*
 * Takeover mode (pvli_takeover_ctl.c): pvlockinfo owns the switch, the
 * livepatch module pvlockinfo_takeover.ko does the work and registers.
 */
extern bool pvli_takeover_active;
extern bool pvli_takeover_queue;
/* @kernel_fields: it publishes hold depths and waits (the page's kernel_*). */
void pvli_takeover_register(const char *entry, bool kernel_fields, void (*switched)(bool on));
void pvli_takeover_unregister(void);
void pvli_takeover_refused(const char *why);

/* module-internal */
int pvli_page_init(void (*changed)(bool live, u32 size));
void pvli_page_exit(void);
int pvli_debugfs_init(void);
void pvli_debugfs_exit(void);
int pvli_page_status(char *buf, size_t len);
int pvli_takeover_ctl_init(void);
void pvli_takeover_ctl_exit(void);
int pvli_takeover_status(char *buf, size_t len);

/* BPF kfuncs for guest tracing (pvli_kfunc.c) */
int pvli_kfunc_init(void);

/* /dev/pvlockinfo (pvli_chardev.c) and its scheduler view (pvli_sched_view.c) */
int pvli_chardev_init(void);
void pvli_chardev_exit(void);
void pvli_chardev_host_changed(bool live, u32 size);
bool pvli_page_user_pfn(unsigned long pgoff, unsigned long *pfn);
struct vm_area_struct;
int pvli_sched_view_init(void);
void pvli_sched_view_exit(void);
int pvli_sched_view_get(void);
void pvli_sched_view_put(void);
void pvli_sched_view_set_host(bool live, u32 size);
int pvli_sched_view_mmap(struct vm_area_struct *vma);
int pvli_sched_view_status(char *buf, size_t len);

#endif /* __PVLOCKINFO_H */
