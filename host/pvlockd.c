// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockd: the pvlockinfo host daemon.
 *
 * It sets the channel up and reports on it; it is not in the data path.
 * It loads host_sched.bpf.c once for all VMs, pins its maps and links
 * under PVLOCKD_PIN_ROOT (so the BPF side keeps writing the pages while
 * pvlockd is restarted or upgraded), creates one page per VM on request,
 * learns the VM's vCPU thread IDs over QMP, and tears the VM's state down
 * when QEMU's QMP socket hangs up.  Its control protocol is in
 * pvlockd_proto.h; its units are listed in pvlockd.h.
 *
 * This file: options, start-up and shutdown, the table of VMs, and the
 * re-adoption of the VMs a previous pvlockd left registered.
 */
#define _GNU_SOURCE
#include <argp.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pvlockd.h"
#include "pvlockd_bpf.h"
#include "pvlockd_ctl.h"
#include "pvlockd_log.h"
#include "pvlockd_loop.h"
#include "pvlockd_proto.h"
#include "qmp.h"

static struct {
	bool verbose;
	bool teardown;
} env;

static struct pvlockd daemon_state = {
	.socket = PVLOCKD_SOCKET,
};

const char *argp_program_version = "pvlockd " PVLOCKD_VERSION;
static const char doc[] =
"pvlockd: host daemon of pvlockinfo.\n"
"\n"
"Loads the sched_switch BPF program that writes every registered vCPU's\n"
"preemption state and run quota into its VM's shared page, creates and\n"
"pins one page per VM, learns vCPU threads over QMP, and cleans up when a\n"
"VM exits.  The BPF maps and links stay pinned under " PVLOCKD_PIN_ROOT ",\n"
"so the channel keeps flowing while pvlockd restarts; a new pvlockd\n"
"re-adopts the running VMs.\n"
"\n"
"EXAMPLES:\n"
"    pvlockd                 # run in the foreground (as the systemd unit does)\n"
"    pvlockd -l debug        # log every request\n"
"    pvlockd --teardown      # detach the BPF programs and remove all pins\n";

static const struct argp_option opts[] = {
	{ "socket", 's', "PATH", 0, "Control socket (default " PVLOCKD_SOCKET ")", 0 },
	{ "log-level", 'l', "LEVEL", 0, "error, warn, info (default) or debug", 0 },
	{ "verbose", 'v', NULL, 0, "Show libbpf debug output", 0 },
	{ "teardown", 'T', NULL, 0, "Detach the programs, remove every pin and exit", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 's':
		daemon_state.socket = arg;
		break;
	case 'l':
		if (!strcmp(arg, "error"))
			pvlockd_log_level = LOG_ERR;
		else if (!strcmp(arg, "warn"))
			pvlockd_log_level = LOG_WARN;
		else if (!strcmp(arg, "info"))
			pvlockd_log_level = LOG_INFO;
		else if (!strcmp(arg, "debug"))
			pvlockd_log_level = LOG_DEBUG;
		else
			argp_error(state, "unknown log level '%s'", arg);
		break;
	case 'v':
		env.verbose = true;
		break;
	case 'T':
		env.teardown = true;
		break;
	case ARGP_KEY_ARG:
		argp_usage(state);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* ---- the table of VMs --------------------------------------------------------- */

struct pvlockd_vm *pvlockd_vm_find(struct pvlockd *d, const char *name)
{
	for (int i = 0; i < PVLI_MAX_VMS; i++)
		if (d->vms[i].used && !strcmp(d->vms[i].meta.name, name))
			return &d->vms[i];
	return NULL;
}

void pvlockd_vm_remove(struct pvlockd *d, struct pvlockd_vm *vm, const char *why)
{
	log_info("VM %s: %s; removing its page and vCPU registrations", vm->meta.name, why);
	if (vm->qmp_fd >= 0)
		pvlockd_loop_unwatch_qmp(vm);
	vm_teardown(vm, &d->maps);
}

/* Re-adopt a VM a previous pvlockd left registered (a vm_meta_for_each() step). */
static int adopt_vm(const char *name, void *arg)
{
	struct pvlockd_vm vm = { .page_fd = -1, .qmp_fd = -1 };
	struct pvlockd *d = arg;
	char err[256];
	int fd;

	if (vm_meta_load(name, &vm.meta) || d->vms[vm.meta.slot].used ||
	    vm_adopt_page(&vm, d->generation)) {
		log_warn("VM %s: its saved state is unusable; removing it", name);
		vm_teardown(&vm, &d->maps);
		return 0;
	}
	if (vm.meta.qmp_path[0]) {
		fd = qmp_connect(vm.meta.qmp_path, err, sizeof(err));
		if (fd < 0) {
			log_info("VM %s: %s", name, err);
			vm.used = true;
			d->vms[vm.meta.slot] = vm;
			pvlockd_vm_remove(d, &d->vms[vm.meta.slot], "QEMU is gone");
			return 0;
		}
		vm.qmp_fd = fd;
	}
	vm.used = true;
	d->vms[vm.meta.slot] = vm;
	if (vm.qmp_fd >= 0)
		pvlockd_loop_watch_qmp(&d->vms[vm.meta.slot]);
	log_info("VM %s: re-adopted (slot %u, %s)", name, vm.meta.slot,
		 vm.qmp_fd >= 0 ? "attached" : "not attached yet");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct argp argp = { .options = opts, .parser = parse_arg, .doc = doc };
	struct pvlockd *d = &daemon_state;
	struct host_sched_bpf *skel = NULL;
	int lockfd = -1, lfd = -1, err;

	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return err;
	if (geteuid() != 0) {
		log_err("must run as root: it loads BPF programs and pins maps");
		return 1;
	}
	pvlockd_bpf_set_print(env.verbose);
	signal(SIGPIPE, SIG_IGN);
	mkdir(PVLOCKD_RUN_DIR, 0755);

	lockfd = open(PVLOCKD_RUN_DIR "/pvlockd.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lockfd < 0 || flock(lockfd, LOCK_EX | LOCK_NB)) {
		log_err("another pvlockd is running (lock %s/pvlockd.lock is held)",
			PVLOCKD_RUN_DIR);
		return 1;
	}
	if (env.teardown)
		return pvlockd_bpf_teardown();
	if (pvlockd_bpf_mount())
		return 1;

	/* Each pvlockd that takes over the pages gets a new generation. */
	d->generation = (uint32_t)time(NULL);
	err = pvlockd_bpf_load(&skel, &d->maps);
	if (err)
		goto cleanup;
	err = pvlockd_loop_init();
	if (err)
		goto cleanup;
	lfd = pvlockd_ctl_listen(d->socket);
	if (lfd < 0) {
		err = lfd;
		goto cleanup;
	}

	vm_meta_for_each(adopt_vm, d);
	pvlockd_loop_run(d, lfd);
	/* The pins stay: the channel keeps flowing until a new pvlockd takes over. */
	log_info("exiting; BPF programs and pages stay pinned under %s", PVLOCKD_PIN_ROOT);
	err = 0;

cleanup:
	if (lfd >= 0) {
		close(lfd);
		unlink(d->socket);
	}
	pvlockd_loop_exit();
	pvlockd_bpf_unload(skel);
	return err ? 1 : 0;
}
