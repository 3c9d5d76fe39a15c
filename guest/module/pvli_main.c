// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockinfo: guest side of the vCPU preemption channel.
 *
 * Entry point: the ivshmem driver for the shared page (pvli_page.c), its
 * debugfs view (pvli_debugfs.c) and the channel self-test
 * (pvli_selftest.c).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>

#include "pvlockinfo.h"

#define PVLI_VERSION "0.1"

static int __init pvli_init(void)
{
	int ret;

	pvli_debugfs_init();
	pvli_selftest_init();
	ret = pvli_page_init();
	if (ret) {
		pvli_debugfs_exit();
		pvli_selftest_exit();
		return ret;
	}
	pr_info("version %s loaded (page ABI %u.%u)\n", PVLI_VERSION,
		PVLI_ABI_MAJOR, PVLI_ABI_MINOR);
	return 0;
}

static void __exit pvli_exit(void)
{
	pvli_page_exit();
	pvli_debugfs_exit();
	pvli_selftest_exit();
	pr_info("unloaded\n");
}

module_init(pvli_init);
module_exit(pvli_exit);

MODULE_DESCRIPTION("Paravirtual vCPU preemption channel and channel-aware locks");
MODULE_AUTHOR("pvlockinfo developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(PVLI_VERSION);
