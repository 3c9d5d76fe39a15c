/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Parsing one control request line (pvlockd_proto.h).  Pure: no socket,
 * no BPF, no daemon state, so unit tests link it alone (with vm_meta.c
 * for the accelerator names).  What needs the daemon's state (is the VM
 * registered? is a slot free?) is pvlockd_ctl.c's to check.
 */
#ifndef __PVLOCKD_REQ_H
#define __PVLOCKD_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pvlockd_req_op {
	PVLOCKD_REQ_REGISTER,
	PVLOCKD_REQ_ATTACH,
	PVLOCKD_REQ_UNREGISTER,
	PVLOCKD_REQ_STATUS,
};

/* A request's words: the command and up to five arguments, NULL if absent. */
#define PVLOCKD_REQ_WORDS	6

struct pvlockd_req {
	const char *word[PVLOCKD_REQ_WORDS];	/* as split, for the log */
	bool extra;		/* more words than PVLOCKD_REQ_WORDS */
	enum pvlockd_req_op op;
	const char *name;	/* register: valid; attach, unregister: as given or NULL */
	uint32_t nr_vcpus;	/* register: 1..PVLI_MAX_VCPUS_PER_VM */
	uint32_t accel;		/* register: enum pvli_accel */
	uint32_t opts;		/* register: PVLI_VM_* options asked for */
	const char *qmp;	/* attach: the QMP socket path, or NULL */
	bool json;		/* status json */
};

/*
 * Split @line into words at blanks and line ends (in place: @req points
 * into @line; words past the sixth are ignored, except that register
 * refuses them) and check the request's syntax.  Returns 0, or -EINVAL
 * with @err holding the reason for the "error" reply: an empty line, an
 * unknown command, or a register request whose name, vCPU count,
 * accelerator or options are not valid.  Names follow vm_name_valid().
 */
int pvlockd_req_parse(char *line, struct pvlockd_req *req, char *err, size_t errlen);

#endif /* __PVLOCKD_REQ_H */
