// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the log2 helpers in bpf/bits.bpf.h, against the plain
 * loops they replaced: pvlockstat's and pvlocktrace's histograms must
 * put every value in the slot they always did.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/types.h>

#include "../../bpf/bits.bpf.h"

/* floor(log2(v)) by shifting, 0 for 0. */
static __u32 ref_log2(__u64 v)
{
	__u32 r = 0;

	while (v > 1) {
		v >>= 1;
		r++;
	}
	return r;
}

/* The values around every power of two, and both ends. */
static void for_edges(void (*check)(__u64 v))
{
	check(0);
	check(~0ULL);
	for (int i = 0; i < 64; i++) {
		__u64 p = 1ULL << i;

		check(p - 1);
		check(p);
		check(p + 1);
	}
}

static void check_log2(__u64 v)
{
	assert_int_equal(log2_u64(v), ref_log2(v));
}

static void log2_is_floor_log2(void **state)
{
	(void)state;
	for_edges(check_log2);
	assert_int_equal(log2_u64(0), 0);
	assert_int_equal(log2_u64(1), 0);
	assert_int_equal(log2_u64(~0ULL), 63);
}

/* pvlockstat's slots (27 of them) as its loop computed them before. */
static __u32 ref_pvlockstat_slot(__u64 us)
{
	__u32 slot = 0;

	for (int i = 0; i < 27 - 1; i++) {
		if (us < 2)
			break;
		us >>= 1;
		slot++;
	}
	return slot;
}

static void check_slots(__u64 v)
{
	__u32 t = log2_slot(v, 36);

	assert_int_equal(log2_slot(v, 27), ref_pvlockstat_slot(v));
	/* pvlocktrace's: floor(log2), the last of 36 slots open-ended. */
	assert_int_equal(t, ref_log2(v) < 36 ? ref_log2(v) : 35);
	assert_true(t < 36);
}

static void slots_are_capped(void **state)
{
	(void)state;
	for_edges(check_slots);
	assert_int_equal(log2_slot(1ULL << 40, 27), 26);
	assert_int_equal(log2_slot(3, 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(log2_is_floor_log2),
		cmocka_unit_test(slots_are_capped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
