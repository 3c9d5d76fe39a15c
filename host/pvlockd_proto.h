/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What pvlockd shows the outside: where it keeps its socket, state and pins,
 * and the control protocol.  pvlockctl and pvlockstat include this and
 * nothing of the daemon's internals.
 *
 * Control protocol: a unix stream socket (root only); the client sends one
 * request line of at most PVLOCKD_REQUEST_MAX - 1 bytes, pvlockd answers
 * with one or more lines and closes the connection.
 *   register NAME NVCPUS tcg|kvm  -> ok PIN BYTES   (create and pin the page)
 *   attach NAME QMP-SOCKET        -> ok NVCPUS      (query-cpus-fast, watch QEMU)
 *   unregister NAME               -> ok
 *   status [json]                 -> table or one JSON object
 * A failed request gets one line: PVLOCKD_REPLY_ERROR, then the reason.
 */
#ifndef __PVLOCKD_PROTO_H
#define __PVLOCKD_PROTO_H

#define PVLOCKD_RUN_DIR		"/run/pvlockinfo"
#define PVLOCKD_SOCKET		PVLOCKD_RUN_DIR "/pvlockd.sock"
/* One NAME.meta per registered VM (vm_meta.h). */
#define PVLOCKD_META_DIR	PVLOCKD_RUN_DIR "/vms"

/* BPF pins: maps/, links/, and vms/NAME/page for each VM's page. */
#define PVLOCKD_PIN_ROOT	"/sys/fs/bpf/pvlockinfo"
#define PVLOCKD_PIN_MAPS	PVLOCKD_PIN_ROOT "/maps"
#define PVLOCKD_PIN_LINKS	PVLOCKD_PIN_ROOT "/links"
#define PVLOCKD_PIN_VMS		PVLOCKD_PIN_ROOT "/vms"

/* A VM name: 1..PVLOCKD_NAME_MAX of [A-Za-z0-9_-] (bpffs refuses dots). */
#define PVLOCKD_NAME_MAX	64

/* A request line with its newline, and the terminating NUL. */
#define PVLOCKD_REQUEST_MAX	512

/* The first word of a failed request's reply, with its separator. */
#define PVLOCKD_REPLY_ERROR	"error "

#endif /* __PVLOCKD_PROTO_H */
