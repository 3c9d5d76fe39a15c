// SPDX-License-Identifier: GPL-2.0-only
/* The adaptive entry's rule (see pvli_tk_adapt_rule.h). */
#include "pvli_tk_adapt_rule.h"

#ifdef __KERNEL__
#include <linux/math64.h>
#else
static inline u64 div64_u64(u64 a, u64 b)
{
	return a / b;
}
#endif

void pvli_tk_adapt_add(u64 prev, u64 cur, u64 dt, u64 *sum, unsigned int *n)
{
	if (prev == PVLI_TK_ADAPT_NONE || cur == PVLI_TK_ADAPT_NONE)
		return;
	if (cur > prev)
		*sum += cur - prev < dt ? cur - prev : dt;
	(*n)++;
}

int pvli_tk_adapt_share(u64 sum, unsigned int n, u64 dt)
{
	if (!n || !dt)
		return -1;
	/* sum <= n * dt (pvli_tk_adapt_add()): at most 1000. */
	return (int)div64_u64(sum * 1000, dt * n);
}

bool pvli_tk_adapt_want(struct pvli_tk_adapt *a, int permille, unsigned int steal_pct,
			bool switched_on, u64 now_ns)
{
	u64 up = (u64)steal_pct * 10;

	if (permille < 0) {
		a->blind++;	/* no information: the quiet count stays */
		a->loud = 0;	/* ... but no run of loud periods goes through it */
	} else {
		a->blind = 0;
		a->quiet = (u64)permille < up / 2 ? a->quiet + 1 : 0;
		a->loud = (u64)permille >= up ? a->loud + 1 : 0;
	}
	if (!switched_on || a->blind >= PVLI_TK_ADAPT_DOWN_PERIODS)
		return false;
	if (a->fast)
		return permille < 0 || a->quiet < PVLI_TK_ADAPT_DOWN_PERIODS;
	return a->loud >= PVLI_TK_ADAPT_UP_PERIODS &&
	       now_ns - a->down_ns >= PVLI_TK_ADAPT_MIN_DOWN_MS * 1000000ULL;
}
