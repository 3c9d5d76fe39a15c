// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the host record's transitions (bpf/host/vcpu_record.bpf.h),
 * the code host_sched.bpf.c runs at every scheduler event of a vCPU
 * thread: each transition and its counters, the races the writers' lock
 * decides (a wakeup against a switch-in), time that does not advance, a
 * record full of guest garbage (the guest can write the whole page, seq
 * included), and several writers at once.
 */
#include <pthread.h>
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
#include "../../bpf/host/host_sched.h"
#include "../../bpf/host/preempt_kind.bpf.h"
#include "../../bpf/host/vcpu_record.bpf.h"

#define MS	1000000ULL

static struct pvli_vcpu_host h;
static struct pvli_vcpu_counters c;

static int reset(void **state)
{
	(void)state;
	memset(&h, 0, sizeof(h));
	memset(&c, 0, sizeof(c));
	return 0;
}

/* Run 10 ms, preempted 5 ms, run 2 ms, block, woken after 3 ms, run again. */
static void life_cycle(void **state)
{
	(void)state;
	assert_true(rec_switch_in(&h, &c, 100 * MS, 4 * MS, PVLI_PCPU_UNKNOWN));
	assert_int_equal(h.state, PVLI_STATE_RUNNING);
	assert_int_equal(h.quota_ns, 4 * MS);
	assert_int_equal(h.pcpu, PVLI_PCPU_UNKNOWN);
	assert_true(rec_switch_out(&h, &c, true, PVLI_PREEMPT_HARMLESS, 110 * MS));
	assert_int_equal(h.state, PVLI_STATE_PREEMPTED);
	assert_int_equal(h.run_ns, 10 * MS);
	assert_int_equal(h.quota_ns, 0);
	assert_int_equal(h.preempt_count, 1);
	assert_true(rec_switch_in(&h, &c, 115 * MS, PVLI_QUOTA_UNKNOWN, 1));
	assert_int_equal(h.steal_ns, 5 * MS);
	assert_true(rec_switch_out(&h, &c, false, PVLI_PREEMPT_LHP, 117 * MS));
	assert_int_equal(h.state, PVLI_STATE_IDLE);
	assert_int_equal(h.run_ns, 12 * MS);
	assert_int_equal(h.preempt_count, 1);	/* blocking is not a preemption */
	assert_int_equal(h.lhp_count, 0);
	assert_true(rec_wakeup(&h, &c, 120 * MS));
	assert_int_equal(h.state, PVLI_STATE_PREEMPTED);
	assert_false(rec_wakeup(&h, &c, 121 * MS));	/* already runnable */
	assert_true(rec_switch_in(&h, &c, 123 * MS, 1 * MS, 0));
	assert_int_equal(h.steal_ns, 8 * MS);		/* 5 + 3: from the wakeup */
	rec_exit(&h, &c, 124 * MS);
	assert_int_equal(h.state, PVLI_STATE_UNKNOWN);
	assert_int_equal(h.last_switch_ns, 124 * MS);

	/* Every transition took the lock once: seq counts them. */
	assert_int_equal(h.seq, 2 * 8);
	assert_int_equal(c.switch_in, 3);
	assert_int_equal(c.switch_out, 2);
	assert_int_equal(c.preempted, 1);
	assert_int_equal(c.wakeups, 1);
	assert_int_equal(c.in_running + c.out_not_running + c.dropped + c.racing_writers, 0);
}

/* What the guest was doing decides LHP, LWP or neither, in page and counters. */
static void preemption_kinds(void **state)
{
	(void)state;
	for (int k = 0; k < 3; k++) {
		rec_switch_in(&h, &c, 10 * MS * k, 0, 0);
		rec_switch_out(&h, &c, true, (enum pvli_preempt_kind)k, 10 * MS * k + 1);
	}
	assert_int_equal(h.preempt_count, 3);
	assert_int_equal(h.lhp_count, 1);
	assert_int_equal(h.lwp_count, 1);
	assert_int_equal(c.lhp, 1);
	assert_int_equal(c.lwp, 1);
}

/* A switch-in that wins the race against a remote wakeup is not undone. */
static void wakeup_loses_to_switch_in(void **state)
{
	(void)state;
	rec_switch_out(&h, &c, false, PVLI_PREEMPT_HARMLESS, 1 * MS);
	rec_switch_in(&h, &c, 2 * MS, 0, 0);
	assert_false(rec_wakeup(&h, &c, 2 * MS + 1));
	assert_int_equal(h.state, PVLI_STATE_RUNNING);
	assert_int_equal(c.wakeups, 0);
}

/* A thread running without a reported switch-in is repaired, once. */
static void repair(void **state)
{
	(void)state;
	rec_switch_out(&h, &c, true, PVLI_PREEMPT_HARMLESS, 1 * MS);
	assert_true(rec_repair(&h, &c, 3 * MS, 7, 1));
	assert_int_equal(h.state, PVLI_STATE_RUNNING);
	assert_int_equal(h.steal_ns, 2 * MS);
	assert_int_equal(h.quota_ns, 7);
	assert_false(rec_repair(&h, &c, 4 * MS, 8, 1));
	assert_int_equal(h.quota_ns, 7);
	assert_int_equal(c.repaired, 1);
	/* Its switch-in, reported late, finds it running. */
	rec_switch_in(&h, &c, 5 * MS, 0, 0);
	assert_int_equal(c.in_running, 1);
}

/* Time from another CPU may be behind: nothing is added, nothing wraps. */
static void time_not_advancing(void **state)
{
	(void)state;
	rec_switch_in(&h, &c, 10 * MS, 0, 0);
	rec_switch_out(&h, &c, true, PVLI_PREEMPT_HARMLESS, 9 * MS);
	assert_int_equal(h.run_ns, 0);
	rec_switch_in(&h, &c, 8 * MS, 0, 0);
	assert_int_equal(h.steal_ns, 0);
}

/*
 * The guest holds seq odd (it can write anything there): no update gets
 * in, each gives up and is counted, and nothing else is written.
 */
static void guest_holds_seq(void **state)
{
	struct pvli_vcpu_host before;

	(void)state;
	memset(&h, 0xa5, sizeof(h));
	h.seq = 0x7fffffff;
	before = h;
	assert_false(rec_switch_in(&h, &c, 1, 2, 3));
	assert_false(rec_switch_out(&h, &c, true, PVLI_PREEMPT_LHP, 4));
	assert_false(rec_wakeup(&h, &c, 5));
	assert_false(rec_repair(&h, &c, 6, 7, 8));
	rec_exit(&h, &c, 9);
	assert_memory_equal(&h, &before, sizeof(h));
	assert_int_equal(c.dropped, 5);
	assert_int_equal(c.racing_writers, 5);
	assert_int_equal(c.switch_in + c.switch_out + c.preempted + c.lhp, 0);
}

/* Garbage state and times: bounded arithmetic, the new state written. */
static void guest_garbage_record(void **state)
{
	(void)state;
	memset(&h, 0xff, sizeof(h));
	h.seq = 2;
	h.state = 0xdeadbeef;
	assert_true(rec_switch_out(&h, &c, true, PVLI_PREEMPT_HARMLESS, 5));
	assert_int_equal(c.out_not_running, 1);
	assert_int_equal(h.run_ns, UINT64_MAX);	/* untouched: it was not running */
	assert_int_equal(h.state, PVLI_STATE_PREEMPTED);
	h.state = 77;
	assert_false(rec_wakeup(&h, &c, 6));
	assert_true(rec_switch_in(&h, &c, 7, 8, 9));
	assert_int_equal(h.state, PVLI_STATE_RUNNING);
	assert_int_equal(c.in_running, 0);
	assert_int_equal(h.seq, 2 + 6);
}

static void pcpu_opt_in(void **state)
{
	(void)state;
	assert_int_equal(rec_pcpu(0, 3), PVLI_PCPU_UNKNOWN);
	assert_int_equal(rec_pcpu(PVLI_VM_QUOTA_ANCESTORS, 3), PVLI_PCPU_UNKNOWN);
	assert_int_equal(rec_pcpu(PVLI_VM_PCPU, 3), 3);
}

#define WRITERS	4
#define ROUNDS	100000

static struct pvli_vcpu_host shared;
static struct pvli_vcpu_counters shared_c;

/* Several CPUs write one record: each update is in, or dropped and counted. */
static void *writer(void *arg)
{
	long id = (long)arg;

	for (int i = 0; i < ROUNDS; i++) {
		switch ((i + id) % 3) {
		case 0:
			rec_switch_in(&shared, &shared_c, i, 1, 0);
			break;
		case 1:
			rec_switch_out(&shared, &shared_c, i & 1, PVLI_PREEMPT_HARMLESS, i);
			break;
		default:
			rec_repair(&shared, &shared_c, i, 1, 0);
			break;
		}
	}
	return NULL;
}

static void concurrent_writers(void **state)
{
	pthread_t t[WRITERS];

	(void)state;
	for (long i = 0; i < WRITERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer, (void *)i), 0);
	for (int i = 0; i < WRITERS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(shared.seq & 1, 0);
	/* Every attempt either got in (seq moved by 2) or was dropped, never both. */
	assert_int_equal(shared.seq / 2 + shared_c.dropped, (unsigned long)WRITERS * ROUNDS);
	/* The plain counters were only touched inside: none lost to a race. */
	assert_true(shared_c.switch_in + shared_c.switch_out + shared_c.repaired <= shared.seq / 2);
	/*
	 * Every entry that is not a switch is a repair, and a third of the
	 * calls are repairs.  Added, not subtracted: under load a writer
	 * preempted inside makes the others drop, seq / 2 can fall below a
	 * third of the calls, and the difference would wrap.
	 */
	assert_true(shared_c.switch_in + shared_c.switch_out +
		    (unsigned long)WRITERS * ROUNDS / 3 >= shared.seq / 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(life_cycle, reset),
		cmocka_unit_test_setup(preemption_kinds, reset),
		cmocka_unit_test_setup(wakeup_loses_to_switch_in, reset),
		cmocka_unit_test_setup(repair, reset),
		cmocka_unit_test_setup(time_not_advancing, reset),
		cmocka_unit_test_setup(guest_holds_seq, reset),
		cmocka_unit_test_setup(guest_garbage_record, reset),
		cmocka_unit_test_setup(pcpu_opt_in, reset),
		cmocka_unit_test(concurrent_writers),
	};

	return cmocka_run_group_tests_name("vcpu_record", tests, NULL, NULL);
}
