/* SPDX-License-Identifier: GPL-2.0-only */
/* Minimal QMP client: enough to learn a VM's vCPU thread IDs. */
#ifndef __PVLOCKD_QMP_H
#define __PVLOCKD_QMP_H

#include <stddef.h>
#include <stdint.h>

#define QMP_MAX_VCPUS 64

/*
 * Connect to the QMP socket at @path, leave capabilities negotiation
 * mode, and return the connected fd (kept open: it hangs up when QEMU
 * exits) or -errno.  @err gets a message on failure.
 */
int qmp_connect(const char *path, char *err, size_t errlen);

/*
 * query-cpus-fast: fill @tids[cpu-index] with each vCPU's host thread ID.
 * Returns the number of vCPUs or -errno (@err says why).
 */
int qmp_vcpu_tids(int fd, uint32_t *tids, int max, char *err, size_t errlen);

#endif /* __PVLOCKD_QMP_H */
