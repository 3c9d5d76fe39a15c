/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside pvlockinfo_test.ko: the parts it is made of, each adding its
 * files to pvlockinfo's debugfs directory.
 */
#ifndef __PVLI_TEST_H
#define __PVLI_TEST_H

int pvli_selftest_init(void);
void pvli_selftest_exit(void);
int pvli_probe_init(void);
void pvli_probe_exit(void);
int pvli_bench_init(void);
void pvli_bench_exit(void);

#endif /* __PVLI_TEST_H */
