// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockinfo: /dev/pvlockinfo, the channel for user space.
 *
 * A misc device that maps, read-only, the guest scheduler view
 * (pvli_sched_view.c) at offset PVLI_UAPI_VIEW_OFFSET and the host's
 * shared page (the ivshmem BAR pvli_page.c binds) at
 * PVLI_UAPI_HOST_OFFSET.  Layout and rules: include/pvli_uapi.h.
 *
 * Read-only, whatever the caller does: open() refuses write access,
 * mmap() refuses VM_WRITE and clears VM_MAYWRITE (so mprotect() cannot
 * add it, and a MAP_PRIVATE mapping cannot be made writable to COW the
 * page), and the host region is VM_IO | VM_PFNMAP, which ptrace and
 * /proc/PID/mem cannot reach.
 *
 * The host region follows the device: its pages are inserted at fault
 * time, the BAR's pages while a device is bound and the zero page past
 * its end or without one.  When the binding or the driver's trust in the
 * page changes, pvli_chardev_host_changed() updates the view header and
 * zaps every mapping of the region, so the next access faults in what is
 * true now.  host_lock orders that against faults: a fault that looked
 * at the binding inserts its page before the zap can run.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/rwsem.h>
#include <linux/slab.h>

#include "pvlockinfo.h"
#include "pvli_uapi.h"

#define HOST_PGOFF	(PVLI_UAPI_HOST_OFFSET >> PAGE_SHIFT)

static DECLARE_RWSEM(host_lock);	/* the binding vs. faults in the host region */
static LIST_HEAD(open_files);		/* under host_lock, for the zap */

struct pvli_chardev_file {
	struct list_head node;
	struct file *file;
};

static vm_fault_t host_fault(struct vm_fault *vmf)
{
	unsigned long pfn;
	vm_fault_t ret;

	down_read(&host_lock);
	if (!pvli_page_user_pfn(vmf->pgoff - HOST_PGOFF, &pfn))
		pfn = my_zero_pfn(vmf->address);
	ret = vmf_insert_pfn(vmf->vma, vmf->address, pfn);
	up_read(&host_lock);
	return ret;
}

static const struct vm_operations_struct host_vm_ops = {
	.fault = host_fault,
};

static int pvli_chardev_mmap(struct file *file, struct vm_area_struct *vma)
{
	unsigned long len = vma->vm_end - vma->vm_start;

	if (vma->vm_flags & VM_WRITE)
		return -EPERM;
	vm_flags_clear(vma, VM_MAYWRITE);
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	if (vma->vm_pgoff == PVLI_UAPI_VIEW_OFFSET >> PAGE_SHIFT)
		return pvli_sched_view_mmap(vma);
	if (vma->vm_pgoff != HOST_PGOFF || len > PVLI_UAPI_HOST_MAX)
		return -EINVAL;
	vm_flags_set(vma, VM_IO | VM_PFNMAP);
	vma->vm_ops = &host_vm_ops;
	return 0;
}

static int pvli_chardev_open(struct inode *inode, struct file *file)
{
	struct pvli_chardev_file *f;
	int ret;

	if (file->f_mode & FMODE_WRITE)
		return -EPERM;
	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	ret = pvli_sched_view_get();
	if (ret) {
		kfree(f);
		return ret;
	}
	f->file = file;
	file->private_data = f;
	down_write(&host_lock);
	list_add(&f->node, &open_files);
	up_write(&host_lock);
	return 0;
}

/* Called when the last mapping and descriptor of the file are gone. */
static int pvli_chardev_release(struct inode *inode, struct file *file)
{
	struct pvli_chardev_file *f = file->private_data;

	down_write(&host_lock);
	list_del(&f->node);
	up_write(&host_lock);
	kfree(f);
	pvli_sched_view_put();
	return 0;
}

static const struct file_operations pvli_chardev_fops = {
	.owner = THIS_MODULE,
	.open = pvli_chardev_open,
	.release = pvli_chardev_release,
	.mmap = pvli_chardev_mmap,
	.llseek = noop_llseek,
};

static struct miscdevice pvli_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "pvlockinfo",
	.fops = &pvli_chardev_fops,
	.mode = 0444,
};

/**
 * pvli_chardev_host_changed - the host page was bound, unbound, or the
 * driver's trust in it changed; may sleep
 * @live: pvli_available() now
 * @size: bytes of the bound page a process may map (0: none bound)
 */
void pvli_chardev_host_changed(bool live, u32 size)
{
	struct pvli_chardev_file *f;

	down_write(&host_lock);
	pvli_sched_view_set_host(live, size);
	list_for_each_entry(f, &open_files, node)
		unmap_mapping_range(f->file->f_mapping, PVLI_UAPI_HOST_OFFSET,
				    PVLI_UAPI_HOST_MAX, 1);
	up_write(&host_lock);
}

int pvli_chardev_init(void)
{
	int ret = pvli_sched_view_init();

	if (ret)
		return ret;
	ret = misc_register(&pvli_miscdev);
	if (ret) {
		pr_err("cannot register /dev/pvlockinfo: %d\n", ret);
		pvli_sched_view_exit();
	}
	return ret;
}

void pvli_chardev_exit(void)
{
	misc_deregister(&pvli_miscdev);
	pvli_sched_view_exit();
}
