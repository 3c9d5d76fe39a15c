/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside pvlockinfo_test.ko: its debugfs commands (pvli_cmd.h), one per
 * file of pvlockinfo's debugfs directory.
 */
#ifndef __PVLI_TEST_H
#define __PVLI_TEST_H

#include "pvli_cmd.h"

extern struct pvli_cmd pvli_bench_cmd;		/* pvli_bench.c */
extern struct pvli_cmd pvli_hold_cmd;		/* pvli_probe.c */
extern struct pvli_cmd pvli_watch_cmd;
extern struct pvli_cmd pvli_quota_cmd;
extern struct pvli_cmd pvli_selftest_cmd;	/* pvli_selftest.c */
extern struct pvli_cmd pvli_lockcost_cmd;	/* pvli_lockcost.c */
extern struct pvli_cmd pvli_tsc_order_cmd;	/* pvli_tsc_order.c */

#endif /* __PVLI_TEST_H */
