// SPDX-License-Identifier: GPL-2.0-only
/* Parsing one control request line (pvlockd_req.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "pvlockd_proto.h"
#include "pvlockd_req.h"
#include "vm_meta.h"

#define BLANKS	" \t\r\n"

/* The register options, as words: what each asks the host to publish. */
static const struct {
	const char *word;
	uint32_t flag;
} register_opts[] = {
	{ "pcpu", PVLI_VM_PCPU },
	{ "quota-ancestors", PVLI_VM_QUOTA_ANCESTORS },
};

/* register NAME NVCPUS tcg|kvm [pcpu] [quota-ancestors] */
static int parse_register(struct pvlockd_req *req, char *err, size_t errlen)
{
	const char *name = req->word[1], *nstr = req->word[2], *astr = req->word[3];
	char *end;
	long n;

	n = nstr ? strtol(nstr, &end, 10) : 0;
	if (!name || !vm_name_valid(name) || !nstr || *end || n < 1 ||
	    n > PVLI_MAX_VCPUS_PER_VM || !astr || accel_parse(astr, &req->accel))
		goto usage;
	for (int i = 4; i < PVLOCKD_REQ_WORDS && req->word[i]; i++) {
		size_t o;

		for (o = 0; o < sizeof(register_opts) / sizeof(register_opts[0]); o++)
			if (!strcmp(req->word[i], register_opts[o].word))
				break;
		if (o == sizeof(register_opts) / sizeof(register_opts[0]) ||
		    (req->opts & register_opts[o].flag))
			goto usage;
		req->opts |= register_opts[o].flag;
	}
	if (req->extra)
		goto usage;
	req->name = name;
	req->nr_vcpus = n;
	return 0;
usage:
	seterr(err, errlen, "usage: register NAME NVCPUS(1-%d) tcg|kvm [pcpu] [quota-ancestors]",
	       PVLI_MAX_VCPUS_PER_VM);
	return -EINVAL;
}

int pvlockd_req_parse(char *line, struct pvlockd_req *req, char *err, size_t errlen)
{
	char *save = NULL;
	const char *cmd;

	memset(req, 0, sizeof(*req));
	for (int i = 0; i < PVLOCKD_REQ_WORDS; i++)
		req->word[i] = strtok_r(i ? NULL : line, BLANKS, &save);
	req->extra = req->word[PVLOCKD_REQ_WORDS - 1] && strtok_r(NULL, BLANKS, &save);
	cmd = req->word[0];
	if (!cmd) {
		seterr(err, errlen, "empty request");
		return -EINVAL;
	}
	if (!strcmp(cmd, "register")) {
		req->op = PVLOCKD_REQ_REGISTER;
		return parse_register(req, err, errlen);
	}
	if (!strcmp(cmd, "attach")) {
		req->op = PVLOCKD_REQ_ATTACH;
		req->name = req->word[1];
		req->qmp = req->word[2];
		return 0;
	}
	if (!strcmp(cmd, "unregister")) {
		req->op = PVLOCKD_REQ_UNREGISTER;
		req->name = req->word[1];
		return 0;
	}
	if (!strcmp(cmd, "status")) {
		req->op = PVLOCKD_REQ_STATUS;
		req->json = req->word[1] && !strcmp(req->word[1], "json");
		return 0;
	}
	seterr(err, errlen, "unknown request '%s'", cmd);
	return -EINVAL;
}
