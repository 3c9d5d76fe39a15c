/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One VM registered with pvlockd: its page (a BPF array map, pinned for
 * QEMU and mapped by pvlockd), its vCPU threads in the vcpus map, and the
 * QMP connection that tells pvlockd when QEMU is gone.
 */
#ifndef __PVLOCKD_VM_H
#define __PVLOCKD_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pvlockd_bpf.h"
#include "vm_meta.h"

struct pvlockd_vm {
	bool used;
	struct vm_meta meta;		/* what survives a restart in NAME.meta */
	int page_fd;			/* the VM's page map */
	void *page;			/* pvlockd's own mapping of it */
	size_t page_bytes;
	int qmp_fd;			/* -1 until attached; hangs up when QEMU exits */
};

/*
 * Create @vm's page for meta.nr_vcpus vCPUs, write its header, pin it and
 * install it in slot meta.slot.  0, or -errno with @err saying why (and
 * nothing left behind).
 */
int vm_page_create(struct pvlockd_vm *vm, const struct pvlockd_maps *maps,
		   uint32_t generation, char *err, size_t errlen);

/*
 * Register the @n vCPU threads @tids (QMP's cpu-index order) for @vm, all
 * or none.  0, or -errno with @err saying why.
 */
int vm_attach_tids(struct pvlockd_vm *vm, const struct pvlockd_maps *maps,
		   const uint32_t *tids, int n, char *err, size_t errlen);

/*
 * Undo all of @vm: its threads, slot, pin, .meta and fds; zero it.  Takes
 * a partly set-up @vm too.
 */
void vm_teardown(struct pvlockd_vm *vm, const struct pvlockd_maps *maps);

/* A restarted pvlockd: map the pinned page again and stamp @generation. */
int vm_adopt_page(struct pvlockd_vm *vm, uint32_t generation);

/* Publish the host TSC -> CLOCK_MONOTONIC line in the page's header. */
void vm_clock_update(struct pvlockd_vm *vm);

/* pvlockctl status: @vm's table, or its JSON object (@first: no comma). */
void vm_status(FILE *out, const struct pvlockd_vm *vm, const struct pvlockd_maps *maps,
	       bool json, bool first);

#endif /* __PVLOCKD_VM_H */
