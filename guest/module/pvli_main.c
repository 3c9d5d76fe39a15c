// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockinfo: guest side of the vCPU preemption channel.
 *
 * Entry point: the ivshmem driver for the shared page (pvli_page.c), its
 * debugfs view (pvli_debugfs.c), the channel-aware locks (pvli_lock.c
 * over the core in guest/lock), their tracepoints (pvli_trace.c), and the
 * switch of the kernel-spinlock takeover (pvli_takeover_ctl.c), and the
 * channel for user space, /dev/pvlockinfo (pvli_chardev.c over the
 * scheduler view of pvli_sched_view.c), and BPF kfuncs for guest tracing
 * (pvli_kfunc.c).  What
 * measures and tests all that lives in pvlockinfo_test.ko (guest/test).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>

#include "pvlockinfo.h"
#include "shfl_lock.h"

#define PVLI_VERSION "0.1"

static int __init pvli_init(void)
{
	int ret;

	ret = shfl_shim_init();
	if (ret)
		return ret;
	pvli_debugfs_init();
	/* Before the page: binding it updates the device's view. */
	ret = pvli_chardev_init();
	if (ret)
		goto undo_debugfs;
	ret = pvli_page_init(pvli_chardev_host_changed);
	if (ret)
		goto undo_chardev;
	ret = pvli_kfunc_init();
	if (ret)
		goto undo_page;
	pvli_takeover_ctl_init();
	pr_info("version %s loaded (page ABI %u.%u)\n", PVLI_VERSION,
		PVLI_ABI_MAJOR, PVLI_ABI_MINOR);
	return 0;

undo_page:
	pvli_page_exit();
undo_chardev:
	pvli_chardev_exit();
undo_debugfs:
	pvli_debugfs_exit();
	shfl_shim_exit();
	return ret;
}

static void __exit pvli_exit(void)
{
	pvli_takeover_ctl_exit();
	pvli_page_exit();
	pvli_chardev_exit();
	pvli_debugfs_exit();
	/* No user of the locks is left: no kick may still be on its way. */
	shfl_shim_exit();
	pr_info("unloaded\n");
}

module_init(pvli_init);
module_exit(pvli_exit);

MODULE_DESCRIPTION("Paravirtual vCPU preemption channel and channel-aware locks");
MODULE_AUTHOR("pvlockinfo developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(PVLI_VERSION);
