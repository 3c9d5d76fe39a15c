// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockd: the pvlockinfo host daemon.
 *
 * It sets the channel up and reports on it; it is not in the data path.
 * It loads host_sched.bpf.c once for all VMs, pins its maps and links
 * under PVLOCKD_PIN_ROOT (so the BPF side keeps writing the pages while
 * pvlockd is restarted or upgraded), creates one page per VM on request,
 * learns the VM's vCPU thread IDs over QMP, and tears the VM's state down
 * when QEMU exits (seen on its pidfd).  Its control protocol is in
 * pvlockd_proto.h; its units are listed in pvlockd.h.
 *
 * This file: options, start-up and shutdown, the loop's periodic tick,
 * and what the event loop calls for each completion.
 */
#define _GNU_SOURCE
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pvlockd.h"
#include "pvlockd_adopt.h"
#include "pvlockd_attach.h"
#include "pvlockd_bpf.h"
#include "pvlockd_ctl.h"
#include "pvlockd_log.h"
#include "pvlockd_loop.h"
#include "pvlockd_proto.h"

static struct {
	bool verbose;
	bool teardown;
} env;

static struct pvlockd daemon_state = {
	.socket = PVLOCKD_SOCKET,
	.attach_timeout_s = PVLOCKD_ATTACH_TIMEOUT_S,
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
"    pvlockd --attach-timeout 30   # drop VMs not attached 30 s after register\n"
"    pvlockd --teardown      # detach the BPF programs and remove all pins\n";

static const struct argp_option opts[] = {
	{ "socket", 's', "PATH", 0, "Control socket (default " PVLOCKD_SOCKET ")", 0 },
	{ "log-level", 'l', "LEVEL", 0, "error, warn, info (default) or debug", 0 },
	{ "verbose", 'v', NULL, 0, "Show libbpf debug output", 0 },
	{ "teardown", 'T', NULL, 0, "Detach the programs, remove every pin and exit", 0 },
	{ "attach-timeout", 'a', "SECS", 0, "Drop a VM that registers and does not attach within "
	  "SECS (default 120)", 0 },
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
	case 'a': {
		char *end;
		long v;

		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno || *end || v < 1 || v > 86400)
			argp_error(state, "--attach-timeout '%s': seconds, 1 to 86400", arg);
		daemon_state.attach_timeout_s = v;
		break;
	}
	case ARGP_KEY_ARG:
		argp_usage(state);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* The loop's 100 ms tick: deadlines, expiries, and each second the clocks. */
static void on_tick(void *ctx)
{
	struct pvlockd *d = ctx;
	static unsigned ticks;
	uint64_t now = pvlockd_now_ns();
	char why[96];

	pvlockd_ctl_tick(d, now);
	ticks++;
	for (int i = 0; i < PVLI_MAX_VMS; i++) {
		struct pvlockd_vm *vm = &d->vms[i];

		if (!vm->used)
			continue;
		pvlockd_attach_tick(d, vm, now);
		if (!vm->used)
			continue;
		if (vm->expires_ns && now > vm->expires_ns && !vm->attach && !vm_attached(vm) &&
		    !vm->meta.tids[0]) {
			snprintf(why, sizeof(why), "registered %u s ago and never attached",
				 d->attach_timeout_s);
			pvlockd_vm_remove(d, vm, why);
			continue;
		}
		pvlockd_vm_watch(d, vm);
		if (ticks % 10)
			continue;
		if (!vm_attached(vm) && vm->meta.tids[0] && vm->meta.qmp_path[0])
			pvlockd_adopt_learn_qemu(d, vm);
		else
			vm_clock_update(vm);
	}
}

/* ---- what the event loop calls ----------------------------------------------- */

static void on_ready(void *ctx)
{
	struct pvlockd *d = ctx;

	log_info("ready on %s (generation %u)", d->socket, d->generation);
}

static void on_accept(void *ctx, int lfd)
{
	pvlockd_ctl_accept(ctx, lfd);
}

static void on_client(void *ctx, unsigned idx, uint32_t gen, int res)
{
	if (idx < PVLOCKD_MAX_CLIENTS)
		pvlockd_ctl_event(ctx, idx, gen, res);
}

/* The VM in @slot if it is still the one of generation @gen, else NULL. */
static struct pvlockd_vm *current_vm(struct pvlockd *d, unsigned slot, uint32_t gen)
{
	if (slot >= PVLI_MAX_VMS || !d->vms[slot].used || d->vms[slot].gen != gen)
		return NULL;
	return &d->vms[slot];
}

static void on_qemu_exit(void *ctx, unsigned slot, uint32_t gen)
{
	struct pvlockd_vm *vm = current_vm(ctx, slot, gen);

	if (vm)
		pvlockd_vm_remove(ctx, vm, "QEMU exited");
}

static void on_qmp(void *ctx, unsigned slot, uint32_t gen, int res)
{
	struct pvlockd_vm *vm = current_vm(ctx, slot, gen);

	if (vm)
		pvlockd_attach_event(ctx, vm, res);
}

static const struct pvlockd_loop_ops loop_ops = {
	.ready = on_ready,
	.accept = on_accept,
	.tick = on_tick,
	.client = on_client,
	.qemu_exit = on_qemu_exit,
	.qmp = on_qmp,
};

int main(int argc, char **argv)
{
	static const struct argp argp = { .options = opts, .parser = parse_arg, .doc = doc };
	struct pvlockd *d = &daemon_state;
	struct host_sched_bpf *skel = NULL;
	struct timespec now;
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

	/*
	 * Each pvlockd that takes over the pages gets a new generation: the
	 * wall clock in microseconds, so that two restarts within a second
	 * differ too (it wraps after 71 minutes; two starts landing on the
	 * same value are as good as impossible).
	 */
	clock_gettime(CLOCK_REALTIME, &now);
	d->generation = (uint32_t)(now.tv_sec * 1000000ULL + now.tv_nsec / 1000) ?: 1;
	for (int i = 0; i < PVLI_MAX_VMS; i++)
		vm_init(&d->vms[i]);
	for (int i = 0; i < PVLOCKD_MAX_CLIENTS; i++)
		d->clients[i].fd = -1;
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

	pvlockd_adopt(d);
	err = pvlockd_loop_run(&loop_ops, d, lfd, &d->loop);
	pvlockd_ctl_close_all(d);
	/* The pins stay: the channel keeps flowing until a new pvlockd takes over. */
	log_info("exiting; BPF programs and pages stay pinned under %s", PVLOCKD_PIN_ROOT);

cleanup:
	if (lfd >= 0) {
		close(lfd);
		unlink(d->socket);
	}
	pvlockd_loop_exit();
	pvlockd_bpf_unload(skel);
	return err ? 1 : 0;
}
