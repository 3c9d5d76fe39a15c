/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pvlockctl libvirt-xml: what a libvirt domain needs in its XML to get the
 * channel.  The one place that says it: the QEMU hook
 * (host/libvirt/pvlockinfo-hook) runs this command to learn the arguments
 * it checks a domain's <qemu:commandline> against, and where the QMP
 * socket it hands to pvlockd will be.
 */
#ifndef __PVLOCKCTL_LIBVIRT_H
#define __PVLOCKCTL_LIBVIRT_H

#include <stdint.h>
#include <stdio.h>

/* The opt-in element, <pvlock:channel/> in the domain's <metadata>. */
#define PVLI_LIBVIRT_XMLNS	"urn:pvlockinfo:libvirt:1"

/*
 * Per domain NAME, the QEMU hook keeps NAME/pvlockd-qmp.sock here: a QMP
 * monitor of pvlockd's own, as libvirt's monitor is libvirt's.
 */
#define PVLI_LIBVIRT_RUN_DIR	"/run/pvlockinfo/libvirt"

/*
 * Print the XML for domain @name with @nr_vcpus vCPUs to @out: the
 * metadata element, the DAC label and the <qemu:commandline>, each a
 * well-formed element that declares its own namespace.  0, or -EINVAL
 * (and a message on stderr) for a bad name or vCPU count.
 */
int pvlockctl_libvirt_xml(FILE *out, const char *name, const char *nr_vcpus);

#endif /* __PVLOCKCTL_LIBVIRT_H */
