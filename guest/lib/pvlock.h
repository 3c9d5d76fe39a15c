/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libpvlock: user-space locks that see both levels of double scheduling.
 *
 * A waiter spins while the lock's holder thread runs on a CPU whose vCPU
 * runs, and blocks on a futex once the guest has descheduled the thread
 * or the host the vCPU under it.  Queued waiters do not wait behind a
 * predecessor that is not running.  What runs where comes from
 * /dev/pvlockinfo (pvlockinfo.ko, include/pvli_uapi.h).
 *
 * Knowledge levels, best first; a process uses the best it can get:
 *   PVLOCK_LEVEL_BOTH   the guest's scheduler view and the host's page
 *   PVLOCK_LEVEL_GUEST  the guest's view only (FlexGuard's knowledge):
 *                       no host page, or the host page is not live
 *   PVLOCK_LEVEL_FUTEX  no device: a plain futex mutex (glibc's
 *                       protocol: 0 free, 1 locked, 2 contended)
 * The environment variable PVLOCK_LEVEL=both|guest|futex caps it.
 *
 * pvlock_mutex_t has the size and alignment of pthread_mutex_t and
 * leaves its glibc "kind" field alone, so the LD_PRELOAD interposer
 * (libpvlock-preload.so) runs default and adaptive pthread mutexes in
 * place.  Locks are process-private; a mutex must not be shared across
 * processes (pthread's process-shared mutexes stay with glibc).
 */
#ifndef __PVLOCK_H
#define __PVLOCK_H

#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PVLOCK_VERSION_MAJOR	1
#define PVLOCK_VERSION_MINOR	0

enum pvlock_level {
	PVLOCK_LEVEL_FUTEX = 0,
	PVLOCK_LEVEL_GUEST = 1,
	PVLOCK_LEVEL_BOTH = 2,
};

/*
 * Zero is unlocked (PVLOCK_MUTEX_INITIALIZER).  Fields are private:
 *   word    the futex word, glibc's protocol (offset of __lock)
 *   holder  (CPU << 32 | TID) of the holder, 0 while unknown
 *   tail    last waiter queued to spin (struct pvl_node *)
 */
typedef struct pvlock_mutex {
	uint32_t word;
	uint32_t __glibc_count_owner_nusers[3];
	int32_t __glibc_kind;		/* untouched: the interposer reads it */
	uint32_t __glibc_spins;
	uint64_t holder;
	void *tail;
} pvlock_mutex_t;

#define PVLOCK_MUTEX_INITIALIZER { 0 }

/*
 * A spinlock in one 32-bit word (pthread_spinlock_t's size): 0 free,
 * else the holder's (CPU << 22 | TID).  Its waiters queue in a table
 * hashed by lock address and never sleep: they yield while the holder
 * is not running.
 */
typedef struct pvlock_spin {
	uint32_t word;
} pvlock_spin_t;

#define PVLOCK_SPIN_INITIALIZER { 0 }

int pvlock_mutex_init(pvlock_mutex_t *m);
int pvlock_mutex_lock(pvlock_mutex_t *m);
int pvlock_mutex_trylock(pvlock_mutex_t *m);
/* ETIMEDOUT once @abstime on @clock (REALTIME or MONOTONIC) passed. */
int pvlock_mutex_timedlock(pvlock_mutex_t *m, clockid_t clock, const struct timespec *abstime);
int pvlock_mutex_unlock(pvlock_mutex_t *m);

int pvlock_spin_init(pvlock_spin_t *s);
int pvlock_spin_lock(pvlock_spin_t *s);
int pvlock_spin_trylock(pvlock_spin_t *s);
int pvlock_spin_unlock(pvlock_spin_t *s);

/* The level this process runs at now (the host page may come and go). */
enum pvlock_level pvlock_level(void);
const char *pvlock_level_name(enum pvlock_level level);

/* What the slow paths did in this process, since it started. */
struct pvlock_stats {
	uint64_t slow;		/* acquisitions that did not take a free lock at once */
	uint64_t blocks;	/* futex waits (mutex) or yields (spin) */
	uint64_t holder_off_guest;	/* waits: holder thread descheduled by the guest */
	uint64_t holder_off_host;	/* waits: holder's vCPU descheduled by the host */
	uint64_t bypasses;	/* queued waiters that passed a predecessor not running */
};
void pvlock_stats_get(struct pvlock_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* __PVLOCK_H */
