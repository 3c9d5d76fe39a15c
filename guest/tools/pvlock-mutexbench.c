// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlock-mutexbench: a contended pthread mutex (or spinlock, -s), for
 * libpvlock's bench.
 *
 * An unmodified pthread program (the libpvlock variants come in through
 * LD_PRELOAD): T threads take one mutex, check and update an owner field
 * and a shared counter inside, busy-wait the critical section, release,
 * busy-wait the gap; for D ms.  Prints one JSON object: acquisitions per
 * second, Jain's fairness over the threads, mutual-exclusion violations,
 * and, when libpvlock is loaded, its level and slow-path counters.
 *
 * Busy-waits count loop iterations calibrated against CLOCK_MONOTONIC at
 * the start, so a descheduled thread does not shorten its own section.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/pvlock.h"
#include "../../tests/helpers/parse.h"

static pthread_mutex_t lock;
static pthread_spinlock_t spin;
static int use_spin;
static volatile int stop, go;
static int owner = -1;
static uint64_t shared_counter, violations;
static double loops_per_ns;

struct worker {
	pthread_t thread;
	int id;
	uint64_t ops;
} __attribute__((aligned(64)));

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ULL + t.tv_nsec;
}

static void spin_loops(uint64_t n)
{
	for (volatile uint64_t i = 0; i < n; i++)
		;
}

static void calibrate(void)
{
	uint64_t n = 1000, t0, dt;

	do {
		n *= 2;
		t0 = now_ns();
		spin_loops(n);
		dt = now_ns() - t0;
	} while (dt < 20000000ULL);
	loops_per_ns = (double)n / dt;
}

static uint64_t cs_loops, gap_loops;

static void *worker_main(void *p)
{
	struct worker *w = p;

	while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
		;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		if (use_spin)
			pthread_spin_lock(&spin);
		else
			pthread_mutex_lock(&lock);
		if (__atomic_exchange_n(&owner, w->id, __ATOMIC_RELAXED) != -1)
			violations++;
		shared_counter++;
		spin_loops(cs_loops);
		if (__atomic_exchange_n(&owner, -1, __ATOMIC_RELAXED) != w->id)
			violations++;
		if (use_spin)
			pthread_spin_unlock(&spin);
		else
			pthread_mutex_unlock(&lock);
		w->ops++;
		spin_loops(gap_loops);
	}
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pvlock-mutexbench [-t THREADS] [-d MS] [-c CS_NS] [-g GAP_NS] [-a | -s] [-l LABEL]\n"
		"\n"
		"  -t THREADS   threads [online CPUs]\n"
		"  -d MS        run time [2000]\n"
		"  -c CS_NS     critical section [1000]\n"
		"  -g GAP_NS    work between acquisitions [1000]\n"
		"  -a           an adaptive mutex (PTHREAD_MUTEX_ADAPTIVE_NP), not a default one\n"
		"  -s           a spinlock (pthread_spin_lock), not a mutex\n"
		"  -l LABEL     a \"variant\" field for the JSON line\n"
		"\n"
		"Exit status 1 on a mutual-exclusion violation or a lost update.\n"
		"\n"
		"EXAMPLES\n"
		"  pvlock-mutexbench -d 3000                       glibc's default mutex\n"
		"  LD_PRELOAD=libpvlock-preload.so pvlock-mutexbench   libpvlock\n");
}

int main(int argc, char **argv)
{
	long threads = sysconf(_SC_NPROCESSORS_ONLN), dur = 2000, cs = 1000, gap = 1000;
	void (*stats_get)(struct pvlock_stats *);
	enum pvlock_level (*level)(void);
	const char *label = "", *level_name = "none";
	struct pvlock_stats st = { 0 };
	pthread_mutexattr_t attr;
	struct worker *w;
	uint64_t t0, t1, total = 0;
	double sum = 0, sq = 0;
	int adaptive = 0, c;

	while ((c = getopt(argc, argv, "t:d:c:g:asl:h")) != -1) {
		switch (c) {
		case 't': threads = parse_option_or_exit("pvlock-mutexbench", "thread count", optarg); break;
		case 'd': dur = parse_option_or_exit("pvlock-mutexbench", "duration", optarg); break;
		case 'c': cs = parse_option_or_exit("pvlock-mutexbench", "critical section", optarg); break;
		case 'g': gap = parse_option_or_exit("pvlock-mutexbench", "gap", optarg); break;
		case 'a': adaptive = 1; break;
		case 's': use_spin = 1; break;
		case 'l': label = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (adaptive && use_spin) {
		fprintf(stderr, "pvlock-mutexbench: -a (an adaptive mutex) and -s (a spinlock) exclude each other\n");
		return 2;
	}
	if (threads < 1 || threads > 1024) {
		fprintf(stderr, "pvlock-mutexbench: 1 to 1024 threads\n");
		return 2;
	}
	pthread_mutexattr_init(&attr);
	if (adaptive)
		pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(&lock, &attr);
	pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE);
	calibrate();
	cs_loops = cs * loops_per_ns;
	gap_loops = gap * loops_per_ns;

	w = calloc(threads, sizeof(*w));
	for (int i = 0; i < threads; i++) {
		w[i].id = i;
		pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
	}
	t0 = now_ns();
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	usleep(dur * 1000);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < threads; i++)
		pthread_join(w[i].thread, NULL);
	t1 = now_ns();

	for (int i = 0; i < threads; i++) {
		total += w[i].ops;
		sum += w[i].ops;
		sq += (double)w[i].ops * w[i].ops;
	}
	/* libpvlock's own view, when the interposer (or the library) is loaded. */
	stats_get = (void (*)(struct pvlock_stats *))dlsym(RTLD_DEFAULT, "pvlock_stats_get");
	level = (enum pvlock_level (*)(void))dlsym(RTLD_DEFAULT, "pvlock_level");
	if (stats_get && level) {
		const char *(*name)(enum pvlock_level) =
			(const char *(*)(enum pvlock_level))dlsym(RTLD_DEFAULT, "pvlock_level_name");

		stats_get(&st);
		level_name = name ? name(level()) : "?";
	}
	printf("{\"bench\":\"mutexbench\",\"variant\":\"%s\",\"lock\":\"%s\",\"threads\":%ld,\"adaptive\":%d,"
	       "\"cs_ns\":%ld,\"gap_ns\":%ld,\"duration_ms\":%.0f,\"ops\":%llu,\"ops_per_s\":%.0f,"
	       "\"fairness\":%.4f,\"violations\":%llu,\"lost_updates\":%lld,\"pvlock_level\":\"%s\","
	       "\"slow\":%llu,\"blocks\":%llu,\"holder_off_guest\":%llu,\"holder_off_host\":%llu,"
	       "\"bypasses\":%llu}\n",
	       label, use_spin ? "spinlock" : "mutex", threads, adaptive, cs, gap, (t1 - t0) / 1e6, (unsigned long long)total,
	       total / ((t1 - t0) / 1e9), sq > 0 ? sum * sum / (threads * sq) : 0,
	       (unsigned long long)violations, (long long)(shared_counter - total), level_name,
	       (unsigned long long)st.slow, (unsigned long long)st.blocks,
	       (unsigned long long)st.holder_off_guest, (unsigned long long)st.holder_off_host,
	       (unsigned long long)st.bypasses);
	return violations || shared_counter != total;
}
