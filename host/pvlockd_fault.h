/* SPDX-License-Identifier: GPL-2.0-only */
/* pvlockd's test-only fault points. */
#ifndef __PVLOCKD_FAULT_H
#define __PVLOCKD_FAULT_H

/*
 * If the environment's PVLOCKD_FAULT names @point, pvlockd kills itself
 * there with SIGKILL, as a crash would (the fault tests use it to stop
 * pvlockd in the middle of a request); if it is "sleep:@point", pvlockd
 * stalls 2 s there instead (a window in which a test makes something
 * happen between two steps).
 */
void pvlockd_fault_point(const char *point);

#endif /* __PVLOCKD_FAULT_H */
