// SPDX-License-Identifier: GPL-2.0-only
/* pvlockd's test-only fault points (pvlockd_fault.h). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pvlockd_fault.h"
#include "pvlockd_log.h"

void pvlockd_fault_point(const char *point)
{
	const char *f = getenv("PVLOCKD_FAULT");

	if (!f)
		return;
	if (!strcmp(f, point)) {
		log_warn("PVLOCKD_FAULT=%s: killing myself here", point);
		raise(SIGKILL);
	}
	/* "sleep:POINT": stall 2 s there, a window for the test to act in. */
	if (!strncmp(f, "sleep:", 6) && !strcmp(f + 6, point)) {
		log_warn("PVLOCKD_FAULT=%s: stalling 2 s here", f);
		sleep(2);
	}
}
