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

bool pvlockd_valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > PVLOCKD_NAME_MAX || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] == '-' || s[i] == '_' || s[i] == '.' ||
		      (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return true;
}

/* register NAME NVCPUS tcg|kvm */
static int parse_register(struct pvlockd_req *req, char *err, size_t errlen)
{
	const char *name = req->word[1], *nstr = req->word[2], *astr = req->word[3];
	char *end;
	long n;

	n = nstr ? strtol(nstr, &end, 10) : 0;
	if (!name || !pvlockd_valid_name(name) || !nstr || *end || n < 1 ||
	    n > PVLI_MAX_VCPUS_PER_VM || !astr || accel_parse(astr, &req->accel)) {
		seterr(err, errlen, "usage: register NAME NVCPUS(1-%d) tcg|kvm",
		       PVLI_MAX_VCPUS_PER_VM);
		return -EINVAL;
	}
	req->name = name;
	req->nr_vcpus = n;
	return 0;
}

int pvlockd_req_parse(char *line, struct pvlockd_req *req, char *err, size_t errlen)
{
	char *save = NULL;
	const char *cmd;

	memset(req, 0, sizeof(*req));
	for (int i = 0; i < PVLOCKD_REQ_WORDS; i++)
		req->word[i] = strtok_r(i ? NULL : line, BLANKS, &save);
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
