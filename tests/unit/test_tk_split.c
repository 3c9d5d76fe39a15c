// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the takeover's wait split (guest/module/pvli_tk_split.h):
 * the parts of a wait capped jointly at it, the run clock's difference
 * taken as signed across a wrap, and readers that see whole waits only.
 *
 * The stress case runs the kernel's code with threads: two writers, each
 * the one writer of its record as a CPU context is of its own, add a
 * known sequence of waits (some halted in part, one in eight with unknown
 * clocks) while a reader reads both records as the module's "counters"
 * line does.  A read of whole waits equals, in all four counts, the sums
 * over the first k waits for some k; and in the difference of two reads
 * (pvlock-sweep's c1 - c0) steal + run stay within the wait.  A reader
 * that read the counts without the sequence count (the module before)
 * fails at once on two CPUs: 12-15% of 2.2-2.5 million reads in 300 ms
 * were torn, in each of 5 runs, when that was tried.  On x86 this checks
 * the retry; a barrier removed would not show (TSO).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "pvli_tk_split.h"

static void parts_capped_jointly_at_the_wait(void **state)
{
	struct pvli_tk_split s = { 0 }, sum = { 0 };

	(void)state;
	/* 30 steal + 50 run of 100. */
	pvli_tk_split_add(&s, 100, true, 1000, 2000, 1030, 2050);
	/* Steal beyond the wait (host and guest clocks differ): all of it. */
	pvli_tk_split_add(&s, 40, true, 0, 0, 90, 90);
	/* Run beyond what steal left: the rest. */
	pvli_tk_split_add(&s, 60, true, 0, 0, 20, 100);
	/* Clocks going backwards (a new page starts at 0): no part. */
	pvli_tk_split_add(&s, 10, true, 500, 500, 0, 0);
	/* Unknown clocks: counted, in the whole only. */
	pvli_tk_split_add(&s, 7, false, 0, 0, 5, 5);
	pvli_tk_split_read(&s, &sum);
	assert_int_equal(sum.wait_ns, 217);
	assert_int_equal(sum.steal_ns, 30 + 40 + 20);
	assert_int_equal(sum.run_ns, 50 + 0 + 40);
	assert_int_equal(sum.no_clocks, 1);
	assert_int_equal(s.seq, 10);
	/* A read adds to what the sum holds (the module sums records). */
	pvli_tk_split_read(&s, &sum);
	assert_int_equal(sum.wait_ns, 434);
}

/*
 * The run clock mixes host and guest times and may wrap
 * (pvli_own_clocks_atomic()): 150 ns across the wrap count; a jump back
 * across 0 (a new page, another offset) counts none.
 */
static void run_clock_wraps(void **state)
{
	struct pvli_tk_split s = { 0 }, sum = { 0 };

	(void)state;
	pvli_tk_split_add(&s, 1000, true, 0, UINT64_MAX - 99, 0, 50);
	pvli_tk_split_add(&s, 1000, true, 0, 10, 0, UINT64_MAX - 4);
	pvli_tk_split_read(&s, &sum);
	assert_int_equal(sum.run_ns, 150);
	assert_int_equal(sum.steal_ns, 0);
	assert_int_equal(sum.wait_ns, 2000);
}

/*
 * The writers' waits: wait k (from 0) is wait k % PERIOD of a table of
 * 1-1024 ns waits, steal and run within them, the rest halted, one in
 * eight with unknown clocks.  The sums over the first k waits are then
 * known in closed form, and k from the wait_ns of a whole read.
 */
#define PERIOD	64
static struct { uint64_t ns, steal, run; bool ok; } tab[PERIOD];
static struct pvli_tk_split prefix[PERIOD + 1];	/* sums over tab[0..j) */

static void make_table(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	int j;

	for (j = 0; j < PERIOD; j++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		tab[j].ns = 1 + (x & 1023);
		tab[j].ok = ((x >> 10) & 7) != 0;
		tab[j].steal = (x >> 13) % (tab[j].ns + 1);
		tab[j].run = (x >> 23) % (tab[j].ns - tab[j].steal + 1);
		prefix[j + 1] = prefix[j];
		prefix[j + 1].wait_ns += tab[j].ns;
		prefix[j + 1].steal_ns += tab[j].ok ? tab[j].steal : 0;
		prefix[j + 1].run_ns += tab[j].ok ? tab[j].run : 0;
		prefix[j + 1].no_clocks += !tab[j].ok;
	}
}

/* Whether @r is the sum over the first k waits, for some k (in *@k). */
static bool whole(const struct pvli_tk_split *r, uint64_t *k)
{
	const struct pvli_tk_split *all = &prefix[PERIOD];
	uint64_t q = r->wait_ns / all->wait_ns, rem = r->wait_ns % all->wait_ns;
	int j;

	for (j = 0; j < PERIOD && prefix[j].wait_ns != rem; j++)
		;
	*k = q * PERIOD + j;
	return j < PERIOD &&
	       r->steal_ns == q * all->steal_ns + prefix[j].steal_ns &&
	       r->run_ns == q * all->run_ns + prefix[j].run_ns &&
	       r->no_clocks == q * all->no_clocks + prefix[j].no_clocks;
}

#define WRITERS	2
static struct pvli_tk_split rec[WRITERS];
static int stop;

static void *writer(void *arg)
{
	struct pvli_tk_split *s = arg;
	unsigned int j = 0;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		/* Clocks from 0 to the parts: the header caps nothing here. */
		pvli_tk_split_add(s, tab[j].ns, tab[j].ok, 0, 0, tab[j].steal, tab[j].run);
		j = (j + 1) % PERIOD;
	}
	return NULL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void reads_hold_whole_waits(void **state)
{
	struct pvli_tk_split r, prev[WRITERS] = { { 0 } }, d;
	unsigned long reads = 0, torn = 0;
	pthread_t t[WRITERS];
	uint64_t end, k;
	int i;

	(void)state;
	make_table();
	for (i = 0; i < WRITERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer, &rec[i]), 0);
	end = now_ns() + 300 * 1000000ULL;
	while (now_ns() < end) {
		for (i = 0; i < WRITERS; i++) {
			memset(&r, 0, sizeof(r));
			pvli_tk_split_read(&rec[i], &r);
			torn += !whole(&r, &k);
			/* The difference of two whole reads adds up (c1 - c0). */
			d = (struct pvli_tk_split){ 0, r.wait_ns - prev[i].wait_ns,
				r.steal_ns - prev[i].steal_ns, r.run_ns - prev[i].run_ns, 0 };
			torn += d.steal_ns + d.run_ns > d.wait_ns;
			prev[i] = r;
			reads++;
		}
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < WRITERS; i++)
		pthread_join(t[i], NULL);
	print_message("%lu reads while %d writers added %llu and %llu waits, %lu torn\n",
		      reads, WRITERS, (unsigned long long)rec[0].seq / 2,
		      (unsigned long long)rec[1].seq / 2, torn);
	assert_int_equal(torn, 0);
	/* Each writer's last state is whole too, all of its waits in it. */
	for (i = 0; i < WRITERS; i++) {
		memset(&r, 0, sizeof(r));
		pvli_tk_split_read(&rec[i], &r);
		assert_true(whole(&r, &k));
		assert_int_equal(k, rec[i].seq / 2);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parts_capped_jointly_at_the_wait),
		cmocka_unit_test(run_clock_wraps),
		cmocka_unit_test(reads_hold_whole_waits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
