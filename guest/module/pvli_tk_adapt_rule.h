/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The adaptive entry's rule (pvli_tk_adapt.c): from each period's steal,
 * whether the direct entry's fast paths should be on.  Plain C with no
 * kernel dependency, so that the user-space unit tests
 * (tests/unit/test_tk_adapt.c) drive it through every case, including
 * those a VM cannot stage on demand (a torn page, a vCPU that never
 * answers, steal that goes backwards).
 */
#ifndef __PVLI_TK_ADAPT_RULE_H
#define __PVLI_TK_ADAPT_RULE_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stdint.h>
typedef uint64_t u64;
#endif

#define PVLI_TK_ADAPT_PERIOD_MS		100
#define PVLI_TK_ADAPT_DOWN_PERIODS	20	/* 2 s quiet (or blind) before going down */
#define PVLI_TK_ADAPT_MIN_DOWN_MS	1000	/* down at least this long before up again */
/*
 * Periods in a row at the threshold before going up: one is a blip (an
 * idle 4x guest's steal reads 1-13% per period, and now and then one
 * more), and going up costs a text patch with its RCU-tasks waits.
 */
#define PVLI_TK_ADAPT_UP_PERIODS	2
/* A vCPU's steal that is not known (PVLI_TP_STEAL_UNKNOWN), or no base yet. */
#define PVLI_TK_ADAPT_NONE		(~(u64)0)

struct pvli_tk_adapt {
	bool fast;		/* up: direct calls on, holders named */
	unsigned int quiet;	/* periods in a row below the low mark (half the threshold) */
	unsigned int loud;	/* known periods in a row at the threshold */
	unsigned int blind;	/* periods in a row in which no vCPU answered (they end a loud run) */
	u64 down_ns;		/* when it last went down */
};

/*
 * One vCPU's steal over a period of @dt ns, from @prev (its steal at the
 * period's start) to @cur: added to *@sum, and *@n counted, unless either
 * is PVLI_TK_ADAPT_NONE.  Steal that went backwards (a new page starts at
 * 0) counts as none; more than @dt (a preempted vCPU's is extrapolated
 * with the host's clock) as @dt.
 */
void pvli_tk_adapt_add(u64 prev, u64 cur, u64 dt, u64 *sum, unsigned int *n);

/* The steal share in per mille of @n vCPUs' @dt ns each, or -1 if @n or @dt is 0. */
int pvli_tk_adapt_share(u64 sum, unsigned int n, u64 dt);

/*
 * After a period with steal share @permille (-1: unknown), the threshold
 * @steal_pct (0-100), the switch @switched_on, at @now_ns: whether the
 * fast paths should be on.  Counts quiet, loud and blind periods in @a; the
 * caller sets @a->fast (and @a->down_ns when it goes down) once it has
 * switched.  The rule:
 *   down at once when switched off;
 *   down after PVLI_TK_ADAPT_DOWN_PERIODS in a row below half the
 *     threshold, or in which no vCPU answered (an unknown period keeps
 *     the state and leaves the quiet count as it is);
 *   up when PVLI_TK_ADAPT_UP_PERIODS known periods in a row reach the
 *     threshold (an unknown one starts the count again), but not sooner
 *     than PVLI_TK_ADAPT_MIN_DOWN_MS after going down.
 */
bool pvli_tk_adapt_want(struct pvli_tk_adapt *a, int permille, unsigned int steal_pct,
			bool switched_on, u64 now_ns);

#endif /* __PVLI_TK_ADAPT_RULE_H */
