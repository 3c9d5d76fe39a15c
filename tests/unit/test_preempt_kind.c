// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the lock-holder/lock-waiter preemption rule that both
 * host BPF programs count with (bpf/host/preempt_kind.bpf.h), over every
 * combination of the four guest-half fields it reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <linux/types.h>

#include "../../include/pvli_abi.h"
#include "../../bpf/bits.bpf.h"
#include "../../bpf/host/preempt_kind.bpf.h"

static struct pvli_vcpu_guest guest(__u32 depth, __u32 kdepth, __u64 wait, __u32 kwait)
{
	struct pvli_vcpu_guest g;

	/* Every other field set: the rule must not look at them. */
	memset(&g, 0xa5, sizeof(g));
	g.hold_depth = depth;
	g.kernel_hold_depth = kdepth;
	g.wait_lock = wait;
	g.kernel_waiting = kwait;
	return g;
}

static void nothing_held_is_harmless(void **state)
{
	struct pvli_vcpu_guest g = guest(0, 0, 0, 0);
	bool kernel = true;

	(void)state;
	assert_int_equal(pvli_preempt_kind(&g, &kernel), PVLI_PREEMPT_HARMLESS);
	assert_false(kernel);
	assert_int_equal(pvli_preempt_kind(&g, NULL), PVLI_PREEMPT_HARMLESS);
}

/* All 16 zero/nonzero combinations, with large values as nonzero. */
static void every_combination(void **state)
{
	(void)state;
	for (int m = 0; m < 16; m++) {
		bool depth = m & 1, kdepth = m & 2, wait = m & 4, kwait = m & 8;
		struct pvli_vcpu_guest g = guest(depth ? 0x80000000u : 0, kdepth ? 3 : 0,
						 wait ? 1ULL << 63 : 0, kwait ? 2 : 0);
		enum pvli_preempt_kind want = depth || kdepth ? PVLI_PREEMPT_LHP :
					      wait || kwait ? PVLI_PREEMPT_LWP :
					      PVLI_PREEMPT_HARMLESS;
		bool want_kernel = want == PVLI_PREEMPT_LHP ? kdepth :
				   want == PVLI_PREEMPT_LWP ? kwait : false;
		bool kernel = !want_kernel;

		assert_int_equal(pvli_preempt_kind(&g, &kernel), want);
		assert_int_equal(kernel, want_kernel);
		assert_int_equal(pvli_preempt_kind(&g, NULL), want);
	}
}

/* A vCPU that holds a user lock while it spins on a kernel one: an LHP, not a kernel one. */
static void hold_outranks_wait(void **state)
{
	struct pvli_vcpu_guest g = guest(1, 0, 0, 1);
	bool kernel = true;

	(void)state;
	assert_int_equal(pvli_preempt_kind(&g, &kernel), PVLI_PREEMPT_LHP);
	assert_false(kernel);
	g = guest(0, 1, 42, 0);
	assert_int_equal(pvli_preempt_kind(&g, &kernel), PVLI_PREEMPT_LHP);
	assert_true(kernel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nothing_held_is_harmless),
		cmocka_unit_test(every_combination),
		cmocka_unit_test(hold_outranks_wait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
