// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockd: the pvlockinfo host daemon.
 *
 * It sets the channel up and reports on it; it is not in the data path.
 * It loads bpf/host_sched.bpf.c once for all VMs, pins its maps and links
 * under PIN_ROOT (so the BPF side keeps writing the pages while pvlockd
 * is restarted or upgraded), creates one page per VM on request, learns
 * the VM's vCPU thread IDs over QMP, and tears the VM's state down when
 * QEMU's QMP socket hangs up.  Its control protocol is in pvlockd_proto.h.
 */
#define _GNU_SOURCE
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>

#include "pvlockd.h"
#include "pvlockd_bpf.h"
#include "qmp.h"

#define PVLOCKD_VERSION	"0.1"
#define TAG_LISTEN	1
#define TAG_SIGNAL	2
#define TAG_TIMER	3
#define TAG_QMP		0x100	/* + slot; fd in the upper 32 bits */

static struct {
	const char *socket;
	bool verbose;
	bool teardown;
} env = {
	.socket = PVLOCKD_SOCKET,
};

static struct pvlockd_vm vms[PVLI_MAX_VMS];
static struct pvlockd_maps maps;
static struct io_uring ring;
static uint32_t generation;

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
		env.socket = arg;
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

/* ---- event loop ----------------------------------------------------------------- */

static int arm_poll(int fd, uint64_t tag)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_add(sqe, fd, POLLIN | POLLRDHUP);
	io_uring_sqe_set_data64(sqe, tag);
	return io_uring_submit(&ring) < 0 ? -EIO : 0;
}

static uint64_t qmp_tag(const struct pvlockd_vm *vm)
{
	return ((uint64_t)vm->qmp_fd << 32) | (TAG_QMP + vm->meta.slot);
}

static void cancel_poll(uint64_t tag)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	if (!sqe)
		return;
	io_uring_prep_poll_remove(sqe, tag);
	io_uring_sqe_set_data64(sqe, 0);
	io_uring_submit(&ring);
}

static void vm_remove(struct pvlockd_vm *vm, const char *why)
{
	log_info("VM %s: %s; removing its page and vCPU registrations", vm->meta.name, why);
	if (vm->qmp_fd >= 0)
		cancel_poll(qmp_tag(vm));
	vm_teardown(vm, &maps);
}

static struct pvlockd_vm *vm_find(const char *name)
{
	for (int i = 0; i < PVLI_MAX_VMS; i++)
		if (vms[i].used && !strcmp(vms[i].meta.name, name))
			return &vms[i];
	return NULL;
}

static bool valid_name(const char *s)
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

static void req_register(FILE *out, const char *name, const char *nstr, const char *astr)
{
	struct pvlockd_vm *vm = NULL;
	char err[256], pin[256];
	uint32_t accel;
	char *end;
	long n;

	n = nstr ? strtol(nstr, &end, 10) : 0;
	if (!name || !valid_name(name) || !nstr || *end || n < 1 ||
	    n > PVLI_MAX_VCPUS_PER_VM || !astr || accel_parse(astr, &accel)) {
		fprintf(out, "error usage: register NAME NVCPUS(1-%d) tcg|kvm\n",
			PVLI_MAX_VCPUS_PER_VM);
		return;
	}
	if (vm_find(name)) {
		fprintf(out, "error VM '%s' is already registered\n", name);
		return;
	}
	for (int i = 0; i < PVLI_MAX_VMS && !vm; i++)
		if (!vms[i].used)
			vm = &vms[i];
	if (!vm) {
		fprintf(out, "error all %d VM slots are in use\n", PVLI_MAX_VMS);
		return;
	}
	memset(vm, 0, sizeof(*vm));
	vm->page_fd = vm->qmp_fd = -1;
	snprintf(vm->meta.name, sizeof(vm->meta.name), "%s", name);
	vm->meta.slot = vm - vms;
	vm->meta.nr_vcpus = n;
	vm->meta.accel = accel;
	if (vm_page_create(vm, &maps, generation, err, sizeof(err))) {
		fprintf(out, "error %s\n", err);
		memset(vm, 0, sizeof(*vm));
		return;
	}
	vm->used = true;
	if (vm_meta_save(&vm->meta))
		log_warn("VM %s: cannot save its state for a restart: %s", name, strerror(errno));
	snprintf(pin, sizeof(pin), PVLOCKD_PIN_ROOT "/vms/%s/page", name);
	log_info("VM %s: registered in slot %u, %ld vCPUs, %s, page %s (%zu bytes)",
		 name, vm->meta.slot, n, astr, pin, vm->page_bytes);
	fprintf(out, "ok %s %zu\n", pin, vm->page_bytes);
}

static void req_attach(FILE *out, const char *name, const char *qmp)
{
	struct pvlockd_vm *vm = name ? vm_find(name) : NULL;
	uint32_t tids[QMP_MAX_VCPUS];
	char err[256];
	int fd, n;

	if (!vm || !qmp) {
		fprintf(out, "error %s\n", vm ? "usage: attach NAME QMP-SOCKET" :
			"no such VM registered");
		return;
	}
	if (vm->qmp_fd >= 0) {
		fprintf(out, "error VM '%s' is already attached\n", name);
		return;
	}
	fd = qmp_connect(qmp, err, sizeof(err));
	if (fd < 0) {
		fprintf(out, "error %s\n", err);
		return;
	}
	n = qmp_vcpu_tids(fd, tids, QMP_MAX_VCPUS, err, sizeof(err));
	if (n < 0 || vm_attach_tids(vm, &maps, tids, n, err, sizeof(err))) {
		close(fd);
		fprintf(out, "error %s\n", err);
		return;
	}
	vm->qmp_fd = fd;
	snprintf(vm->meta.qmp_path, sizeof(vm->meta.qmp_path), "%s", qmp);
	vm_meta_save(&vm->meta);
	arm_poll(fd, qmp_tag(vm));
	log_info("VM %s: attached over %s, %d vCPU threads", name, qmp, n);
	fprintf(out, "ok %d\n", n);
}

static void req_status(FILE *out, bool json)
{
	bool first = true;

	if (json)
		fprintf(out, "{\"pvlockd\":\"%s\",\"generation\":%u,\"vms\":[",
			PVLOCKD_VERSION, generation);
	for (int i = 0; i < PVLI_MAX_VMS; i++) {
		if (!vms[i].used)
			continue;
		vm_status(out, &vms[i], &maps, json, first);
		first = false;
	}
	if (json)
		fprintf(out, "]}\n");
	else if (first)
		fprintf(out, "no VMs registered\n");
}

static void handle_request(char *line, FILE *out)
{
	char *save, *cmd = strtok_r(line, " \t\r\n", &save);
	char *a1 = strtok_r(NULL, " \t\r\n", &save);
	char *a2 = strtok_r(NULL, " \t\r\n", &save);
	char *a3 = strtok_r(NULL, " \t\r\n", &save);
	struct pvlockd_vm *vm;

	log_debug("request: %s %s %s %s", cmd ? cmd : "", a1 ? a1 : "", a2 ? a2 : "",
		  a3 ? a3 : "");
	if (!cmd)
		fprintf(out, "error empty request\n");
	else if (!strcmp(cmd, "register"))
		req_register(out, a1, a2, a3);
	else if (!strcmp(cmd, "attach"))
		req_attach(out, a1, a2);
	else if (!strcmp(cmd, "unregister")) {
		vm = a1 ? vm_find(a1) : NULL;
		if (!vm) {
			fprintf(out, "error no such VM registered\n");
			return;
		}
		vm_remove(vm, "unregistered");
		fprintf(out, "ok\n");
	} else if (!strcmp(cmd, "status"))
		req_status(out, a1 && !strcmp(a1, "json"));
	else
		fprintf(out, "error unknown request '%s'\n", cmd);
}

static void serve_client(int lfd)
{
	struct timeval tv = { .tv_sec = 2 };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char line[512];
	ssize_t n;
	FILE *out;
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || cred.uid != 0) {
		dprintf(fd, "error only root may control pvlockd\n");
		close(fd);
		return;
	}
	n = recv(fd, line, sizeof(line) - 1, 0);
	if (n <= 0) {
		close(fd);
		return;
	}
	line[n] = '\0';
	out = fdopen(fd, "w");
	if (!out) {
		close(fd);
		return;
	}
	handle_request(line, out);
	fclose(out);
}

static void on_qmp_event(uint64_t tag, int res)
{
	int slot = (tag & 0xffffffff) - TAG_QMP, fd = tag >> 32;
	struct pvlockd_vm *vm = &vms[slot];
	char buf[4096];
	ssize_t n;

	if (res == -ECANCELED || slot < 0 || slot >= PVLI_MAX_VMS || !vm->used ||
	    vm->qmp_fd != fd)
		return;
	if (res < 0 || (res & (POLLHUP | POLLRDHUP | POLLERR))) {
		vm_remove(vm, "QEMU exited (QMP socket hung up)");
		return;
	}
	n = read(fd, buf, sizeof(buf));	/* asynchronous QMP events: not needed */
	if (n <= 0) {
		vm_remove(vm, "QEMU exited (QMP socket closed)");
		return;
	}
	arm_poll(fd, tag);
}

static int listen_socket(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	mode_t old;
	int fd;

	if (strlen(env.socket) >= sizeof(addr.sun_path)) {
		log_err("socket path too long: %s", env.socket);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, env.socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(env.socket);
	old = umask(077);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(fd, 16)) {
		int err = -errno;

		umask(old);
		log_err("cannot listen on %s: %s", env.socket, strerror(-err));
		close(fd);
		return err;
	}
	umask(old);
	return fd;
}

/* Re-adopt a VM a previous pvlockd left registered (a vm_meta_for_each() step). */
static int adopt_vm(const char *name, void *arg)
{
	struct pvlockd_vm vm = { .page_fd = -1, .qmp_fd = -1 };
	char err[256];
	int fd;

	(void)arg;
	if (vm_meta_load(name, &vm.meta) || vms[vm.meta.slot].used ||
	    vm_adopt_page(&vm, generation)) {
		log_warn("VM %s: its saved state is unusable; removing it", name);
		vm_teardown(&vm, &maps);
		return 0;
	}
	if (vm.meta.qmp_path[0]) {
		fd = qmp_connect(vm.meta.qmp_path, err, sizeof(err));
		if (fd < 0) {
			log_info("VM %s: %s", name, err);
			vm.used = true;
			vms[vm.meta.slot] = vm;
			vm_remove(&vms[vm.meta.slot], "QEMU is gone");
			return 0;
		}
		vm.qmp_fd = fd;
	}
	vm.used = true;
	vms[vm.meta.slot] = vm;
	if (vm.qmp_fd >= 0)
		arm_poll(vm.qmp_fd, qmp_tag(&vms[vm.meta.slot]));
	log_info("VM %s: re-adopted (slot %u, %s)", name, vm.meta.slot,
		 vm.qmp_fd >= 0 ? "attached" : "not attached yet");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct argp argp = { .options = opts, .parser = parse_arg, .doc = doc };
	struct itimerspec one_second = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	struct host_sched_bpf *skel = NULL;
	int lockfd = -1, lfd = -1, sfd = -1, tfd = -1, err;
	struct io_uring_cqe *cqe;
	bool stop = false;
	sigset_t mask;

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
	generation = (uint32_t)time(NULL);
	err = pvlockd_bpf_load(&skel, &maps);
	if (err)
		goto cleanup;

	err = io_uring_queue_init(64, &ring, 0);
	if (err) {
		log_err("io_uring_queue_init: %s", strerror(-err));
		goto cleanup;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	lfd = listen_socket();
	if (sfd < 0 || tfd < 0 || lfd < 0) {
		err = lfd < 0 ? lfd : -errno;
		goto cleanup;
	}
	timerfd_settime(tfd, 0, &one_second, NULL);

	vm_meta_for_each(adopt_vm, NULL);
	arm_poll(lfd, TAG_LISTEN);
	arm_poll(sfd, TAG_SIGNAL);
	arm_poll(tfd, TAG_TIMER);
	log_info("ready on %s (generation %u)", env.socket, generation);

	while (!stop) {
		uint64_t tag, ticks;
		int res;

		err = io_uring_wait_cqe(&ring, &cqe);
		if (err == -EINTR)
			continue;
		if (err) {
			log_err("io_uring_wait_cqe: %s", strerror(-err));
			break;
		}
		tag = io_uring_cqe_get_data64(cqe);
		res = cqe->res;
		io_uring_cqe_seen(&ring, cqe);

		switch (tag) {
		case 0:		/* a poll_remove's own completion */
			break;
		case TAG_LISTEN:
			serve_client(lfd);
			arm_poll(lfd, TAG_LISTEN);
			break;
		case TAG_SIGNAL:
			stop = true;
			break;
		case TAG_TIMER:
			if (read(tfd, &ticks, sizeof(ticks)) < 0)
				break;
			for (int i = 0; i < PVLI_MAX_VMS; i++)
				if (vms[i].used)
					vm_clock_update(&vms[i]);
			arm_poll(tfd, TAG_TIMER);
			break;
		default:
			on_qmp_event(tag, res);
			break;
		}
	}
	/* The pins stay: the channel keeps flowing until a new pvlockd takes over. */
	log_info("exiting; BPF programs and pages stay pinned under %s", PVLOCKD_PIN_ROOT);
	err = 0;

cleanup:
	if (lfd >= 0) {
		close(lfd);
		unlink(env.socket);
	}
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	if (ring.ring_fd)
		io_uring_queue_exit(&ring);
	pvlockd_bpf_unload(skel);
	return err ? 1 : 0;
}
