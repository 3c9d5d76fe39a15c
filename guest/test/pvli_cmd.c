// SPDX-License-Identifier: GPL-2.0-only
/*
 * Debugfs commands of pvlockinfo_test.ko: the parser, the write and read
 * handlers every command shares, and its kthreads.  See pvli_cmd.h.
 *
 * Thread lifetime: each thread is pinned (get_task_struct()) from its
 * creation until pvli_cmd_wait() has seen it return and stopped it
 * (kthread_stop_put()), so when a write returns none of its threads
 * still runs this module's code and the module may be unloaded.  A run
 * whose threads do not return in time leaves them running: they still
 * use their memory and this module's code, so both are kept for good.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "pvlockinfo.h"
#include "pvli_cmd.h"

/* ---- parsing ---------------------------------------------------------------- */

int pvli_cmd_fail(struct pvli_cmd_args *a, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->why, sizeof(a->why), fmt, ap);
	va_end(ap);
	return err;
}

bool pvli_cmd_cpu_ok(unsigned int cpu)
{
	return cpu < nr_cpu_ids && cpu_online(cpu);
}

static int find_key(const struct pvli_cmd *cmd, const char *name)
{
	for (unsigned int i = 0; i < cmd->nkeys; i++)
		if (!strcmp(cmd->keys[i].name, name))
			return i;
	return -1;
}

/* "unknown key 'x' (a, b, c)" */
static int unknown_key(const struct pvli_cmd *cmd, struct pvli_cmd_args *a, const char *key)
{
	int n = scnprintf(a->why, sizeof(a->why), "unknown key '%s' (", key);

	for (unsigned int i = 0; i < cmd->nkeys; i++)
		n += scnprintf(a->why + n, sizeof(a->why) - n, "%s%s", i ? ", " : "",
			       cmd->keys[i].name);
	scnprintf(a->why + n, sizeof(a->why) - n, ")");
	return -EINVAL;
}

/*
 * Fill @a from @buf: whitespace-separated key=value tokens, each naming
 * a key of @cmd (a key given twice: the last one counts).
 */
static int parse(const struct pvli_cmd *cmd, char *buf, struct pvli_cmd_args *a)
{
	bool given[PVLI_CMD_MAX_KEYS] = { };
	const char *key;
	char *tok, *val;
	unsigned int i;

	for (i = 0; i < cmd->nkeys; i++)
		a->val[i] = cmd->keys[i].def;
	while ((tok = strsep(&buf, " \t\n")) != NULL) {
		int k;

		if (!*tok)
			continue;
		val = tok;
		key = strsep(&val, "=");	/* @tok: the key; @val: after the '=' */
		if (!val) {
			if (cmd->nkeys != 1)
				return pvli_cmd_fail(a, -EINVAL, "'%s' is not key=value", key);
			val = tok;	/* a single-key command's bare value */
			key = cmd->keys[0].name;
		}
		k = find_key(cmd, key);
		if (k < 0)
			return unknown_key(cmd, a, key);
		given[k] = true;
		if (cmd->keys[k].text) {
			a->text[k] = val;
			continue;
		}
		if (kstrtouint(val, 0, &a->val[k]) || a->val[k] < cmd->keys[k].min ||
		    a->val[k] > cmd->keys[k].max)
			return pvli_cmd_fail(a, -EINVAL, "bad value '%s' for %s", val, key);
	}
	for (i = 0; i < cmd->nkeys; i++)
		if (cmd->keys[i].required && !given[i])
			return pvli_cmd_fail(a, -EINVAL, "no %s= given", cmd->keys[i].name);
	return 0;
}

/* ---- the file ----------------------------------------------------------------- */

static ssize_t cmd_write(struct file *file, const char __user *ubuf, size_t len, loff_t *ppos)
{
	struct pvli_cmd *cmd = file_inode(file)->i_private;
	struct pvli_cmd_args *a;
	void *result = NULL;
	char *buf;
	int ret;

	if (len >= PAGE_SIZE)
		return -E2BIG;
	buf = memdup_user_nul(ubuf, len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a) {
		kfree(buf);
		return -ENOMEM;
	}

	mutex_lock(&cmd->lock);
	kvfree(cmd->result);
	cmd->result = NULL;
	ret = parse(cmd, buf, a);
	if (!ret && cmd->needs_page && !pvli_available())
		ret = pvli_cmd_fail(a, -ENODEV, "the page is not live");
	if (!ret)
		ret = cmd->run(a, &result);
	if (ret) {
		kvfree(result);
		if (!a->why[0])
			snprintf(a->why, sizeof(a->why), "run failed (%d)", ret);
		pr_err("%s: %s\n", cmd->name, a->why);
		strscpy(cmd->why, a->why, sizeof(cmd->why));
	} else {
		cmd->why[0] = '\0';
		cmd->result = result;
	}
	mutex_unlock(&cmd->lock);

	kfree(a);
	kfree(buf);
	return ret ?: len;
}

static int cmd_show(struct seq_file *m, void *v)
{
	struct pvli_cmd *cmd = m->private;

	mutex_lock(&cmd->lock);
	if (cmd->why[0])
		seq_printf(m, cmd->error_fmt ?: "error: %s\n", cmd->why);
	else if (cmd->result)
		cmd->show(m, cmd->result);
	else
		seq_puts(m, cmd->usage);
	mutex_unlock(&cmd->lock);
	return 0;
}

static int cmd_open(struct inode *inode, struct file *file)
{
	return single_open(file, cmd_show, inode->i_private);
}

static const struct file_operations cmd_fops = {
	.owner = THIS_MODULE,
	.open = cmd_open,
	.read = seq_read,
	.write = cmd_write,
	.llseek = seq_lseek,
	.release = single_release,
};

/* Create @cmd's file in @dir. */
int pvli_cmd_add(struct pvli_cmd *cmd, struct dentry *dir)
{
	if (WARN_ON_ONCE(cmd->nkeys > PVLI_CMD_MAX_KEYS))
		return -EINVAL;
	mutex_init(&cmd->lock);
	cmd->result = NULL;
	cmd->why[0] = '\0';
	cmd->file = debugfs_create_file(cmd->name, 0600, dir, cmd, &cmd_fops);
	return 0;
}

/*
 * Remove @cmd's file and its last result.  No write is in progress: the
 * open file would hold this module.
 */
void pvli_cmd_remove(struct pvli_cmd *cmd)
{
	debugfs_remove(cmd->file);
	kvfree(cmd->result);
	cmd->result = NULL;
}

/* ---- threads -------------------------------------------------------------------- */

struct pvli_cmd_thread {
	struct pvli_cmd_threads *all;
	struct task_struct *task;	/* pinned until reaped */
	unsigned int i;
};

struct pvli_cmd_threads {
	pvli_cmd_thread_fn fn;
	void *data;
	unsigned int n;
	atomic_t left;			/* threads that have not returned */
	struct completion done;		/* ... none */
	struct pvli_cmd_thread t[];
};

static int thread_main(void *arg)
{
	struct pvli_cmd_thread *t = arg;
	struct pvli_cmd_threads *all = t->all;

	all->fn(all->data, t->i);
	/* Last use of @all: pvli_cmd_wait() may free it once done completes. */
	if (atomic_dec_and_test(&all->left))
		complete(&all->done);
	return 0;
}

static void reap(struct pvli_cmd_threads *all, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		kthread_stop_put(all->t[i].task);	/* never woken: exits unrun */
	kfree(all);
}

/**
 * pvli_cmd_start - start a run's kthreads
 * @n:    how many
 * @cpus: the CPU of each; each must be online
 * @fn:   what thread i runs: @fn(@data, i)
 * @data: for @fn
 * @name: the threads' name, kthread_create_on_cpu() style ("x/%u": CPU)
 *
 * All are created before any is woken, so none starts unless all could.
 * Return: the threads, for pvli_cmd_wait(); ERR_PTR(-EINVAL) if a CPU is
 * not online, or another ERR_PTR() when they could not all be created.
 */
struct pvli_cmd_threads *pvli_cmd_start(unsigned int n, const unsigned int *cpus,
					pvli_cmd_thread_fn fn, void *data, const char *name)
{
	struct pvli_cmd_threads *all = kzalloc(struct_size(all, t, n), GFP_KERNEL);
	unsigned int i;
	int ret = 0;

	if (!all)
		return ERR_PTR(-ENOMEM);
	all->fn = fn;
	all->data = data;
	all->n = n;
	atomic_set(&all->left, n);
	init_completion(&all->done);

	cpus_read_lock();
	for (i = 0; i < n; i++) {
		struct task_struct *task;

		if (!pvli_cmd_cpu_ok(cpus[i])) {
			ret = -EINVAL;
			break;
		}
		all->t[i].all = all;
		all->t[i].i = i;
		task = kthread_create_on_cpu(thread_main, &all->t[i], cpus[i], name);
		if (IS_ERR(task)) {
			ret = PTR_ERR(task);
			break;
		}
		all->t[i].task = get_task_struct(task);
	}
	if (ret) {
		cpus_read_unlock();
		reap(all, i);
		return ERR_PTR(ret);
	}
	for (i = 0; i < n; i++)
		wake_up_process(all->t[i].task);
	cpus_read_unlock();
	return all;
}

/**
 * pvli_cmd_wait - wait until every thread of a run has returned, and reap them
 * @th:         from pvli_cmd_start()
 * @timeout_ms: how long to wait; 0: for ever
 *
 * Return: 0 when all returned (@th is freed); otherwise, after
 * @timeout_ms, how many have not.  Those stay running, and @th, the
 * memory they use and this module stay with them.
 */
unsigned int pvli_cmd_wait(struct pvli_cmd_threads *th, unsigned int timeout_ms)
{
	if (!timeout_ms) {
		wait_for_completion(&th->done);
	} else if (!wait_for_completion_timeout(&th->done, msecs_to_jiffies(timeout_ms))) {
		unsigned int left = atomic_read(&th->left);

		if (left) {
			__module_get(THIS_MODULE);
			return left;
		}
		wait_for_completion(&th->done);	/* the last one is completing it */
	}
	reap(th, th->n);
	return 0;
}

/* pvli_cmd_start(), then wait for ever.  Return: 0 or -errno. */
int pvli_cmd_run_on(unsigned int n, const unsigned int *cpus, pvli_cmd_thread_fn fn,
		    void *data, const char *name)
{
	struct pvli_cmd_threads *th = pvli_cmd_start(n, cpus, fn, data, name);

	if (IS_ERR(th))
		return PTR_ERR(th);
	pvli_cmd_wait(th, 0);
	return 0;
}

int pvli_cmd_run_on_online(pvli_cmd_thread_fn fn, void *data, const char *name)
{
	unsigned int *cpus = kcalloc(nr_cpu_ids, sizeof(*cpus), GFP_KERNEL), n = 0;
	int cpu, ret;

	if (!cpus)
		return -ENOMEM;
	for_each_online_cpu(cpu)
		cpus[n++] = cpu;
	ret = pvli_cmd_run_on(n, cpus, fn, data, name);
	kfree(cpus);
	return ret;
}
