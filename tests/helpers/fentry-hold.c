// SPDX-License-Identifier: GPL-2.0-only
/*
 * fentry-hold: a test fixture, not a tool.  Attaches an empty BPF fentry
 * program (fentry_hold.bpf.c) to one kernel function and holds it there
 * until SIGTERM or SIGINT, as a user's bpftrace "kfunc:" probe would:
 * its BPF trampoline is that function's ftrace direct call.  The takeover
 * tests use it to take one spinlock function's direct call away from the
 * takeover (tests/vm/takeover-fallback.sh).
 *
 *   fentry-hold FUNCTION
 *
 * Prints "attached FUNCTION" once attached, and "detached FUNCTION calls
 * N" when told to go.  Exit 0; 1 with the reason on stderr; 2 on a
 * usage error.  Runs in
 * the guest image, so it is linked statically.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "fentry_hold.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: fentry-hold FUNCTION\n\n"
		"Attach an empty BPF fentry program to the kernel function FUNCTION\n"
		"and hold it there until SIGTERM or SIGINT (a test fixture: it takes\n"
		"FUNCTION's ftrace direct call).  Prints \"attached FUNCTION\" once\n"
		"attached and \"detached FUNCTION calls N\" at the end.\n");
}

int main(int argc, char **argv)
{
	struct fentry_hold_bpf *skel;
	struct sigaction sa = { .sa_handler = on_signal };
	const char *func;
	int err;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-') {
		usage(stderr);
		return 2;
	}
	func = argv[1];
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	skel = fentry_hold_bpf__open();
	if (!skel) {
		fprintf(stderr, "fentry-hold: cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	err = bpf_program__set_attach_target(skel->progs.hold_entry, 0, func);
	if (!err)
		err = fentry_hold_bpf__load(skel);
	if (err) {
		fprintf(stderr, "fentry-hold: cannot load an fentry program for %s: %s "
			"(is it a traceable kernel function? does the kernel have BTF?)\n",
			func, strerror(-err));
		goto out;
	}
	err = fentry_hold_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "fentry-hold: cannot attach to %s: %s%s\n", func, strerror(-err),
			err == -EBUSY ? " (another ftrace direct call, such as the takeover's, has it)" : "");
		goto out;
	}
	printf("attached %s\n", func);
	fflush(stdout);
	while (!stop)
		sleep(1);	/* a signal ends it early */
	printf("detached %s calls %llu\n", func, (unsigned long long)skel->bss->calls);
out:
	fentry_hold_bpf__destroy(skel);
	return err ? 1 : 0;
}
