// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockinfo: guest side of the vCPU preemption channel.
 *
 * This is the module's entry point.  It currently only announces itself;
 * the ivshmem driver for the shared page, the lock core and the lock
 * benchmark harness are added to this module as separate files.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>

#include "pvli_abi.h"

#define PVLI_VERSION "0.1"

static int __init pvli_init(void)
{
	pr_info("version %s loaded (page ABI %u.%u)\n", PVLI_VERSION,
		PVLI_ABI_MAJOR, PVLI_ABI_MINOR);
	return 0;
}

static void __exit pvli_exit(void)
{
	pr_info("unloaded\n");
}

module_init(pvli_init);
module_exit(pvli_exit);

MODULE_DESCRIPTION("Paravirtual vCPU preemption channel and channel-aware locks");
MODULE_AUTHOR("pvlockinfo developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(PVLI_VERSION);
