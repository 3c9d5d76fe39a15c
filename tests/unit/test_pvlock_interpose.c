// SPDX-License-Identifier: GPL-2.0-only
/*
 * pthread semantics through libpvlock's interposer.  The interposer's
 * objects are linked into this program, so its own pthread_* calls bind
 * to them exactly as LD_PRELOAD binds an unmodified program's.
 *
 * What must hold: default and adaptive mutexes run on libpvlock (seen in
 * the object: the holder field is set); error-checking, recursive and
 * robust mutexes keep glibc's semantics; condition variables work with
 * every kind of mutex, time out with the mutex held, and lose no
 * wake-up; process-shared ones stay glibc's; fork() leaves the child
 * with working locks; spinlocks run on libpvlock.  Process-shared
 * mutexes stay glibc's and exclude across processes, as process-shared
 * spinlocks do on libpvlock; timed locks time out, take a lock freed in
 * time and refuse bad times and clocks; C11's mtx_* and cnd_* take the
 * same paths as pthread's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "pvlock.h"

static uint32_t my_tid(void)
{
	return syscall(SYS_gettid);
}

/* What libpvlock keeps in a pthread_mutex_t it runs (pvlock.h). */
static uint64_t holder_of(pthread_mutex_t *m)
{
	return ((pvlock_mutex_t *)m)->holder;
}

static void default_and_adaptive_mutexes_run_on_pvlock(void **state)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER, a;
	pthread_mutexattr_t attr;

	(void)state;
	assert_int_equal(pthread_mutex_lock(&m), 0);
	assert_int_equal((uint32_t)holder_of(&m), my_tid());
	assert_int_equal(pthread_mutex_trylock(&m), EBUSY);
	assert_int_equal(pthread_mutex_unlock(&m), 0);
	assert_int_equal(holder_of(&m), 0);
	/* glibc's destroy finds nothing of ours in the fields it checks. */
	assert_int_equal(pthread_mutex_destroy(&m), 0);

	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
	assert_int_equal(pthread_mutex_init(&a, &attr), 0);
	assert_int_equal(pthread_mutex_lock(&a), 0);
	assert_int_equal((uint32_t)holder_of(&a), my_tid());
	assert_int_equal(pthread_mutex_unlock(&a), 0);
	assert_int_equal(pthread_mutex_destroy(&a), 0);
	pthread_mutexattr_destroy(&attr);
}

static void init_mutex(pthread_mutex_t *m, int type, int robust, int pshared)
{
	pthread_mutexattr_t attr;

	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, type);
	pthread_mutexattr_setrobust(&attr, robust);
	pthread_mutexattr_setpshared(&attr, pshared);
	assert_int_equal(pthread_mutex_init(m, &attr), 0);
	pthread_mutexattr_destroy(&attr);
}

static void recursive_mutex_is_glibcs(void **state)
{
	pthread_mutex_t m;

	(void)state;
	init_mutex(&m, PTHREAD_MUTEX_RECURSIVE, PTHREAD_MUTEX_STALLED, PTHREAD_PROCESS_PRIVATE);
	assert_int_equal(pthread_mutex_lock(&m), 0);
	assert_int_equal(pthread_mutex_lock(&m), 0);
	assert_int_equal(pthread_mutex_trylock(&m), 0);
	assert_int_equal(m.__data.__count, 3);
	assert_int_equal(holder_of(&m), 0);	/* not ours */
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_mutex_unlock(&m), 0);
	assert_int_equal(pthread_mutex_unlock(&m), EPERM);
	assert_int_equal(pthread_mutex_destroy(&m), 0);
}

static void *unlock_other(void *m)
{
	return (void *)(intptr_t)pthread_mutex_unlock(m);
}

static void errorcheck_mutex_is_glibcs(void **state)
{
	pthread_mutex_t m;
	pthread_t t;
	void *ret;

	(void)state;
	init_mutex(&m, PTHREAD_MUTEX_ERRORCHECK, PTHREAD_MUTEX_STALLED, PTHREAD_PROCESS_PRIVATE);
	assert_int_equal(pthread_mutex_lock(&m), 0);
	assert_int_equal(pthread_mutex_lock(&m), EDEADLK);
	pthread_create(&t, NULL, unlock_other, &m);
	pthread_join(t, &ret);
	assert_int_equal((intptr_t)ret, EPERM);
	assert_int_equal(pthread_mutex_unlock(&m), 0);
	assert_int_equal(pthread_mutex_unlock(&m), EPERM);
}

static void *lock_and_die(void *m)
{
	pthread_mutex_lock(m);
	return NULL;
}

static void robust_mutex_is_glibcs(void **state)
{
	pthread_mutex_t m;
	pthread_t t;

	(void)state;
	init_mutex(&m, PTHREAD_MUTEX_NORMAL, PTHREAD_MUTEX_ROBUST, PTHREAD_PROCESS_PRIVATE);
	pthread_create(&t, NULL, lock_and_die, &m);
	pthread_join(t, NULL);
	assert_int_equal(pthread_mutex_lock(&m), EOWNERDEAD);
	assert_int_equal(pthread_mutex_consistent(&m), 0);
	assert_int_equal(pthread_mutex_unlock(&m), 0);
	assert_int_equal(pthread_mutex_lock(&m), 0);
	assert_int_equal(pthread_mutex_unlock(&m), 0);
}

/* ---- condition variables --------------------------------------------------- */
#define ITEMS 20000
#define CONSUMERS 3

static struct {
	pthread_mutex_t m;
	pthread_cond_t not_empty, not_full;
	int queued, produced, consumed;
	int done;
} pc;

static void *consumer(void *arg)
{
	int mine = 0;

	(void)arg;
	pthread_mutex_lock(&pc.m);
	for (;;) {
		while (!pc.queued && !pc.done)
			pthread_cond_wait(&pc.not_empty, &pc.m);
		if (!pc.queued)
			break;
		pc.queued--;
		pc.consumed++;
		mine++;
		pthread_cond_signal(&pc.not_full);
	}
	pthread_mutex_unlock(&pc.m);
	return (void *)(intptr_t)mine;
}

/* Producer and consumers hand items over one slot at a time: every wait matters. */
static void producer_consumer(int type)
{
	pthread_t t[CONSUMERS];
	int total = 0;

	memset(&pc, 0, sizeof(pc));
	init_mutex(&pc.m, type, PTHREAD_MUTEX_STALLED, PTHREAD_PROCESS_PRIVATE);
	pthread_cond_init(&pc.not_empty, NULL);
	pthread_cond_init(&pc.not_full, NULL);
	for (int i = 0; i < CONSUMERS; i++)
		pthread_create(&t[i], NULL, consumer, NULL);
	pthread_mutex_lock(&pc.m);
	for (int i = 0; i < ITEMS; i++) {
		while (pc.queued)
			pthread_cond_wait(&pc.not_full, &pc.m);
		pc.queued++;
		pc.produced++;
		if (i % 7 == 0)
			pthread_cond_broadcast(&pc.not_empty);
		else
			pthread_cond_signal(&pc.not_empty);
	}
	pc.done = 1;
	pthread_cond_broadcast(&pc.not_empty);
	pthread_mutex_unlock(&pc.m);
	for (int i = 0; i < CONSUMERS; i++) {
		void *n;

		pthread_join(t[i], &n);
		total += (intptr_t)n;
	}
	assert_int_equal(total, ITEMS);
	assert_int_equal(pc.consumed, ITEMS);
	assert_int_equal(pthread_cond_destroy(&pc.not_empty), 0);
	assert_int_equal(pthread_cond_destroy(&pc.not_full), 0);
}

static void cond_with_default_mutex(void **state)
{
	(void)state;
	producer_consumer(PTHREAD_MUTEX_NORMAL);
}

static void cond_with_errorcheck_mutex(void **state)
{
	(void)state;
	producer_consumer(PTHREAD_MUTEX_ERRORCHECK);
}

static void cond_timedwait_times_out_with_mutex_held(void **state)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t c = PTHREAD_COND_INITIALIZER, mono;
	pthread_condattr_t attr;
	struct timespec t;

	(void)state;
	pthread_mutex_lock(&m);
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_nsec += 20 * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	assert_int_equal(pthread_cond_timedwait(&c, &m, &t), ETIMEDOUT);
	assert_int_equal((uint32_t)holder_of(&m), my_tid());

	/* A condition variable on CLOCK_MONOTONIC takes its deadline on that clock. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&mono, &attr);
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_nsec = (t.tv_nsec + 20 * 1000000L) % 1000000000L;
	if (t.tv_nsec < 20 * 1000000L)
		t.tv_sec++;
	assert_int_equal(pthread_cond_timedwait(&mono, &m, &t), ETIMEDOUT);
	assert_int_equal(pthread_cond_clockwait(&mono, &m, CLOCK_MONOTONIC, &t), ETIMEDOUT);
	t.tv_nsec = -1;
	assert_int_equal(pthread_cond_timedwait(&mono, &m, &t), EINVAL);
	assert_int_equal((uint32_t)holder_of(&m), my_tid());
	pthread_mutex_unlock(&m);
	pthread_condattr_destroy(&attr);
}

/* Process-shared: glibc's condition variable and mutex, across fork(). */
static void pshared_cond_is_glibcs(void **state)
{
	struct shared {
		pthread_mutex_t m;
		pthread_cond_t c;
		int flag;
	} *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pthread_condattr_t ca;
	int status;
	pid_t pid;

	(void)state;
	assert_ptr_not_equal(sh, MAP_FAILED);
	init_mutex(&sh->m, PTHREAD_MUTEX_NORMAL, PTHREAD_MUTEX_STALLED, PTHREAD_PROCESS_SHARED);
	pthread_condattr_init(&ca);
	pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	pthread_cond_init(&sh->c, &ca);
	pid = fork();
	if (pid == 0) {
		pthread_mutex_lock(&sh->m);
		sh->flag = 1;
		pthread_cond_signal(&sh->c);
		pthread_mutex_unlock(&sh->m);
		_exit(0);
	}
	pthread_mutex_lock(&sh->m);
	assert_int_equal(holder_of(&sh->m), 0);	/* glibc's mutex */
	while (!sh->flag)
		pthread_cond_wait(&sh->c, &sh->m);
	pthread_mutex_unlock(&sh->m);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	munmap(sh, sizeof(*sh));
}

/* ---- fork ------------------------------------------------------------------------ */
static pthread_mutex_t fork_m = PTHREAD_MUTEX_INITIALIZER;
static volatile int fork_waiter_in;

static void *fork_waiter(void *arg)
{
	(void)arg;
	fork_waiter_in = 1;
	pthread_mutex_lock(&fork_m);
	pthread_mutex_unlock(&fork_m);
	return NULL;
}

static void *child_contender(void *arg)
{
	for (int i = 0; i < 10000; i++) {
		pthread_mutex_lock(&fork_m);
		(*(int *)arg)++;
		pthread_mutex_unlock(&fork_m);
	}
	return NULL;
}

/*
 * fork() while a thread waits on a mutex this thread holds: the child
 * gets the mutex locked by its own (forking) thread and a copy of the
 * waiter's queue entry with no thread behind it.  The child unlocks,
 * and its own threads must then use the mutex freely.
 */
static void fork_with_a_waiter_queued(void **state)
{
	pthread_t w;
	int status;
	pid_t pid;

	(void)state;
	pthread_mutex_lock(&fork_m);
	pthread_create(&w, NULL, fork_waiter, NULL);
	while (!fork_waiter_in)
		sched_yield();
	usleep(20000);		/* let it queue */
	pid = fork();
	if (pid == 0) {
		pthread_t t[2];
		int n = 0;

		alarm(60);
		if ((uint32_t)holder_of(&fork_m) == 0 || pthread_mutex_unlock(&fork_m))
			_exit(2);
		for (int i = 0; i < 2; i++)
			pthread_create(&t[i], NULL, child_contender, &n);
		child_contender(&n);
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		/* The child's thread has its own TID in the holder field. */
		pthread_mutex_lock(&fork_m);
		if ((uint32_t)holder_of(&fork_m) != my_tid())
			_exit(3);
		pthread_mutex_unlock(&fork_m);
		_exit(n == 30000 ? 0 : 4);
	}
	pthread_mutex_unlock(&fork_m);
	pthread_join(w, NULL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- process-shared mutexes and spinlocks, across fork() ------------------------- */
#define PSHARED_ROUNDS 20000

struct pshared_area {
	pthread_mutex_t m;
	pthread_spinlock_t s;
	long in_m, in_s;	/* who is inside: must stay 0 or 1 */
	long count_m, count_s;
	long bad;
};

static void pshared_rounds(struct pshared_area *a)
{
	for (int i = 0; i < PSHARED_ROUNDS; i++) {
		pthread_mutex_lock(&a->m);
		if (a->in_m++)
			a->bad++;
		a->count_m++;
		if ((i & 63) == 0)
			sched_yield();	/* hold it across a switch now and then */
		a->in_m--;
		pthread_mutex_unlock(&a->m);

		pthread_spin_lock(&a->s);
		if (a->in_s++)
			a->bad++;
		a->count_s++;
		a->in_s--;
		pthread_spin_unlock(&a->s);
	}
}

/*
 * Two processes, each with two threads, on a PTHREAD_PROCESS_SHARED mutex
 * and spinlock in a shared mapping: exclusion holds and no update is lost.
 * The mutex is glibc's (shared futex; libpvlock's are private), the
 * spinlock libpvlock's (its word names holders by global TID).
 */
static void *pshared_thread(void *a)
{
	pshared_rounds(a);
	return NULL;
}

static void pshared_mutex_and_spinlock_across_fork(void **state)
{
	struct pshared_area *a = mmap(NULL, sizeof(*a), PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pthread_t t;
	int status;
	pid_t pid;

	(void)state;
	assert_ptr_not_equal(a, MAP_FAILED);
	init_mutex(&a->m, PTHREAD_MUTEX_NORMAL, PTHREAD_MUTEX_STALLED, PTHREAD_PROCESS_SHARED);
	assert_int_equal(pthread_spin_init(&a->s, PTHREAD_PROCESS_SHARED), 0);
	pthread_mutex_lock(&a->m);
	assert_int_equal(holder_of(&a->m), 0);		/* glibc's */
	pthread_mutex_unlock(&a->m);
	pthread_spin_lock(&a->s);
	assert_int_equal(*(volatile uint32_t *)&a->s & ((1u << 22) - 1), my_tid());	/* ours */
	pthread_spin_unlock(&a->s);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(60);
		pthread_create(&t, NULL, pshared_thread, a);
		pshared_rounds(a);
		pthread_join(t, NULL);
		_exit(0);
	}
	pthread_create(&t, NULL, pshared_thread, a);
	pshared_rounds(a);
	pthread_join(t, NULL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(a->bad, 0);
	assert_int_equal(a->count_m, 4L * PSHARED_ROUNDS);
	assert_int_equal(a->count_s, 4L * PSHARED_ROUNDS);
	assert_int_equal(pthread_mutex_destroy(&a->m), 0);
	munmap(a, sizeof(*a));
}

/* ---- timed locks ------------------------------------------------------------------- */
struct holder_arg {
	pthread_mutex_t *m;
	volatile int locked, release;
};

static void *hold_until_released(void *p)
{
	struct holder_arg *h = p;

	pthread_mutex_lock(h->m);
	h->locked = 1;
	while (!h->release)
		usleep(1000);
	usleep(50000);		/* the waiter is inside its timed wait by now */
	pthread_mutex_unlock(h->m);
	return NULL;
}

static struct timespec in_ms(clockid_t clock, long ms)
{
	struct timespec t;

	clock_gettime(clock, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void timedlock_and_clocklock_on_pvlock(void **state)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	struct holder_arg h = { .m = &m };
	struct timespec t, t0;
	pthread_t th;

	(void)state;
	/* Free: taken whatever the time says (POSIX checks it only before blocking). */
	t = in_ms(CLOCK_REALTIME, -1000);
	assert_int_equal(pthread_mutex_timedlock(&m, &t), 0);
	assert_int_equal((uint32_t)holder_of(&m), my_tid());
	assert_int_equal(pthread_mutex_unlock(&m), 0);

	pthread_create(&th, NULL, hold_until_released, &h);
	while (!h.locked)
		usleep(1000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	t = in_ms(CLOCK_REALTIME, 100);
	assert_int_equal(pthread_mutex_timedlock(&m, &t), ETIMEDOUT);
	assert_true(ms_since(&t0) >= 99);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	t = in_ms(CLOCK_MONOTONIC, 100);
	assert_int_equal(pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &t), ETIMEDOUT);
	assert_true(ms_since(&t0) >= 99);
	t = in_ms(CLOCK_REALTIME, 100);
	assert_int_equal(pthread_mutex_clocklock(&m, CLOCK_REALTIME, &t), ETIMEDOUT);
	t.tv_nsec = 1000000000L;
	assert_int_equal(pthread_mutex_timedlock(&m, &t), EINVAL);
	t = in_ms(CLOCK_MONOTONIC, 100);
	assert_int_equal(pthread_mutex_clocklock(&m, CLOCK_PROCESS_CPUTIME_ID, &t), EINVAL);

	/* Released before the deadline: the timed waiter gets it. */
	h.release = 1;
	t = in_ms(CLOCK_MONOTONIC, 20000);
	assert_int_equal(pthread_mutex_clocklock(&m, CLOCK_MONOTONIC, &t), 0);
	assert_int_equal((uint32_t)holder_of(&m), my_tid());
	assert_int_equal(pthread_mutex_unlock(&m), 0);
	pthread_join(th, NULL);
	assert_int_equal(m.__data.__lock, 0);
}

/* ---- C11 ------------------------------------------------------------------------------ */
struct c11_queue {
	mtx_t m;
	cnd_t c;
	int items, taken;
};

static int c11_consumer(void *p)
{
	struct c11_queue *q = p;

	for (int i = 0; i < 1000; i++) {
		if (mtx_lock(&q->m) != thrd_success)
			return 1;
		while (!q->items)
			if (cnd_wait(&q->c, &q->m) != thrd_success)
				return 2;
		q->items--;
		q->taken++;
		mtx_unlock(&q->m);
	}
	return 0;
}

static void c11_mutexes_and_conditions(void **state)
{
	struct c11_queue q = { .items = 0 };
	struct timespec t;
	thrd_t th;
	mtx_t r;
	int res;

	(void)state;
	/* mtx_plain runs on libpvlock (glibc's mtx_lock would not: it bypasses pthread_*). */
	assert_int_equal(mtx_init(&q.m, mtx_plain), thrd_success);
	assert_int_equal(mtx_lock(&q.m), thrd_success);
	assert_int_equal((uint32_t)holder_of((pthread_mutex_t *)&q.m), my_tid());
	assert_int_equal(mtx_trylock(&q.m), thrd_busy);
	t = in_ms(CLOCK_REALTIME, 50);
	assert_int_equal(mtx_timedlock(&q.m, &t), thrd_timedout);
	assert_int_equal(mtx_unlock(&q.m), thrd_success);
	t = in_ms(CLOCK_REALTIME, 50);
	assert_int_equal(mtx_timedlock(&q.m, &t), thrd_success);
	assert_int_equal(mtx_unlock(&q.m), thrd_success);

	/* mtx_recursive stays glibc's, recursion and all. */
	assert_int_equal(mtx_init(&r, mtx_plain | mtx_recursive), thrd_success);
	assert_int_equal(mtx_lock(&r), thrd_success);
	assert_int_equal(mtx_lock(&r), thrd_success);
	assert_int_equal(holder_of((pthread_mutex_t *)&r), 0);
	assert_int_equal(mtx_unlock(&r), thrd_success);
	assert_int_equal(mtx_unlock(&r), thrd_success);
	mtx_destroy(&r);

	/* A condition with it: no lost wake-up over 1000 hand-offs, one timeout. */
	assert_int_equal(cnd_init(&q.c), thrd_success);
	mtx_lock(&q.m);
	t = in_ms(CLOCK_REALTIME, 20);
	assert_int_equal(cnd_timedwait(&q.c, &q.m, &t), thrd_timedout);
	assert_int_equal((uint32_t)holder_of((pthread_mutex_t *)&q.m), my_tid());
	mtx_unlock(&q.m);
	assert_int_equal(thrd_create(&th, c11_consumer, &q), thrd_success);
	for (int i = 0; i < 1000; i++) {
		mtx_lock(&q.m);
		q.items++;
		if (i & 1)
			cnd_signal(&q.c);
		else
			cnd_broadcast(&q.c);
		mtx_unlock(&q.m);
		if ((i & 15) == 0)
			usleep(100);
	}
	assert_int_equal(thrd_join(th, &res), thrd_success);
	assert_int_equal(res, 0);
	assert_int_equal(q.taken, 1000);
	cnd_destroy(&q.c);
	mtx_destroy(&q.m);
}

/* ---- spinlocks --------------------------------------------------------------------- */
static pthread_spinlock_t spin;
static long spin_count;

static void *spin_worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100000; i++) {
		pthread_spin_lock(&spin);
		spin_count++;
		pthread_spin_unlock(&spin);
	}
	return NULL;
}

static void spinlocks_run_on_pvlock(void **state)
{
	pthread_t t[3];

	(void)state;
	assert_int_equal(pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE), 0);
	assert_int_equal(pthread_spin_lock(&spin), 0);
	assert_int_equal(*(volatile uint32_t *)&spin & ((1u << 22) - 1), my_tid());
	assert_int_equal(pthread_spin_trylock(&spin), EBUSY);
	assert_int_equal(pthread_spin_unlock(&spin), 0);
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, spin_worker, NULL);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(spin_count, 300000);
	assert_int_equal(pthread_spin_destroy(&spin), 0);
}

static void on_alarm(int sig)
{
	static const char msg[] = "test_pvlock_interpose: a test hung (lost wake-up?)\n";

	(void)sig;
	write(2, msg, sizeof(msg) - 1);
	_exit(1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(default_and_adaptive_mutexes_run_on_pvlock),
		cmocka_unit_test(recursive_mutex_is_glibcs),
		cmocka_unit_test(errorcheck_mutex_is_glibcs),
		cmocka_unit_test(robust_mutex_is_glibcs),
		cmocka_unit_test(cond_with_default_mutex),
		cmocka_unit_test(cond_with_errorcheck_mutex),
		cmocka_unit_test(cond_timedwait_times_out_with_mutex_held),
		cmocka_unit_test(pshared_cond_is_glibcs),
		cmocka_unit_test(fork_with_a_waiter_queued),
		cmocka_unit_test(spinlocks_run_on_pvlock),
		cmocka_unit_test(pshared_mutex_and_spinlock_across_fork),
		cmocka_unit_test(timedlock_and_clocklock_on_pvlock),
		cmocka_unit_test(c11_mutexes_and_conditions),
	};

	signal(SIGALRM, on_alarm);
	alarm(300);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
