/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * pvlockinfo shared page ABI.
 *
 * The one definition of the page that the host BPF programs, pvlockd, the
 * guest module and the tests compile against (QEMU, started by
 * pvlock-qemu, only maps it).
 *
 * One page set per VM: a BPF_F_MMAPABLE array map on the host, the BAR2 of
 * an ivshmem-plain device in the guest.  Layout:
 *
 *   offset 0                 struct pvli_page_hdr        (2 cache lines)
 *   offset hdr_size          struct pvli_vcpu[0]         (vcpu_stride bytes)
 *   offset hdr_size + 1*stride  struct pvli_vcpu[1]
 *   ...                      nr_vcpus records in all
 *
 *   struct pvli_vcpu (128 bytes, 64-byte aligned)
 *   +-------------------------------+-------------------------------+
 *   | host half: written only by    | guest half: written only by   |
 *   | host BPF at scheduler events; | the guest, mostly by the vCPU |
 *   | read by the guest and pvlockd | it describes; read by host    |
 *   | (seqlock)                     | BPF while it is off-CPU       |
 *   +-------------------------------+-------------------------------+
 *        cache line 0                      cache line 1
 *
 * The halves sit on separate cache lines so that the guest's frequent
 * lock-state stores never bounce the line the host writes, and the other
 * way round.
 *
 * Writers and trust:
 *  - A vCPU's host half has several writers, not one: the host BPF
 *    program writes it at its thread's switch-out and switch-in, at its
 *    wakeup, when it runs without a reported switch-in (a repair) and at
 *    its exit, and a wakeup issued from another CPU can race the thread's
 *    own switch-in.  So the record's seqlock is also the writers' lock: a
 *    writer enters by a compare-and-swap of seq from even to odd and
 *    decides the new state inside (see struct pvli_vcpu_host).
 *  - pvlockd writes the header when it creates the page, and then only
 *    generation (when a new pvlockd re-adopts the page) and the clock
 *    fields (under clock_seq); the host BPF program writes heartbeat_ns.
 *  - The guest half is written by the guest: its lock fields by the vCPU
 *    they describe; flags (and the zeroing of the kernel_* fields when the
 *    takeover ends) by whichever CPU switches the takeover or brings the
 *    page live.
 *  - Guest-written fields are untrusted on the host: the host reads them
 *    with bounded loads, never follows them as pointers and never uses
 *    them as an index without a bound check.
 *  - A guest reads the page as untrusted too: a garbage, stale or missing
 *    page must make every query answer "unknown" (see pvli_page_check()).
 *
 * Times: all host times are host CLOCK_MONOTONIC nanoseconds (what
 * bpf_ktime_get_ns() returns).  The header's clock fields let the guest
 * turn its TSC into that time base; see pvli_host_now_ns().
 */
#ifndef __PVLI_ABI_H
#define __PVLI_ABI_H

#if defined(__KERNEL__)
#include <linux/types.h>
#elif !defined(__VMLINUX_H__)
#include <linux/types.h>
#endif

#define PVLI_PAGE_MAGIC		0x4b434f4c494c5650ULL	/* "PVLILOCK" little-endian */
#define PVLI_ABI_MAJOR		1	/* incompatible layout change */
#define PVLI_ABI_MINOR		1	/* compatible addition (1: kernel_* guest fields) */

#define PVLI_CACHELINE		64
#define PVLI_HDR_SIZE		128
#define PVLI_VCPU_STRIDE	128
#define PVLI_MAX_VCPUS		1024

/* header.accel */
enum pvli_accel {
	PVLI_ACCEL_UNKNOWN = 0,
	PVLI_ACCEL_TCG = 1,
	PVLI_ACCEL_KVM = 2,
};

/* pvli_vcpu_host.state */
enum pvli_vcpu_state {
	PVLI_STATE_UNKNOWN = 0,		/* never seen, or its thread is gone */
	PVLI_STATE_RUNNING = 1,		/* on a pCPU now */
	PVLI_STATE_PREEMPTED = 2,	/* runnable, but the host took the pCPU */
	PVLI_STATE_IDLE = 3,		/* blocked: the guest halted it */
	PVLI_STATE_MAX = 3,
};

/* quota_ns when the host cannot bound the remaining run time. */
#define PVLI_QUOTA_UNKNOWN	(~0ULL)
/* pcpu when the host does not publish it (the default: pvlockd register ... pcpu). */
#define PVLI_PCPU_UNKNOWN	(~0U)

/*
 * Page header.  Written by pvlockd; the BPF program bumps heartbeat_ns.
 *
 * Line 0 is static after creation (identity and geometry).  Line 1 holds
 * what changes: the heartbeat and the clock translation.
 */
struct pvli_page_hdr {
	/* --- line 0: identity and geometry, set once by pvlockd --- */
	__u64 magic;		/* PVLI_PAGE_MAGIC */
	__u16 abi_major;	/* PVLI_ABI_MAJOR: readers refuse another major */
	__u16 abi_minor;	/* PVLI_ABI_MINOR: readers accept any minor */
	__u32 hdr_size;		/* bytes; the first record starts here */
	__u32 page_size;	/* bytes of the whole page set */
	__u32 nr_vcpus;		/* records that follow the header */
	__u32 vcpu_stride;	/* bytes per record, >= sizeof(struct pvli_vcpu) */
	__u32 accel;		/* enum pvli_accel of the VM */
	__u32 generation;	/* set anew by each pvlockd that creates or re-adopts it */
	__u32 flags;		/* none defined yet; must be 0 */
	__u8  __pad0[PVLI_CACHELINE - 40];

	/* --- line 1: liveness and clock, updated while the VM runs --- */
	/*
	 * Host CLOCK_MONOTONIC ns of the last vCPU switch, wakeup or repair
	 * the host BPF program wrote into this page.  A guest that sees it
	 * stand still for PVLI_STALE_NS of its own time treats the page as
	 * stale (host side dead or detached).
	 */
	__u64 heartbeat_ns;
	/*
	 * Guest TSC to host CLOCK_MONOTONIC ns:
	 *   host_ns = clock_base_ns + ((tsc - clock_base_tsc) * clock_mult) >> clock_shift
	 * Written by pvlockd under clock_seq (seqlock, odd while writing).
	 * clock_mult == 0: no translation known; quotas cannot be projected.
	 */
	__u32 clock_seq;
	__u32 clock_shift;
	__u64 clock_mult;
	__u64 clock_base_tsc;
	__u64 clock_base_ns;
	__u8  __pad1[PVLI_CACHELINE - 40];
};

/* Stale after this much guest time without a heartbeat change. */
#define PVLI_STALE_NS		(1000ULL * 1000 * 1000)

/*
 * Host half of a vCPU record.  Writers: the programs of
 * bpf/host/host_sched.bpf.c, at every scheduler event of the vCPU's
 * thread, possibly on several CPUs at once.  Writer protocol, a seqlock
 * entered by compare-and-swap:
 *   enter: CAS seq from even to odd (full barrier); up to 64 tries
 *          while another writer is inside, then the update is dropped
 *          (and counted: pvli_vcpu_counters.dropped)
 *   write: the fields, state decided from the state found inside
 *   leave: atomic seq++ back to even (full barrier)
 * Reader protocol (guest/module/pvli_page.c, host/pvlockd_vm.c): read seq,
 * retry while odd; smp_rmb; copy the fields; smp_rmb; retry if seq moved.
 */
struct pvli_vcpu_host {
	__u32 seq;		/* odd while being written; seq/2 = updates written */
	__u32 state;		/* enum pvli_vcpu_state since last_switch_ns */
	__u64 last_switch_ns;	/* host ns of the last state change */
	/*
	 * Run time left at last_switch_ns before the host takes the pCPU
	 * away: min(EEVDF slice left, CFS bandwidth runtime left), rounded
	 * up to the host CPU's next scheduler tick at or after that (when
	 * the host notices; see to_tick() in bpf/host/host_sched.bpf.c).  Valid
	 * in state RUNNING; PVLI_QUOTA_UNKNOWN when it cannot be bounded.
	 */
	__u64 quota_ns;
	__u64 steal_ns;		/* total ns runnable but not running */
	__u64 run_ns;		/* total ns on a pCPU */
	__u32 preempt_count;	/* switch-outs while runnable (involuntary) */
	__u32 pcpu;		/* host CPU it last ran on, or PVLI_PCPU_UNKNOWN */
	__u32 lhp_count;	/* preemptions that hit a lock holder (any kind) */
	__u32 lwp_count;	/* preemptions that hit a lock waiter */
	__u8  __pad[PVLI_CACHELINE - 56];
};

/*
 * Guest half of a vCPU record.  Writer: the guest, on the vCPU itself
 * (single stores, no lock; flags excepted, see the top).  The host reads
 * it when the vCPU is not running (at its switch-out, and pvlockstat at
 * its wakeup), so it sees a settled value.  Untrusted on the host.
 */
struct pvli_vcpu_guest {
	__u32 hold_depth;	/* locks this vCPU holds now */
	__u32 flags;		/* PVLI_GUEST_* */
	__u64 wait_lock;	/* opaque id of the lock waited for; 0 = none */
	__u64 wait_since_ns;	/* guest clock ns when the wait began */
	__u64 lock_acquired;	/* acquisitions published (statistics) */
	/*
	 * The guest kernel's own spinlocks (minor 1), published while the
	 * takeover (pvlockinfo_takeover.ko) is applied with an entry that
	 * replaces spin_lock*() and spin_unlock*() (direct, livepatch; not
	 * its slowpath entry, which sees no uncontended acquisition), flag
	 * PVLI_GUEST_KERNEL_LOCKS.  Depth counts spin_lock*() acquisitions
	 * not yet released on this vCPU; waiting counts nested contended
	 * spin_lock*() calls in progress.  Zero when not published.
	 */
	__u32 kernel_hold_depth;
	__u32 kernel_waiting;
	__u8  __pad[PVLI_CACHELINE - 40];
};

#define PVLI_GUEST_ACTIVE	0x1	/* the guest module drives this record */
#define PVLI_GUEST_KERNEL_LOCKS	0x2	/* kernel_* fields are published */

struct pvli_vcpu {
	struct pvli_vcpu_host host;
	struct pvli_vcpu_guest guest;
} __attribute__((aligned(PVLI_CACHELINE)));

/* The ABI does not depend on the compiler: check it wherever it is built. */
#define __PVLI_ABI_ASSERT(cond, msg) _Static_assert(cond, msg)
__PVLI_ABI_ASSERT(sizeof(struct pvli_page_hdr) == PVLI_HDR_SIZE, "header size");
__PVLI_ABI_ASSERT(__builtin_offsetof(struct pvli_page_hdr, heartbeat_ns) ==
		  PVLI_CACHELINE, "heartbeat starts line 1");
__PVLI_ABI_ASSERT(sizeof(struct pvli_vcpu_host) == PVLI_CACHELINE, "host half");
__PVLI_ABI_ASSERT(sizeof(struct pvli_vcpu_guest) == PVLI_CACHELINE, "guest half");
__PVLI_ABI_ASSERT(sizeof(struct pvli_vcpu) == PVLI_VCPU_STRIDE, "record");

/* Bytes a page set for @nr_vcpus needs (before rounding to pages). */
static inline __u64 pvli_page_bytes(__u32 nr_vcpus)
{
	return PVLI_HDR_SIZE + (__u64)nr_vcpus * PVLI_VCPU_STRIDE;
}

/* Why a page was refused; pvli_page_check() returns one of these. */
enum pvli_page_error {
	PVLI_PAGE_OK = 0,
	PVLI_PAGE_TOO_SHORT,	/* mapping smaller than a header */
	PVLI_PAGE_BAD_MAGIC,	/* not a pvlockinfo page (or not yet set up) */
	PVLI_PAGE_BAD_MAJOR,	/* written for another major ABI */
	PVLI_PAGE_BAD_GEOMETRY,	/* hdr_size/vcpu_stride not what this ABI has */
	PVLI_PAGE_BAD_SIZE,	/* page_size larger than the mapping, or records overflow it */
	PVLI_PAGE_BAD_VCPUS,	/* nr_vcpus 0, above PVLI_MAX_VCPUS or below the guest's */
};

static inline const char *pvli_page_strerror(enum pvli_page_error e)
{
	switch (e) {
	case PVLI_PAGE_OK: return "valid";
	case PVLI_PAGE_TOO_SHORT: return "mapping is smaller than the header";
	case PVLI_PAGE_BAD_MAGIC: return "bad magic";
	case PVLI_PAGE_BAD_MAJOR: return "unsupported ABI major version";
	case PVLI_PAGE_BAD_GEOMETRY: return "unexpected header or record size";
	case PVLI_PAGE_BAD_SIZE: return "page size does not fit the mapping";
	case PVLI_PAGE_BAD_VCPUS: return "bad vCPU count";
	}
	return "unknown error";
}

/*
 * Validate a header read from a mapping of @map_len bytes, for a guest
 * with @guest_vcpus possible vCPUs (0: do not check).  Pure: the caller
 * passes a snapshot, so a concurrent writer cannot make a check pass and
 * the use that follows see other values.
 */
static inline enum pvli_page_error
pvli_page_check(const struct pvli_page_hdr *h, __u64 map_len, __u32 guest_vcpus)
{
	if (map_len < sizeof(*h))
		return PVLI_PAGE_TOO_SHORT;
	if (h->magic != PVLI_PAGE_MAGIC)
		return PVLI_PAGE_BAD_MAGIC;
	if (h->abi_major != PVLI_ABI_MAJOR)
		return PVLI_PAGE_BAD_MAJOR;
	if (h->hdr_size != PVLI_HDR_SIZE || h->vcpu_stride != PVLI_VCPU_STRIDE)
		return PVLI_PAGE_BAD_GEOMETRY;
	if (h->nr_vcpus == 0 || h->nr_vcpus > PVLI_MAX_VCPUS ||
	    (guest_vcpus && h->nr_vcpus < guest_vcpus))
		return PVLI_PAGE_BAD_VCPUS;
	if (h->page_size > map_len || pvli_page_bytes(h->nr_vcpus) > h->page_size)
		return PVLI_PAGE_BAD_SIZE;
	return PVLI_PAGE_OK;
}

/*
 * Run time the vCPU described by @rec (a consistent snapshot) has left at
 * host time @now_ns, or PVLI_QUOTA_UNKNOWN.  A vCPU that is not running
 * has none left.  A quota already used up reads 0, not a wrapped value.
 */
static inline __u64 pvli_quota_left_ns(const struct pvli_vcpu_host *rec, __u64 now_ns)
{
	__u64 used;

	if (rec->state != PVLI_STATE_RUNNING)
		return rec->state == PVLI_STATE_UNKNOWN ? PVLI_QUOTA_UNKNOWN : 0;
	if (rec->quota_ns == PVLI_QUOTA_UNKNOWN)
		return PVLI_QUOTA_UNKNOWN;
	used = now_ns > rec->last_switch_ns ? now_ns - rec->last_switch_ns : 0;
	return used >= rec->quota_ns ? 0 : rec->quota_ns - used;
}

#ifndef __bpf__
/*
 * Host CLOCK_MONOTONIC ns for guest TSC value @tsc, from the clock fields
 * of a consistent header snapshot; 0 when no translation is known.  TSC
 * values before clock_base_tsc translate backwards.  The 128-bit product
 * keeps (delta * mult) exact for any delta.  Not for BPF: only the guest
 * and user space translate clocks.
 */
static inline __u64 pvli_tsc_to_host_ns(const struct pvli_page_hdr *h, __u64 tsc)
{
	__s64 delta = (__s64)(tsc - h->clock_base_tsc);
	__u64 ns;

	if (!h->clock_mult || h->clock_shift > 63)
		return 0;
	if (delta >= 0) {
		ns = (__u64)(((unsigned __int128)delta * h->clock_mult) >> h->clock_shift);
		return h->clock_base_ns + ns;
	}
	ns = (__u64)(((unsigned __int128)(-(__u64)delta) * h->clock_mult) >> h->clock_shift);
	return h->clock_base_ns - ns;
}
#endif

#endif /* __PVLI_ABI_H */
