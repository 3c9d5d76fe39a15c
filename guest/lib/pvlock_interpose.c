// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libpvlock-preload.so: libpvlock under unmodified programs.
 *
 *   LD_PRELOAD=libpvlock-preload.so program
 *
 * Like litl (Guiroux et al., ATC'16), which FlexGuard uses, the library
 * defines pthread's lock functions so that the dynamic linker binds a
 * program's calls to them here; glibc's own functions are reached with
 * dlsym(RTLD_NEXT).  What runs where:
 *
 *   pthread_mutex_*  default (NORMAL) and ADAPTIVE process-private
 *                    mutexes run on pvlock_mutex in place, inside the
 *                    pthread_mutex_t; error-checking, recursive, robust,
 *                    priority and process-shared ones go to glibc
 *                    unchanged (their semantics are glibc's).
 *   pthread_spin_*   every spinlock runs on pvlock_spin (the word fits).
 *   pthread_cond_*   glibc's condition variable releases and retakes the
 *                    mutex through glibc-internal calls this library
 *                    cannot see, so process-private condition variables
 *                    are implemented here, on a futex (pvlock_cond.c),
 *                    for every kind of mutex; process-shared ones go to
 *                    glibc with their (glibc) mutexes.
 *
 *   mtx_*, cnd_*     C11's locks.  glibc implements them on its own
 *                    pthread functions through internal calls that do
 *                    not pass the dynamic linker, so interposing
 *                    pthread_* alone misses them (a C11 program would
 *                    silently keep glibc's mutex).  They are interposed
 *                    here too and routed as above: mtx_plain and
 *                    mtx_timed mutexes are NORMAL (libpvlock),
 *                    mtx_recursive ones stay glibc's.
 *
 * Not reachable: statically linked programs.  LD_PRELOAD is the dynamic
 * linker's; a static program has none, binds pthread_mutex_lock to its
 * own copy of glibc at link time, ignores LD_PRELOAD and keeps glibc's
 * mutexes (correctly, only without libpvlock).  Such a program must be
 * rebuilt against libpvlock.a and call pvlock_mutex_*() itself.
 *
 * The layout that makes this work (checked below at compile time): a
 * pvlock_mutex_t keeps its word at glibc's __lock, never writes __kind
 * or the fields glibc's pthread_mutex_destroy() checks, and glibc's
 * pthread_mutex_init() zeroes the whole object.  The word's protocol is
 * glibc's (0, 1, 2), so even a glibc-internal path that met one of our
 * mutexes would lock it compatibly.
 *
 * PVLOCK_PRELOAD selects what default mutexes get:
 *   pvlock    (default) libpvlock, at the level PVLOCK_LEVEL allows
 *   adaptive  glibc's adaptive mutex (the benches' baseline for
 *             programs that cannot be rebuilt with PTHREAD_MUTEX_ADAPTIVE_NP)
 *   off       glibc for everything
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include "pvlock_cond.h"
#include "pvlock_mutex.h"

#define PVL_EXPORT __attribute__((visibility("default")))

_Static_assert(sizeof(pvlock_mutex_t) == sizeof(pthread_mutex_t), "mutex size");
_Static_assert(_Alignof(pvlock_mutex_t) <= _Alignof(pthread_mutex_t), "mutex alignment");
_Static_assert(offsetof(pthread_mutex_t, __data.__lock) == offsetof(pvlock_mutex_t, word), "word");
_Static_assert(offsetof(pthread_mutex_t, __data.__kind) ==
	       offsetof(pvlock_mutex_t, __glibc_kind), "kind stays glibc's");
_Static_assert(offsetof(pthread_mutex_t, __data.__list) == offsetof(pvlock_mutex_t, holder),
	       "holder sits in the robust list, unused by our kinds");
_Static_assert(sizeof(pvlock_spin_t) == sizeof(pthread_spinlock_t), "spinlock size");
_Static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t), "a C11 mutex is glibc's pthread mutex");
_Static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t), "a C11 condition is glibc's pthread one");

/* glibc's kind bits that do not change the semantics (lock elision). */
#define GLIBC_KIND_ELISION	(256 | 512)

enum preload_mode { MODE_UNSET = 0, MODE_PVLOCK, MODE_ADAPTIVE, MODE_OFF };
static int mode;

static int get_mode(void)
{
	int m = LOAD(&mode);
	const char *s;

	if (likely(m))
		return m;
	s = getenv("PVLOCK_PRELOAD");
	if (s && !strcmp(s, "off"))
		m = MODE_OFF;
	else if (s && !strcmp(s, "adaptive"))
		m = MODE_ADAPTIVE;
	else
		m = MODE_PVLOCK;
	STORE(&mode, m);
	return m;
}

__attribute__((constructor)) static void preload_init(void)
{
	get_mode();
}

/* ---- glibc's functions -------------------------------------------------------- */
#define REAL(name) ({ \
	static __typeof__(&name) real_fn; \
	__typeof__(&name) fn = LOAD(&real_fn); \
	if (unlikely(!fn)) { \
		fn = (__typeof__(&name))dlsym(RTLD_NEXT, #name); \
		if (!fn) \
			abort(); \
		STORE(&real_fn, fn); \
	} \
	fn; })

/*
 * Whether @m runs on libpvlock: a default or adaptive, private mutex.
 * glibc's pthread_mutex_init() keeps PTHREAD_PROCESS_SHARED as a bit of
 * __kind (128), as it does robustness (16) and the priority protocols,
 * so any of them makes the kind compare unequal and the mutex glibc's:
 * a process-shared mutex needs shared futexes and holders named across
 * processes, which glibc has and libpvlock's mutex does not.
 */
static inline bool ours(const pthread_mutex_t *m)
{
	int kind;

	if (unlikely(get_mode() != MODE_PVLOCK))
		return false;
	kind = LOAD(&m->__data.__kind) & ~GLIBC_KIND_ELISION;
	return kind == PTHREAD_MUTEX_NORMAL || kind == PTHREAD_MUTEX_ADAPTIVE_NP;
}

/* PVLOCK_PRELOAD=adaptive: a default mutex becomes glibc-adaptive on first use. */
static inline void make_adaptive(pthread_mutex_t *m)
{
	if (unlikely(get_mode() == MODE_ADAPTIVE))
		CAS_ACQ(&m->__data.__kind, PTHREAD_MUTEX_NORMAL, PTHREAD_MUTEX_ADAPTIVE_NP);
}

/* ---- mutexes ---------------------------------------------------------------- */
PVL_EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
	if (likely(ours(m)))
		return pvl_mutex_lock_inline((pvlock_mutex_t *)m);
	make_adaptive(m);
	return REAL(pthread_mutex_lock)(m);
}

PVL_EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
	if (likely(ours(m)))
		return pvl_mutex_trylock_inline((pvlock_mutex_t *)m);
	make_adaptive(m);
	return REAL(pthread_mutex_trylock)(m);
}

PVL_EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
	if (likely(ours(m)))
		return pvl_mutex_unlock_inline((pvlock_mutex_t *)m);
	return REAL(pthread_mutex_unlock)(m);
}

PVL_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abstime)
{
	if (ours(m))
		return pvlock_mutex_timedlock((pvlock_mutex_t *)m, CLOCK_REALTIME, abstime);
	make_adaptive(m);
	return REAL(pthread_mutex_timedlock)(m, abstime);
}

PVL_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clock,
				       const struct timespec *abstime)
{
	if (ours(m))
		return pvlock_mutex_timedlock((pvlock_mutex_t *)m, clock, abstime);
	make_adaptive(m);
	return REAL(pthread_mutex_clocklock)(m, clock, abstime);
}

/* ---- spinlocks ------------------------------------------------------------- */
PVL_EXPORT int pthread_spin_init(pthread_spinlock_t *s, int pshared)
{
	if (get_mode() != MODE_PVLOCK)
		return REAL(pthread_spin_init)(s, pshared);
	return pvlock_spin_init((pvlock_spin_t *)s);
}

PVL_EXPORT int pthread_spin_lock(pthread_spinlock_t *s)
{
	if (unlikely(get_mode() != MODE_PVLOCK))
		return REAL(pthread_spin_lock)(s);
	return pvlock_spin_lock((pvlock_spin_t *)s);
}

PVL_EXPORT int pthread_spin_trylock(pthread_spinlock_t *s)
{
	if (unlikely(get_mode() != MODE_PVLOCK))
		return REAL(pthread_spin_trylock)(s);
	return pvlock_spin_trylock((pvlock_spin_t *)s);
}

PVL_EXPORT int pthread_spin_unlock(pthread_spinlock_t *s)
{
	if (unlikely(get_mode() != MODE_PVLOCK))
		return REAL(pthread_spin_unlock)(s);
	return pvlock_spin_unlock((pvlock_spin_t *)s);
}

/* ---- condition variables ------------------------------------------------------- */
/* The mutex a condition variable waits with: ours, or glibc's. */
static int cv_unlock(pthread_mutex_t *m)
{
	return ours(m) ? pvlock_mutex_unlock((pvlock_mutex_t *)m) : REAL(pthread_mutex_unlock)(m);
}

static int cv_lock(pthread_mutex_t *m)
{
	return ours(m) ? pvlock_mutex_lock((pvlock_mutex_t *)m) : REAL(pthread_mutex_lock)(m);
}

static const struct pvl_cond_mutex_ops cv_ops = { .unlock = cv_unlock, .lock = cv_lock };

/* Process-shared condition variables, and every one when not in pvlock mode, stay glibc's. */
static inline bool cond_ours(const pthread_cond_t *c)
{
	return get_mode() == MODE_PVLOCK && !pvl_cond_is_pshared(c);
}

PVL_EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	if (!cond_ours(c))
		return REAL(pthread_cond_wait)(c, m);
	return pvl_cond_wait(c, m, &cv_ops, pvl_cond_clock(c), NULL);
}

PVL_EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
				      const struct timespec *abstime)
{
	if (!cond_ours(c))
		return REAL(pthread_cond_timedwait)(c, m, abstime);
	return pvl_cond_wait(c, m, &cv_ops, pvl_cond_clock(c), abstime);
}

PVL_EXPORT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clock,
				      const struct timespec *abstime)
{
	if (!cond_ours(c))
		return REAL(pthread_cond_clockwait)(c, m, clock, abstime);
	if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC)
		return EINVAL;
	return pvl_cond_wait(c, m, &cv_ops, clock, abstime);
}

PVL_EXPORT int pthread_cond_signal(pthread_cond_t *c)
{
	if (!cond_ours(c))
		return REAL(pthread_cond_signal)(c);
	pvl_cond_wake(c, 1);
	return 0;
}

PVL_EXPORT int pthread_cond_broadcast(pthread_cond_t *c)
{
	if (!cond_ours(c))
		return REAL(pthread_cond_broadcast)(c);
	pvl_cond_wake(c, 0);
	return 0;
}

PVL_EXPORT int pthread_cond_destroy(pthread_cond_t *c)
{
	if (!cond_ours(c))
		return REAL(pthread_cond_destroy)(c);
	return 0;
}

/* ---- C11 (threads.h): the same objects, C11's return values ----------------------- */
static int c11_result(int err)
{
	switch (err) {
	case 0: return thrd_success;
	case EBUSY: return thrd_busy;
	case ETIMEDOUT: return thrd_timedout;
	default: return thrd_error;
	}
}

PVL_EXPORT int mtx_lock(mtx_t *m)
{
	return c11_result(pthread_mutex_lock((pthread_mutex_t *)m));
}

PVL_EXPORT int mtx_trylock(mtx_t *m)
{
	return c11_result(pthread_mutex_trylock((pthread_mutex_t *)m));
}

/* C11's clock is TIME_UTC, which is CLOCK_REALTIME: pthread_mutex_timedlock's. */
PVL_EXPORT int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict abstime)
{
	return c11_result(pthread_mutex_timedlock((pthread_mutex_t *)m, abstime));
}

PVL_EXPORT int mtx_unlock(mtx_t *m)
{
	return c11_result(pthread_mutex_unlock((pthread_mutex_t *)m));
}

/* cnd_* with the mutex above: glibc's would unlock and relock it behind our back. */
PVL_EXPORT int cnd_wait(cnd_t *c, mtx_t *m)
{
	return c11_result(pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m));
}

PVL_EXPORT int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m,
			     const struct timespec *restrict abstime)
{
	return c11_result(pthread_cond_timedwait((pthread_cond_t *)c, (pthread_mutex_t *)m, abstime));
}

PVL_EXPORT int cnd_signal(cnd_t *c)
{
	return c11_result(pthread_cond_signal((pthread_cond_t *)c));
}

PVL_EXPORT int cnd_broadcast(cnd_t *c)
{
	return c11_result(pthread_cond_broadcast((pthread_cond_t *)c));
}

PVL_EXPORT void cnd_destroy(cnd_t *c)
{
	pthread_cond_destroy((pthread_cond_t *)c);
}
