/* SPDX-License-Identifier: GPL-2.0-only */
/* pvlockd internals shared by its files. */
#ifndef __PVLOCKD_H
#define __PVLOCKD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pvli_abi.h"
#include "host_sched.h"
#include "pvlockd_bpf.h"
#include "pvlockd_log.h"
#include "pvlockd_proto.h"
#include "vm_meta.h"

/* One registered VM. */
struct pvlockd_vm {
	bool used;
	struct vm_meta meta;		/* what survives a restart in NAME.meta */
	int page_fd;			/* the VM's page map */
	void *page;			/* pvlockd's own mapping of it */
	size_t page_bytes;
	int qmp_fd;			/* -1 until attached; hangs up when QEMU exits */
};

/* pvlockd_vm.c */
int vm_page_create(struct pvlockd_vm *vm, const struct pvlockd_maps *maps,
		   uint32_t generation, char *err, size_t errlen);
int vm_attach_tids(struct pvlockd_vm *vm, const struct pvlockd_maps *maps,
		   const uint32_t *tids, int n, char *err, size_t errlen);
void vm_teardown(struct pvlockd_vm *vm, const struct pvlockd_maps *maps);
int vm_adopt_page(struct pvlockd_vm *vm, uint32_t generation);
void vm_clock_update(struct pvlockd_vm *vm);
void vm_status(FILE *out, const struct pvlockd_vm *vm, const struct pvlockd_maps *maps,
	       bool json, bool first);

#endif /* __PVLOCKD_H */
