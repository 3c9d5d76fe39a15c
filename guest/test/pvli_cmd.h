/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Debugfs commands of pvlockinfo_test.ko: a file that a run's parameters
 * are written to as "key=value ...", and that reads back the last run's
 * result.
 *
 *   write  parse the keys (struct pvli_cmd_key), call ->run(), which
 *          starts kthreads on the CPUs it chooses (pvli_cmd_start()) and
 *          returns once they are done; keep the result it hands over, or
 *          why it failed.  The write returns then too, with the run's
 *          status.
 *   read   ->show() of the last result; the last failure, as ->error_fmt
 *          says; ->usage before the first run.
 *
 * One run of a command at a time (its mutex, held across the run and
 * around every read); runs of different commands may overlap.
 */
#ifndef __PVLI_CMD_H
#define __PVLI_CMD_H

#include <linux/mutex.h>
#include <linux/types.h>

struct dentry;
struct seq_file;

#define PVLI_CMD_MAX_KEYS	8
#define PVLI_CMD_WHY_SIZE	160
/* The value of a key that was not given and has no default. */
#define PVLI_CMD_UNSET		UINT_MAX
/* @max of a key that names a CPU; the run checks it (pvli_cmd_cpu_ok()). */
#define PVLI_CMD_CPU_MAX	(UINT_MAX - 1)

/**
 * struct pvli_cmd_key - one key a command accepts
 * @name:     as written, before the '='
 * @min:      smallest value accepted
 * @max:      largest value accepted
 * @def:      the value when the key is not given (PVLI_CMD_UNSET: none)
 * @text:     the value is text, kept as written (@min, @max, @def unused)
 * @required: the key must be given
 *
 * Numbers are read with kstrtouint(base 0).  A command with a single key
 * also takes its value bare: "N" is "key=N".
 */
struct pvli_cmd_key {
	const char *name;
	unsigned int min, max, def;
	bool text;
	bool required;
};

/**
 * struct pvli_cmd_args - a write, parsed; what ->run() gets
 * @val:  numbers, by the key's index in the command's table
 * @text: text values (NULL: not given), pointing into the written buffer
 * @why:  the run's reason for failing, if it has more to say than -errno
 */
struct pvli_cmd_args {
	unsigned int val[PVLI_CMD_MAX_KEYS];
	char *text[PVLI_CMD_MAX_KEYS];
	char why[PVLI_CMD_WHY_SIZE];
};

/**
 * struct pvli_cmd - a debugfs command
 * @name:      the file, in pvlockinfo's debugfs directory
 * @keys:      the keys a write may give, @nkeys of them
 * @usage:     what the file reads before the first run
 * @error_fmt: how a failure reads (one %s: the reason); NULL: "error: %s\n"
 * @needs_page: fail with -ENODEV, without running, unless the page is live
 * @run:       do the run: return 0 or -errno; *@result is what reads show
 *             (kmalloc()ed or kvmalloc()ed), kept until the next run, or
 *             kvfree()d at once if the run fails
 * @show:      print a result
 */
struct pvli_cmd {
	const char *name;
	const struct pvli_cmd_key *keys;
	unsigned int nkeys;
	const char *usage;
	const char *error_fmt;
	bool needs_page;
	int (*run)(struct pvli_cmd_args *a, void **result);
	void (*show)(struct seq_file *m, const void *result);

	/* private: under @lock */
	struct mutex lock;
	void *result;
	char why[PVLI_CMD_WHY_SIZE];	/* "": the last run did not fail */
	struct dentry *file;
};

int pvli_cmd_add(struct pvli_cmd *cmd, struct dentry *dir);
void pvli_cmd_remove(struct pvli_cmd *cmd);

/* For ->run(): fail with @err, saying why.  Returns @err. */
__printf(3, 4) int pvli_cmd_fail(struct pvli_cmd_args *a, int err, const char *fmt, ...);
/* Is @cpu a CPU a run can be started on? */
bool pvli_cmd_cpu_ok(unsigned int cpu);

/*
 * A run's kthreads: thread i runs @fn(@data, i) bound to CPU @cpus[i].
 * pvli_cmd_start() creates them all, then wakes them all; the caller
 * then waits for them with pvli_cmd_wait(), which reaps them.
 * pvli_cmd_run_on() does both.
 */
struct pvli_cmd_threads;
typedef void (*pvli_cmd_thread_fn)(void *data, unsigned int i);

struct pvli_cmd_threads *pvli_cmd_start(unsigned int n, const unsigned int *cpus,
					pvli_cmd_thread_fn fn, void *data, const char *name);
unsigned int pvli_cmd_wait(struct pvli_cmd_threads *th, unsigned int timeout_ms);
/* One thread on every online CPU, @fn(@data, i), and wait for them. */
int pvli_cmd_run_on_online(pvli_cmd_thread_fn fn, void *data, const char *name);
int pvli_cmd_run_on(unsigned int n, const unsigned int *cpus, pvli_cmd_thread_fn fn,
		    void *data, const char *name);

#endif /* __PVLI_CMD_H */
