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
#include "pvlockd_vm.h"
#include "pvlockd_log.h"
#include "pvlockd_proto.h"
#include "vm_meta.h"

#endif /* __PVLOCKD_H */
