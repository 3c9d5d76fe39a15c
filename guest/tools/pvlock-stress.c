// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlock-stress: threads and forks on pthread locks, for libpvlock.
 *
 * An unmodified pthread program (libpvlock comes in through LD_PRELOAD).
 * For D seconds, T threads take random locks of a small set (default
 * mutexes by lock, trylock and timed lock, a spinlock) and check, inside,
 * that nobody else is (an owner field per lock); some sections yield or
 * sleep, so the guest deschedules holders too.  Pairs of threads pass a
 * token through a condition variable (signal, broadcast and timed
 * waits).  One thread forks now and then while holding a mutex others
 * queue on; the child unlocks it, hammers it with threads of its own,
 * and must exit cleanly.
 *
 * Checks: no two owners at once, no lost update, every child exits 0,
 * and every thread keeps making progress: a watchdog fails the run when
 * a thread has not finished an operation for STALL seconds (a lost
 * wake-up leaves a waiter asleep on a free lock for ever) or when a
 * thread does not stop within STALL seconds of the end.
 * Prints one JSON object; exit 0 pass, 1 fail.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/pvlock.h"
#include "../../tests/helpers/parse.h"

#define NLOCKS 4
#define MAX_THREADS 256

static struct {
	pthread_mutex_t m;
	int owner;
	uint64_t count;
} __attribute__((aligned(64))) locks[NLOCKS];

static pthread_spinlock_t spin;
static int spin_owner = -1;
static uint64_t spin_count;

/* The token ring: thread pairs hand a token over through one condvar. */
static pthread_mutex_t token_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t token_c = PTHREAD_COND_INITIALIZER;
static int token;		/* which pair member holds it */

static volatile int stop;
static uint64_t violations, forks, child_failures;
static int stall_s = 20;

struct worker {
	pthread_t thread;
	int id;
	unsigned int seed;
	uint64_t ops;
	uint64_t last_progress_ns;
	int done;
} __attribute__((aligned(64)));

static struct worker workers[MAX_THREADS];
static int nthreads;

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ULL + t.tv_nsec;
}

static void inside(int *owner, int id, unsigned int *seed)
{
	if (__atomic_exchange_n(owner, id, __ATOMIC_RELAXED) != -1)
		__atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
	switch (rand_r(seed) % 64) {
	case 0: sched_yield(); break;		/* holder descheduled by the guest */
	case 1: usleep(rand_r(seed) % 200); break;
	default:
		for (volatile int i = rand_r(seed) % 500; i > 0; i--)
			;
	}
	if (__atomic_exchange_n(owner, -1, __ATOMIC_RELAXED) != id)
		__atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
}

static void mutex_op(struct worker *w)
{
	int l = rand_r(&w->seed) % NLOCKS, how = rand_r(&w->seed) % 8;

	if (how == 0) {
		if (pthread_mutex_trylock(&locks[l].m))
			return;
	} else if (how == 1) {
		struct timespec t;

		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += (rand_r(&w->seed) % 500) * 1000;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		if (pthread_mutex_timedlock(&locks[l].m, &t))
			return;
	} else {
		pthread_mutex_lock(&locks[l].m);
	}
	inside(&locks[l].owner, w->id, &w->seed);
	locks[l].count++;
	pthread_mutex_unlock(&locks[l].m);
}

static void spin_op(struct worker *w)
{
	pthread_spin_lock(&spin);
	if (__atomic_exchange_n(&spin_owner, w->id, __ATOMIC_RELAXED) != -1)
		__atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
	spin_count++;
	if (__atomic_exchange_n(&spin_owner, -1, __ATOMIC_RELAXED) != w->id)
		__atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
	pthread_spin_unlock(&spin);
}

/* Workers 0 and 1 pass the token; a timed wait that expires just retries. */
static void token_op(struct worker *w)
{
	struct timespec t;

	pthread_mutex_lock(&token_m);
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += 1;
	while (token != w->id && !stop) {
		if (rand_r(&w->seed) % 2)
			pthread_cond_wait(&token_c, &token_m);
		else
			pthread_cond_timedwait(&token_c, &token_m, &t);
		/* A wait that returns is progress. */
		__atomic_store_n(&w->last_progress_ns, now_ns(), __ATOMIC_RELEASE);
	}
	token = !w->id;
	if (rand_r(&w->seed) % 2)
		pthread_cond_signal(&token_c);
	else
		pthread_cond_broadcast(&token_c);
	pthread_mutex_unlock(&token_m);
}

static void *child_hammer(void *arg)
{
	for (int i = 0; i < 2000; i++) {
		pthread_mutex_lock(&locks[0].m);
		(*(uint64_t *)arg)++;
		pthread_mutex_unlock(&locks[0].m);
	}
	return NULL;
}

/* Fork holding lock 0 while others queue on it; the child must use it freely. */
static void fork_op(struct worker *w)
{
	int status;
	pid_t pid;

	pthread_mutex_lock(&locks[0].m);
	inside(&locks[0].owner, w->id, &w->seed);
	locks[0].count++;
	pid = fork();
	if (pid == 0) {
		pthread_t t[3];
		uint64_t n = 0;

		alarm(60);
		pthread_mutex_unlock(&locks[0].m);
		for (int i = 0; i < 3; i++)
			pthread_create(&t[i], NULL, child_hammer, &n);
		child_hammer(&n);
		for (int i = 0; i < 3; i++)
			pthread_join(t[i], NULL);
		_exit(n == 8000 ? 0 : 1);
	}
	pthread_mutex_unlock(&locks[0].m);
	forks++;
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		__atomic_fetch_add(&child_failures, 1, __ATOMIC_RELAXED);
}

static void *worker_main(void *p)
{
	struct worker *w = p;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		int r = rand_r(&w->seed) % 1000;

		if (w->id < 2 && r < 100)
			token_op(w);
		else if (w->id == 2 && r == 0)
			fork_op(w);
		else if (r < 300)
			spin_op(w);
		else
			mutex_op(w);
		w->ops++;
		__atomic_store_n(&w->last_progress_ns, now_ns(), __ATOMIC_RELEASE);
	}
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

int main(int argc, char **argv)
{
	long secs = 60, stalled = 0, unfinished = 0;
	void (*stats_get)(struct pvlock_stats *);
	struct pvlock_stats st = { 0 };
	uint64_t total = 0, counted = 0, end;
	int c, fail;

	nthreads = 2 * sysconf(_SC_NPROCESSORS_ONLN) + 1;
	while ((c = getopt(argc, argv, "d:t:s:h")) != -1) {
		switch (c) {
		case 'd': secs = parse_option_or_exit("pvlock-stress", "duration", optarg); break;
		case 't': nthreads = parse_option_or_exit("pvlock-stress", "thread count", optarg); break;
		case 's': stall_s = parse_option_or_exit("pvlock-stress", "stall limit", optarg); break;
		case 'h':
			printf("Usage: pvlock-stress [-d SECONDS] [-t THREADS (>= 3)] [-s STALL_SECONDS]\n");
			return 0;
		default:
			return 2;
		}
	}
	if (nthreads < 3 || nthreads > MAX_THREADS) {
		fprintf(stderr, "pvlock-stress: 3 to %d threads\n", MAX_THREADS);
		return 2;
	}
	for (int i = 0; i < NLOCKS; i++) {
		pthread_mutex_init(&locks[i].m, NULL);
		locks[i].owner = -1;
	}
	pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE);
	for (int i = 0; i < nthreads; i++) {
		workers[i].id = i;
		workers[i].seed = 0x9e3779b9u * (i + 1);
		workers[i].last_progress_ns = now_ns();
		pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]);
	}
	/* Watchdog: a thread without progress for stall_s seconds is stuck. */
	end = now_ns() + secs * 1000000000ULL;
	while (now_ns() < end && !stalled) {
		sleep(1);
		for (int i = 0; i < nthreads; i++) {
			/*
			 * The thread's time first, then ours: a thread may make
			 * progress in between, and its time must not pass ours
			 * (an unsigned difference would wrap into a false stall).
			 */
			uint64_t last = __atomic_load_n(&workers[i].last_progress_ns,
							__ATOMIC_ACQUIRE);
			int64_t idle = (int64_t)(now_ns() - last);

			if (idle > stall_s * 1000000000LL)
				stalled++;
		}
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&token_m);
	pthread_cond_broadcast(&token_c);
	pthread_mutex_unlock(&token_m);
	end = now_ns() + stall_s * 1000000000ULL;
	for (int i = 0; i < nthreads; i++) {
		while (!__atomic_load_n(&workers[i].done, __ATOMIC_ACQUIRE) && now_ns() < end)
			usleep(10000);
		if (!workers[i].done)
			unfinished++;
		else
			pthread_join(workers[i].thread, NULL);
		total += workers[i].ops;
	}
	for (int i = 0; i < NLOCKS; i++)
		counted += locks[i].count;
	stats_get = (void (*)(struct pvlock_stats *))dlsym(RTLD_DEFAULT, "pvlock_stats_get");
	if (stats_get)
		stats_get(&st);
	fail = violations || stalled || unfinished || child_failures || forks == 0;
	printf("{\"bench\":\"stress\",\"seconds\":%ld,\"threads\":%d,\"ops\":%llu,"
	       "\"mutex_sections\":%llu,\"spin_sections\":%llu,\"forks\":%llu,"
	       "\"child_failures\":%llu,\"violations\":%llu,\"stalled\":%ld,\"unfinished\":%ld,"
	       "\"pvlock_loaded\":%d,\"slow\":%llu,\"blocks\":%llu,\"holder_off_guest\":%llu,"
	       "\"holder_off_host\":%llu,\"bypasses\":%llu,\"pass\":%s}\n",
	       secs, nthreads, (unsigned long long)total, (unsigned long long)counted,
	       (unsigned long long)spin_count, (unsigned long long)forks,
	       (unsigned long long)child_failures, (unsigned long long)violations, stalled,
	       unfinished, stats_get != NULL, (unsigned long long)st.slow,
	       (unsigned long long)st.blocks, (unsigned long long)st.holder_off_guest,
	       (unsigned long long)st.holder_off_host, (unsigned long long)st.bypasses,
	       fail ? "false" : "true");
	fflush(stdout);
	/* A stuck thread would keep the process alive: leave without it. */
	_exit(fail);
}
