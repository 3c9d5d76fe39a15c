// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the takeover's refusal list (guest/module/pvli_tk_refuse.c):
 * every entry refuses on its own, with its reason, including the kernels
 * the VM tests cannot boot (LOCKDEP, DEBUG_SPINLOCK, pv spinlocks); a
 * kernel that fits is accepted; and the order of the list decides which
 * reason is given when several apply.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pvli_tk_refuse.h"

/* The guest the takeover is made for: a 2-CPU KVM/TCG guest, virt_spin_lock on. */
static struct pvli_tk_facts fits(void)
{
	struct pvli_tk_facts f = {
		.hypervisor = true,
		.cpus = 2,
		.virt_spin_lock = true,
	};
	return f;
}

static void accepts_the_guest_it_is_made_for(void **state)
{
	struct pvli_tk_facts f = fits();
	char why[256] = "untouched";

	(void)state;
	assert_int_equal(pvli_tk_refusal(&f, why, sizeof(why)), 0);
	f.cpus = 64;
	assert_int_equal(pvli_tk_refusal(&f, why, sizeof(why)), 0);
}

struct entry {
	const char *name;
	void (*spoil)(struct pvli_tk_facts *f);
	int ret;
	const char *reason;	/* a substring of the reason */
};

static void no_hypervisor(struct pvli_tk_facts *f) { f->hypervisor = false; }
static void one_cpu(struct pvli_tk_facts *f) { f->cpus = 1; }
static void lockdep(struct pvli_tk_facts *f) { f->lockdep = true; }
static void debug_spinlock(struct pvli_tk_facts *f) { f->debug_spinlock = true; }
static void pv_spinlocks(struct pvli_tk_facts *f) { f->pv_spinlocks = true; }
static void vsl_off(struct pvli_tk_facts *f) { f->virt_spin_lock = false; }
static void nohz_full(struct pvli_tk_facts *f) { f->nohz_full = 3; }
static void ipmodify(struct pvli_tk_facts *f) { f->ipmodify_taken = "_raw_spin_lock"; }

/* In the order of the list. */
static const struct entry entries[] = {
	{ "hypervisor", no_hypervisor, -EOPNOTSUPP, "not a guest" },
	{ "one cpu", one_cpu, -EOPNOTSUPP, "one CPU" },
	{ "lockdep", lockdep, -EOPNOTSUPP, "LOCKDEP" },
	{ "debug_spinlock", debug_spinlock, -EOPNOTSUPP, "DEBUG_SPINLOCK" },
	{ "pv spinlocks", pv_spinlocks, -EOPNOTSUPP, "paravirt spinlocks" },
	{ "virt_spin_lock off", vsl_off, -EOPNOTSUPP, "virt_spin_lock_key is off" },
	{ "nohz_full", nohz_full, -EOPNOTSUPP, "3 nohz_full CPUs" },
	{ "ipmodify", ipmodify, -EBUSY, "already patches _raw_spin_lock" },
};
#define NR_ENTRIES (sizeof(entries) / sizeof(entries[0]))

static void each_entry_refuses_alone(void **state)
{
	(void)state;
	for (size_t i = 0; i < NR_ENTRIES; i++) {
		struct pvli_tk_facts f = fits();
		char why[256] = "";

		entries[i].spoil(&f);
		if (pvli_tk_refusal(&f, why, sizeof(why)) != entries[i].ret)
			fail_msg("%s: not refused with %d (%s)", entries[i].name, entries[i].ret, why);
		if (!strstr(why, entries[i].reason))
			fail_msg("%s: reason \"%s\" lacks \"%s\"", entries[i].name, why,
				 entries[i].reason);
	}
}

/* Every entry applies: each prefix of the list spoilt, the first one speaks. */
static void first_reason_wins(void **state)
{
	(void)state;
	for (size_t first = 0; first < NR_ENTRIES; first++) {
		struct pvli_tk_facts f = fits();
		char why[256] = "";

		for (size_t i = first; i < NR_ENTRIES; i++)
			entries[i].spoil(&f);
		assert_int_equal(pvli_tk_refusal(&f, why, sizeof(why)), entries[first].ret);
		if (!strstr(why, entries[first].reason))
			fail_msg("from %s on: reason \"%s\" is not the first one's",
				 entries[first].name, why);
	}
}

static void one_nohz_full_cpu_is_singular(void **state)
{
	struct pvli_tk_facts f = fits();
	char why[256] = "";

	(void)state;
	f.nohz_full = 1;
	assert_int_equal(pvli_tk_refusal(&f, why, sizeof(why)), -EOPNOTSUPP);
	assert_non_null(strstr(why, "1 nohz_full CPU:"));
}

/* A short buffer gets a terminated prefix, never an overrun. */
static void short_buffer(void **state)
{
	struct pvli_tk_facts f = fits();
	char why[9];

	(void)state;
	memset(why, 'x', sizeof(why));
	f.lockdep = true;
	assert_int_equal(pvli_tk_refusal(&f, why, 8), -EOPNOTSUPP);
	assert_int_equal(strlen(why), 7);
	assert_int_equal(why[8], 'x');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepts_the_guest_it_is_made_for),
		cmocka_unit_test(each_entry_refuses_alone),
		cmocka_unit_test(first_reason_wins),
		cmocka_unit_test(one_nohz_full_cpu_is_singular),
		cmocka_unit_test(short_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
