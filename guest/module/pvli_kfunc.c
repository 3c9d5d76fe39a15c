// SPDX-License-Identifier: GPL-2.0-only
/*
 * BPF kfuncs: what guest tracing programs may ask of the channel.
 *
 * pvli_own_steal_ns() gives the calling vCPU's steal clock (host ns it
 * was runnable but not on a host CPU), so that a program timing a wait
 * can tell the part the waiter spent on a host CPU, which a halt could
 * have given to another vCPU, from the part the host had taken it away
 * anyway.  pvlocktrace uses it on the kernel's own qspinlock slow path
 * (bpf/guest/pvlocktrace.bpf.c), where no tracepoint of ours carries the
 * clock; it declares the kfunc weak, so it loads without this module.
 *
 * Registered for tracing programs: fentry/fexit can run in any context,
 * NMI included, sleepable ones too, and the kfunc only reads the page
 * under its own preemption-disabled RCU read side.  A program that uses
 * it holds a reference on this module while it is loaded.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/init.h>

#include "pvlockinfo.h"

__bpf_kfunc_start_defs();

/**
 * pvli_own_steal_ns - the calling vCPU's steal clock
 *
 * Return: host ns, or PVLI_TP_STEAL_UNKNOWN (~0) without a live page.
 */
__bpf_kfunc u64 pvli_own_steal_ns(void)
{
	return pvli_own_steal_ns_atomic();
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(pvli_kfunc_ids)
BTF_ID_FLAGS(func, pvli_own_steal_ns)
BTF_KFUNCS_END(pvli_kfunc_ids)

static const struct btf_kfunc_id_set pvli_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &pvli_kfunc_ids,
};

/*
 * Without module BTF the registration finds nothing to register and
 * returns -ENOENT: the module works on, libbpf finds no such kfunc, and
 * pvlocktrace's weak reference says the split is unknown.  Any other
 * failure fails the load: the kfunc would then be in the module's BTF but
 * not callable, and every program naming it, pvlocktrace's, would be
 * refused.  No unregister: the set goes with the module's BTF.
 */
int __init pvli_kfunc_init(void)
{
	int ret = register_btf_kfunc_id_set(BPF_PROG_TYPE_TRACING, &pvli_kfunc_set);

	if (ret == -ENOENT) {
		pr_warn("no module BTF: pvlocktrace cannot split kernel spinlock waits by the waiter's steal\n");
		return 0;
	}
	if (ret)
		pr_err("registering the BPF kfuncs failed (%d)\n", ret);
	return ret;
}
