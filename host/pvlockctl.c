// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvlockctl: talk to pvlockd.
 *
 * A thin client of pvlockd's control socket: it sends one request and
 * prints the reply (the protocol is in pvlockd_proto.h).  pvlock-qemu and
 * the libvirt hook use it to register and attach VMs.  libvirt-xml is
 * answered here, without pvlockd (pvlockctl_libvirt.c).
 */
#include <argp.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "pvlockctl_libvirt.h"
#include "pvlockd_proto.h"
#include "vm_meta.h"

/* pvlockd answers within its own deadlines (an attach's is 5 s). */
#define REPLY_TIMEOUT_S	30

static struct {
	const char *socket;
	bool json;
	char request[PVLOCKD_REQUEST_MAX];
	char *word[4];		/* the first words, for the commands answered here */
	int nr_words;
} env = {
	.socket = PVLOCKD_SOCKET,
};

const char *argp_program_version = "pvlockctl 0.1";
static const char doc[] =
"pvlockctl: control and inspect pvlockd.\n"
"\n"
"COMMANDS:\n"
"    status                       VMs, vCPUs, their state and counters\n"
"    register NAME NVCPUS ACCEL [pcpu] [quota-ancestors]\n"
"                                 create and pin a page for a VM (tcg|kvm);\n"
"                                 prints the pin path and its size; pcpu:\n"
"                                 publish the host CPU of each vCPU;\n"
"                                 quota-ancestors: bound the run quota by the\n"
"                                 cgroups above the VM's own too\n"
"    attach NAME QMP-SOCKET       learn the VM's vCPU threads over QMP\n"
"    unregister NAME              remove a VM's page and registrations\n"
"    libvirt-xml NAME NVCPUS      print what libvirt domain NAME needs in its\n"
"                                 XML to get the channel (pvlockd not needed)\n"
"    valid-name NAME              exit 0 if NAME is a valid VM name (no daemon\n"
"                                 needed; pvlock-qemu checks names with it)\n"
"\n"
"EXAMPLES:\n"
"    pvlockctl status             # table\n"
"    pvlockctl status --json      # one JSON object\n"
"    pvlockctl libvirt-xml web 4  # XML for libvirt domain 'web', 4 vCPUs\n";

static const struct argp_option opts[] = {
	{ "socket", 's', "PATH", 0, "pvlockd's socket (default " PVLOCKD_SOCKET ")", 0 },
	{ "json", 'j', NULL, 0, "JSON output (status)", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	size_t len;

	switch (key) {
	case 's':
		env.socket = arg;
		break;
	case 'j':
		env.json = true;
		break;
	case ARGP_KEY_ARG:
		len = strlen(env.request);
		if (len + strlen(arg) + 2 >= sizeof(env.request) || strchr(arg, '\n') ||
		    strchr(arg, ' '))
			argp_error(state, "bad argument '%s'", arg);
		snprintf(env.request + len, sizeof(env.request) - len, "%s%s",
			 len ? " " : "", arg);
		if (env.nr_words < (int)(sizeof(env.word) / sizeof(env.word[0])))
			env.word[env.nr_words++] = arg;
		break;
	case ARGP_KEY_END:
		if (!env.request[0])
			argp_usage(state);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct argp argp = { .options = opts, .parser = parse_arg, .doc = doc };
	const ssize_t elen = sizeof(PVLOCKD_REPLY_ERROR) - 1;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char buf[4096];
	bool error = false, first = true;
	ssize_t n;
	int fd, err;

	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return err;
	if (!strcmp(env.word[0], "libvirt-xml")) {
		if (env.nr_words != 3) {
			fprintf(stderr, "pvlockctl: usage: libvirt-xml NAME NVCPUS\n");
			return 2;
		}
		return pvlockctl_libvirt_xml(stdout, env.word[1], env.word[2]) ? 2 : 0;
	}
	if (!strncmp(env.request, "valid-name ", 11))
		return vm_name_valid(env.request + 11) ? 0 : 1;
	if (!strcmp(env.request, "valid-name"))
		return 1;
	if (env.json && !strcmp(env.request, "status"))
		strcat(env.request, " json");
	strcat(env.request, "\n");

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", env.socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		fprintf(stderr, "pvlockctl: cannot reach pvlockd at %s: %s%s\n", env.socket,
			strerror(errno), errno == ENOENT || errno == ECONNREFUSED ?
			" (is pvlockd running? start it with 'pvlockd' or 'systemctl start pvlockd')" :
			errno == EACCES ? " (run as root)" : "");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){ .tv_sec = REPLY_TIMEOUT_S },
		   sizeof(struct timeval));
	if (write(fd, env.request, strlen(env.request)) < 0) {
		fprintf(stderr, "pvlockctl: cannot send the request: %s\n", strerror(errno));
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
		if (n < 0)
			continue;
		if (first && n >= elen && !strncmp(buf, PVLOCKD_REPLY_ERROR, elen)) {
			error = true;
			fprintf(stderr, "pvlockctl: ");
			fwrite(buf + elen, 1, n - elen, stderr);
		} else {
			fwrite(buf, 1, n, error ? stderr : stdout);
		}
		first = false;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		fprintf(stderr, "pvlockctl: pvlockd did not answer within %d s\n", REPLY_TIMEOUT_S);
		return 1;
	}
	close(fd);
	if (first) {
		fprintf(stderr, "pvlockctl: pvlockd closed the connection without a reply\n");
		return 1;
	}
	return error ? 1 : 0;
}
