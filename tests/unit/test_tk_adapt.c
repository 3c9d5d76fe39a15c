// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the adaptive entry's rule (guest/module/pvli_tk_adapt_rule.c):
 * the steal share of a period from per-vCPU steal clocks, with the vCPUs
 * that do not answer left out, steal that goes backwards or runs ahead of
 * the period bounded; and the verdict: up after two periods in a row at
 * the threshold (one is a blip), down after
 * 2 s below half of it, at once when switched off, after 2 s with no
 * answer; unknown periods keep the state; no up within 1 s of a down.
 * These are the cases a VM cannot stage on demand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pvli_tk_adapt_rule.h"

#define MS	1000000ULL
#define PERIOD	(PVLI_TK_ADAPT_PERIOD_MS * MS)

/* The share of a period in which vCPUs stole s[i] of dt (NONE: no answer). */
static int share(const u64 *prev, const u64 *cur, unsigned int cpus, u64 dt)
{
	u64 sum = 0;
	unsigned int i, n = 0;

	for (i = 0; i < cpus; i++)
		pvli_tk_adapt_add(prev[i], cur[i], dt, &sum, &n);
	return pvli_tk_adapt_share(sum, n, dt);
}

static void share_of_the_vcpus_that_answer(void **state)
{
	const u64 N = PVLI_TK_ADAPT_NONE;
	u64 prev[4] = { 1000 * MS, 2000 * MS, N, 500 * MS };
	/* 50 ms and 0 ms of 100; one without a base; one that stops answering. */
	u64 cur[4] = { 1050 * MS, 2000 * MS, 7 * MS, N };

	(void)state;
	assert_int_equal(share(prev, cur, 4, PERIOD), 250);
	/* Nobody answers: unknown, not 0. */
	assert_int_equal(share(prev, (u64[]){ N, N, N, N }, 4, PERIOD), -1);
	assert_int_equal(pvli_tk_adapt_share(0, 0, PERIOD), -1);
	assert_int_equal(pvli_tk_adapt_share(0, 2, 0), -1);
}

static void steal_backwards_or_ahead_is_bounded(void **state)
{
	/* A new page restarts at 0: no steal, but the vCPU counts. */
	u64 prev[2] = { 9000 * MS, 100 * MS };
	u64 cur[2] = { 3 * MS, 100 * MS };

	(void)state;
	assert_int_equal(share(prev, cur, 2, PERIOD), 0);
	/* Extrapolated past the period (host and guest clocks differ): at most all of it. */
	cur[0] = prev[0] + 400 * MS;
	cur[1] = prev[1] + 100 * MS;
	assert_int_equal(share(prev, cur, 2, PERIOD), 1000);
}

/* Up at the threshold in two known periods in a row, and not below it. */
static void up_at_the_threshold(void **state)
{
	struct pvli_tk_adapt a = { .fast = false, .down_ns = 0 };
	u64 now = 10000 * MS;

	(void)state;
	assert_false(pvli_tk_adapt_want(&a, 249, 25, true, now));
	assert_false(pvli_tk_adapt_want(&a, 250, 25, true, now));
	assert_true(pvli_tk_adapt_want(&a, 250, 25, true, now));
	/* Unknown is never a reason to go up, and ends a run. */
	assert_false(pvli_tk_adapt_want(&a, -1, 0, true, now));
	assert_false(pvli_tk_adapt_want(&a, 0, 0, true, now));
	/* 0: always up (whatever is known); 100: only at all of the time. */
	assert_true(pvli_tk_adapt_want(&a, 0, 0, true, now));
	assert_false(pvli_tk_adapt_want(&a, 999, 100, true, now));
	assert_false(pvli_tk_adapt_want(&a, 1000, 100, true, now));
	assert_true(pvli_tk_adapt_want(&a, 1000, 100, true, now));
	/* Switched off: never up. */
	assert_false(pvli_tk_adapt_want(&a, 1000, 25, false, now));
}

/* One loud period between quiet ones is a blip: no up; two are not. */
static void one_loud_period_is_a_blip(void **state)
{
	struct pvli_tk_adapt a = { .fast = false, .down_ns = 0 };
	u64 now = 10000 * MS;
	unsigned int i;

	(void)state;
	for (i = 0; i < 10; i++) {
		assert_false(pvli_tk_adapt_want(&a, 300, 25, true, now));
		assert_false(pvli_tk_adapt_want(&a, 100, 25, true, now));
	}
	/* Between the marks (neither quiet nor loud) ends a run too. */
	assert_false(pvli_tk_adapt_want(&a, 300, 25, true, now));
	assert_false(pvli_tk_adapt_want(&a, 130, 25, true, now));
	assert_false(pvli_tk_adapt_want(&a, 300, 25, true, now));
	assert_false(pvli_tk_adapt_want(&a, -1, 25, true, now));
	assert_false(pvli_tk_adapt_want(&a, 300, 25, true, now));
	assert_true(pvli_tk_adapt_want(&a, 300, 25, true, now));
}

/* Down only after 2 s in a row below half the threshold. */
static void down_after_two_quiet_seconds(void **state)
{
	struct pvli_tk_adapt a = { .fast = true };
	unsigned int i;

	(void)state;
	for (i = 1; i < PVLI_TK_ADAPT_DOWN_PERIODS; i++)
		assert_true(pvli_tk_adapt_want(&a, 124, 25, true, i * PERIOD));
	/* One period at the low mark starts the count again. */
	assert_true(pvli_tk_adapt_want(&a, 125, 25, true, 20 * PERIOD));
	for (i = 1; i < PVLI_TK_ADAPT_DOWN_PERIODS; i++)
		assert_true(pvli_tk_adapt_want(&a, 0, 25, true, (20 + i) * PERIOD));
	assert_false(pvli_tk_adapt_want(&a, 0, 25, true, 40 * PERIOD));
}

/*
 * An unknown period (a torn read, every vCPU just online) keeps the
 * state and the quiet count: it neither brings the way down closer nor
 * starts it again.  2 s of them in a row: down (no live page).
 */
static void unknown_periods_keep_the_state(void **state)
{
	struct pvli_tk_adapt a = { .fast = true };
	unsigned int i;

	(void)state;
	for (i = 0; i < PVLI_TK_ADAPT_DOWN_PERIODS - 1; i++)
		assert_true(pvli_tk_adapt_want(&a, 10, 25, true, 0));
	assert_true(pvli_tk_adapt_want(&a, -1, 25, true, 0));
	assert_int_equal(a.quiet, PVLI_TK_ADAPT_DOWN_PERIODS - 1);
	/* The last quiet period, after the unknown one: down. */
	assert_false(pvli_tk_adapt_want(&a, 10, 25, true, 0));

	a = (struct pvli_tk_adapt){ .fast = true };
	for (i = 1; i < PVLI_TK_ADAPT_DOWN_PERIODS; i++)
		assert_true(pvli_tk_adapt_want(&a, -1, 25, true, 0));
	assert_false(pvli_tk_adapt_want(&a, -1, 25, true, 0));
	/* Blind and down: a known period ends it; two loud ones go up. */
	a.fast = false;
	assert_false(pvli_tk_adapt_want(&a, 900, 25, true, 100000 * MS));
	assert_int_equal(a.blind, 0);
	assert_true(pvli_tk_adapt_want(&a, 900, 25, true, 100000 * MS));
}

static void down_at_once_when_switched_off(void **state)
{
	struct pvli_tk_adapt a = { .fast = true };

	(void)state;
	assert_false(pvli_tk_adapt_want(&a, 900, 25, false, 0));
	assert_false(pvli_tk_adapt_want(&a, -1, 25, false, 0));
}

/* After a down, up again only once it has been down for 1 s. */
static void no_up_within_a_second_of_a_down(void **state)
{
	u64 down = 5000 * MS;
	struct pvli_tk_adapt a = { .fast = false, .down_ns = down };

	(void)state;
	assert_false(pvli_tk_adapt_want(&a, 900, 25, true, down + 900 * MS));
	assert_false(pvli_tk_adapt_want(&a, 900, 25, true, down + 999 * MS));
	assert_true(pvli_tk_adapt_want(&a, 900, 25, true, down + PVLI_TK_ADAPT_MIN_DOWN_MS * MS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(share_of_the_vcpus_that_answer),
		cmocka_unit_test(steal_backwards_or_ahead_is_bounded),
		cmocka_unit_test(up_at_the_threshold),
		cmocka_unit_test(one_loud_period_is_a_blip),
		cmocka_unit_test(down_after_two_quiet_seconds),
		cmocka_unit_test(unknown_periods_keep_the_state),
		cmocka_unit_test(down_at_once_when_switched_off),
		cmocka_unit_test(no_up_within_a_second_of_a_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
