// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockctl libvirt-xml (pvlockctl_libvirt.h).
 *
 * What a domain gets, and why:
 *  - <pvlock:channel/> in <metadata>: the QEMU hook registers opted-in
 *    domains only.
 *  - a static DAC label of root: pvlockd's pins live in a bpffs directory
 *    only root may enter, and QEMU opens the page there (BPF_OBJ_GET).
 *    relabel='no' keeps libvirt from chown'ing the domain's files.
 *  - -object memory-backend-bpf + -device ivshmem-plain: the page as BAR2
 *    of PCI device 1af4:1110, which pvlockinfo.ko binds in the guest.
 *  - a QMP monitor for pvlockd on a socket of its own: pvlockd learns the
 *    vCPU threads over it (query-cpus-fast) and sees QEMU exit when it
 *    hangs up.  libvirt's monitor cannot be shared (QMP serves one
 *    client), and a hook must not call back into libvirt.
 *  - -L for the firmware: the patched QEMU is built without its blobs and
 *    takes Debian's.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "pvli_abi.h"
#include "host_sched.h"
#include "pvlockctl_libvirt.h"
#include "pvlockd_proto.h"
#include "pvlockd_req.h"
#include "vm_meta.h"

#ifndef PVLI_FIRMWARE_DIRS
#define PVLI_FIRMWARE_DIRS	"/usr/share/qemu /usr/share/seabios"
#endif
#ifndef PVLI_QEMU_INSTALLED
#define PVLI_QEMU_INSTALLED	"/usr/local/libexec/pvlockinfo/qemu-system-x86_64"
#endif

#define QEMU_XMLNS	"http://libvirt.org/schemas/domain/qemu/1.0"

/*
 * The page's size for @nr_vcpus: pvlockd's rule (page_elems() in
 * pvlockd_vm.c): a power of two of records, the header one of them, at
 * least PVLI_PAGE_ELEMS_MIN.  The hook compares it with what pvlockd
 * answers at registration, so a change on one side only is caught there.
 */
static unsigned long page_bytes(uint32_t nr_vcpus)
{
	unsigned long elems = PVLI_PAGE_ELEMS_MIN;

	while (elems < nr_vcpus + 1UL)
		elems *= 2;
	return elems * sizeof(struct pvli_vcpu);
}

static void arg(FILE *out, const char *value)
{
	fprintf(out, "  <qemu:arg value='%s'/>\n", value);
}

int pvlockctl_libvirt_xml(FILE *out, const char *name, const char *nr_vcpus)
{
	char buf[512], *end;
	const char *p, *q;
	long n;

	if (!vm_name_valid(name)) {
		fprintf(stderr, "pvlockctl: invalid VM name '%s': 1 to %d of A-Z a-z 0-9 _ -\n",
			name, PVLOCKD_NAME_MAX);
		return -EINVAL;
	}
	errno = 0;
	n = strtol(nr_vcpus, &end, 10);
	if (errno || *end || end == nr_vcpus || n < 1 || n > PVLI_MAX_VCPUS_PER_VM) {
		fprintf(stderr, "pvlockctl: invalid vCPU count '%s': 1 to %d\n", nr_vcpus,
			PVLI_MAX_VCPUS_PER_VM);
		return -EINVAL;
	}

	fprintf(out,
		"<!-- pvlockinfo for libvirt domain '%s' with %ld vCPUs (<vcpu>%ld</vcpu>).\n"
		"     Its <emulator> must be the patched QEMU (make install puts it at\n"
		"     " PVLI_QEMU_INSTALLED ").\n"
		"     In <metadata>: -->\n"
		"<pvlock:channel xmlns:pvlock='" PVLI_LIBVIRT_XMLNS "'/>\n"
		"<!-- In <domain>: QEMU runs as root, to open pvlockd's pin. -->\n"
		"<seclabel type='static' model='dac' relabel='no'>\n"
		"  <label>+0:+0</label>\n"
		"</seclabel>\n"
		"<!-- In <domain>, after <devices>: the page and pvlockd's monitor. -->\n"
		"<qemu:commandline xmlns:qemu='" QEMU_XMLNS "'>\n",
		name, n, n);
	arg(out, "-object");
	snprintf(buf, sizeof(buf), "memory-backend-bpf,id=pvlipage,pinned=" PVLOCKD_PIN_VMS
		 "/%s/page,size=%lu", name, page_bytes(n));
	arg(out, buf);
	arg(out, "-device");
	arg(out, "ivshmem-plain,memdev=pvlipage");
	arg(out, "-chardev");
	snprintf(buf, sizeof(buf), "socket,id=pvlockd-qmp,path=" PVLI_LIBVIRT_RUN_DIR
		 "/%s/pvlockd-qmp.sock,server=on,wait=off", name);
	arg(out, buf);
	arg(out, "-mon");
	arg(out, "chardev=pvlockd-qmp,mode=control");
	/* -L DIR for each firmware directory, in order. */
	for (p = PVLI_FIRMWARE_DIRS; *p; p = q) {
		while (*p == ' ')
			p++;
		for (q = p; *q && *q != ' '; q++)
			;
		if (q == p)
			break;
		snprintf(buf, sizeof(buf), "%.*s", (int)(q - p), p);
		arg(out, "-L");
		arg(out, buf);
	}
	fprintf(out, "</qemu:commandline>\n");
	return 0;
}
