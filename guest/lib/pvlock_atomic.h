/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libpvlock internals, the ground floor: atomics (every racy access says
 * its ordering), the pause, and the attributes every unit uses.
 */
#ifndef __PVLOCK_ATOMIC_H
#define __PVLOCK_ATOMIC_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#define PVL_HIDDEN __attribute__((visibility("hidden")))
#define PVL_TLS __attribute__((tls_model("initial-exec")))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* ---- atomics: every racy access says its ordering ---------------------- */
#define LOAD(p)			__atomic_load_n((p), __ATOMIC_RELAXED)
#define LOAD_ACQ(p)		__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v)		__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define STORE_REL(p, v)		__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define XCHG_ACQ(p, v)		__atomic_exchange_n((p), (v), __ATOMIC_ACQUIRE)
#define XCHG_REL(p, v)		__atomic_exchange_n((p), (v), __ATOMIC_RELEASE)
#define XCHG_ACQREL(p, v)	__atomic_exchange_n((p), (v), __ATOMIC_ACQ_REL)
/* Compare-and-swap that acquires on success (a lock taken). */
#define CAS_ACQ(p, old, new) ({ __typeof__(*(p)) __o = (old); \
	__atomic_compare_exchange_n((p), &__o, (new), false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED); })
#define CAS_REL(p, old, new) ({ __typeof__(*(p)) __o = (old); \
	__atomic_compare_exchange_n((p), &__o, (new), false, __ATOMIC_RELEASE, __ATOMIC_RELAXED); })

static inline void pvl_pause(void)
{
	__builtin_ia32_pause();
}

static inline void pvl_pause_n(unsigned int n)
{
	while (n--)
		__builtin_ia32_pause();
}

/*
 * The longest gap between two looks at a lock's cache line by a
 * spinning waiter, in pauses (a pause is 10 to 60 ns, more in a nested
 * guest): short against the time a holder may be descheduled, long
 * against a tight lock/unlock loop's iteration.
 */
#define PVL_POLL_MAX	16

#endif /* __PVLOCK_ATOMIC_H */
