/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * pvlockinfo user-space ABI: what /dev/pvlockinfo maps into a process.
 *
 * The character device of pvlockinfo.ko gives applications (libpvlock)
 * both levels of double scheduling, read-only:
 *
 *   mmap offset PVLI_UAPI_VIEW_OFFSET   the scheduler view: a header and
 *       (0)                             one record per guest CPU naming
 *                                       the thread that runs there now,
 *                                       written by the guest kernel at
 *                                       every sched_switch
 *   mmap offset PVLI_UAPI_HOST_OFFSET   the host's page (include/pvli_abi.h),
 *       (1 MiB)                         the same memory the driver reads:
 *                                       each vCPU's state on the host
 *
 *   view:
 *   +-------------------------+  0
 *   | struct pvli_uview_hdr   |  one cache line, kernel-written
 *   +-------------------------+  hdr_size
 *   | struct pvli_ucpu [0]    |  one cache line per CPU, written only by
 *   | struct pvli_ucpu [1]    |  that CPU, in its sched_switch
 *   | ...  nr_cpus records    |
 *   +-------------------------+
 *
 * A lock holder records (its CPU, its TID) when it takes a lock.  A
 * waiter then tells the two ways a holder stops making progress apart:
 *   - the guest descheduled the holder thread:  cpu[c].tid != holder TID
 *     (a thread that moved to another CPU was descheduled on the way);
 *   - the host descheduled the vCPU under it: the host page's record c
 *     says PREEMPTED or IDLE.
 *
 * Trust and writers:
 *  - Every mapping is read-only: the device refuses writable opens and
 *    writable or private-writable mappings, and clears VM_MAYWRITE, so
 *    mprotect() cannot add write access either.  Nothing a process does
 *    through the device writes the kernel's or the host's fields.
 *  - The view's per-CPU records are written with plain stores by their
 *    own CPU with interrupts off: a reader sees each 32-bit field whole.
 *  - The header's host_* fields say whether the driver trusts the host
 *    page now (bound, valid, fresh: the verdict pvli_available() gives
 *    inside the kernel).  While host_live is 0, the host mapping reads
 *    zeros or stale records: readers must not use it.  When the device
 *    is unbound the driver replaces the host mapping by zero pages.
 *  - TIDs are those of the initial PID namespace; a process in another
 *    namespace cannot match them (libpvlock checks and falls back).
 *
 * Versioning follows the page: a reader refuses another major and
 * accepts any minor (fields are only ever added, in reserved space).
 */
#ifndef __PVLI_UAPI_H
#define __PVLI_UAPI_H

#include <linux/types.h>

#define PVLI_UAPI_DEVICE	"/dev/pvlockinfo"
#define PVLI_UAPI_MAGIC		0x57454956494c5650ULL	/* "PVLIVIEW" little-endian */
#define PVLI_UAPI_MAJOR		1	/* incompatible change */
#define PVLI_UAPI_MINOR		0	/* compatible addition */

/* mmap offsets (bytes); each region must be mapped from its start. */
#define PVLI_UAPI_VIEW_OFFSET	0ULL
#define PVLI_UAPI_HOST_OFFSET	(1ULL << 20)
/* Largest mapping of the host region: the page for PVLI_MAX_VCPUS fits. */
#define PVLI_UAPI_HOST_MAX	(1ULL << 20)

#define PVLI_UAPI_HDR_SIZE	64
#define PVLI_UAPI_CPU_STRIDE	64

/* pvli_uview_hdr.flags */
#define PVLI_UVIEW_SCHED	0x1	/* the per-CPU records are being written */

/*
 * View header.  Written by the kernel only; identity and geometry are
 * set once when the module loads, the rest changes as it happens.
 */
struct pvli_uview_hdr {
	__u64 magic;		/* PVLI_UAPI_MAGIC */
	__u16 abi_major;	/* PVLI_UAPI_MAJOR: readers refuse another major */
	__u16 abi_minor;	/* PVLI_UAPI_MINOR: readers accept any minor */
	__u32 hdr_size;		/* bytes; the first CPU record starts here */
	__u32 cpu_stride;	/* bytes per CPU record */
	__u32 nr_cpus;		/* CPU records that follow (nr_cpu_ids) */
	__u32 view_size;	/* bytes a mapping at PVLI_UAPI_VIEW_OFFSET may cover */
	__u32 flags;		/* PVLI_UVIEW_* */
	/*
	 * The host page: host_live is 1 while the driver trusts it (the
	 * records at PVLI_UAPI_HOST_OFFSET then are the live page);
	 * host_size is the bytes the device maps there (0: no device bound);
	 * host_gen is bumped after every change of the two.
	 */
	__u32 host_live;
	__u32 host_size;
	__u32 host_gen;
	__u8  __reserved[PVLI_UAPI_HDR_SIZE - 44];
};

/*
 * One guest CPU.  Writer: that CPU, at every context switch while at
 * least one process has the device open (the flag PVLI_UVIEW_SCHED).
 */
struct pvli_ucpu {
	__u32 tid;		/* thread running here now (0: the idle task) */
	__u32 switches;		/* context switches seen here (wraps) */
	__u8  __reserved[PVLI_UAPI_CPU_STRIDE - 8];
} __attribute__((aligned(64)));

#define __PVLI_UAPI_ASSERT(cond, msg) _Static_assert(cond, msg)
__PVLI_UAPI_ASSERT(sizeof(struct pvli_uview_hdr) == PVLI_UAPI_HDR_SIZE, "view header");
__PVLI_UAPI_ASSERT(sizeof(struct pvli_ucpu) == PVLI_UAPI_CPU_STRIDE, "CPU record");

/* Bytes of a view for @nr_cpus CPUs (before rounding to pages). */
static inline __u64 pvli_uview_bytes(__u32 nr_cpus)
{
	return PVLI_UAPI_HDR_SIZE + (__u64)nr_cpus * PVLI_UAPI_CPU_STRIDE;
}

/*
 * Whether a view header read from a mapping of @map_len bytes can be
 * used: magic, major, geometry and size.  0 or a negative errno.
 */
static inline int pvli_uview_check(const struct pvli_uview_hdr *h, __u64 map_len)
{
	if (map_len < sizeof(*h) || h->magic != PVLI_UAPI_MAGIC)
		return -22;	/* EINVAL */
	if (h->abi_major != PVLI_UAPI_MAJOR)
		return -95;	/* EOPNOTSUPP */
	if (h->hdr_size != PVLI_UAPI_HDR_SIZE || h->cpu_stride != PVLI_UAPI_CPU_STRIDE ||
	    h->nr_cpus == 0 || pvli_uview_bytes(h->nr_cpus) > map_len)
		return -22;
	return 0;
}

#endif /* __PVLI_UAPI_H */
