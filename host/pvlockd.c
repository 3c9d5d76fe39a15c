// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockd: the pvlockinfo host daemon (its units are listed in
 * pvlockd.h; main() is in pvlockd_main.c).
 *
 * This file: the table of VMs.
 */
#include <poll.h>
#include <string.h>

#include "pvlockd.h"

struct pvlockd_vm *pvlockd_vm_find(struct pvlockd *d, const char *name)
{
	for (int i = 0; i < PVLI_MAX_VMS; i++)
		if (d->vms[i].used && !strcmp(d->vms[i].meta.name, name))
			return &d->vms[i];
	return NULL;
}

void pvlockd_vm_watch(struct pvlockd *d, struct pvlockd_vm *vm)
{
	(void)d;
	if (vm->pidfd < 0 || vm->watched)
		return;
	/* Retried from the tick if the ring cannot take it now. */
	vm->watched = !pvlockd_loop_poll(vm->pidfd, POLLIN, pvlockd_vm_qemu_tag(vm));
}
