/* SPDX-License-Identifier: GPL-2.0-only */
/* pvlockd internals shared by its files. */
#ifndef __PVLOCKD_H
#define __PVLOCKD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pvli_abi.h"
#include "host_sched.h"
#include "pvlockd_proto.h"
#include "vm_meta.h"

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };
extern enum log_level pvlockd_log_level;
void pvlockd_log(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define log_err(...)	pvlockd_log(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	pvlockd_log(LOG_WARN, __VA_ARGS__)
#define log_info(...)	pvlockd_log(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	pvlockd_log(LOG_DEBUG, __VA_ARGS__)

/* One registered VM. */
struct pvlockd_vm {
	bool used;
	struct vm_meta meta;		/* what survives a restart in NAME.meta */
	int page_fd;			/* the VM's page map */
	void *page;			/* pvlockd's own mapping of it */
	size_t page_bytes;
	int qmp_fd;			/* -1 until attached; hangs up when QEMU exits */
};

/* BPF maps pvlockd drives (fds from the skeleton or the pins). */
struct pvlockd_maps {
	int pages;
	int vcpus;
	int counters;
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
