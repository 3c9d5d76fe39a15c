// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reading QMP reply lines (qmp_parse.h).
 *
 * No JSON library: a small recursive-descent reader that walks one line's
 * JSON and hands each object member to a callback that either reads the
 * value or skips it.  What pvlockd acts on is always a member of a known
 * object at a known depth ("return" of the line, "thread-id" of one vCPU
 * object), never a word found somewhere in the text: a string may hold
 * braces, quotes and key names, and props has a "thread-id" of its own.
 *
 * Invariants: every read is bounded by the line's terminating NUL; nesting
 * deeper than JSON_DEPTH_MAX is refused before it recurses further; a line
 * that is not exactly one JSON object (with surrounding blanks) is invalid.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmp_parse.h"

/* QMP replies nest a few levels; anything deeper is not QEMU talking. */
#define JSON_DEPTH_MAX	16
/* Longest key compared; longer keys are read and never match. */
#define JSON_KEY_MAX	32

struct jcur {
	const char *p;
	int depth;
};

/* Called for each member of an object with the cursor at its value; must consume it. */
typedef int (*json_member_fn)(struct jcur *c, const char *key, void *arg);
/* Called for each element of an array with the cursor at it; must consume it. */
typedef int (*json_elem_fn)(struct jcur *c, int idx, void *arg);

static void json_ws(struct jcur *c)
{
	while (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')
		c->p++;
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool is_hex(char ch)
{
	return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/*
 * The string at the cursor.  Its first @len - 1 bytes go to @buf (escapes
 * \" and \\ and \/ decoded, others kept as written), NUL-terminated; a
 * longer string is read whole and *@cut set.  @buf may be NULL.
 */
static int json_string(struct jcur *c, char *buf, size_t len, bool *cut)
{
	size_t n = 0;

	if (*c->p != '"')
		return -EINVAL;
	c->p++;
	if (cut)
		*cut = false;
	for (;;) {
		char ch = *c->p;

		if (ch == '\0' || (unsigned char)ch < 0x20)
			return -EINVAL;
		c->p++;
		if (ch == '"')
			break;
		if (ch == '\\') {
			ch = *c->p++;
			switch (ch) {
			case '"': case '\\': case '/':
				break;
			case 'b': case 'f': case 'n': case 'r': case 't':
				ch = '?';
				break;
			case 'u':
				for (int i = 0; i < 4; i++)
					if (!is_hex(*c->p++))
						return -EINVAL;
				ch = '?';
				break;
			default:
				return -EINVAL;
			}
		}
		if (buf && n + 1 < len)
			buf[n++] = ch;
		else if (cut)
			*cut = true;
	}
	if (buf && len)
		buf[n] = '\0';
	return 0;
}

/* The number at the cursor; *@v set when it is an integer that fits. */
static int json_number(struct jcur *c, long long *v, bool *is_int)
{
	const char *start = c->p;
	bool integer = true;
	char *end;

	if (*c->p == '-')
		c->p++;
	if (*c->p == '0')
		c->p++;
	else if (is_digit(*c->p))
		while (is_digit(*c->p))
			c->p++;
	else
		return -EINVAL;
	if (*c->p == '.') {
		integer = false;
		c->p++;
		if (!is_digit(*c->p))
			return -EINVAL;
		while (is_digit(*c->p))
			c->p++;
	}
	if (*c->p == 'e' || *c->p == 'E') {
		integer = false;
		c->p++;
		if (*c->p == '+' || *c->p == '-')
			c->p++;
		if (!is_digit(*c->p))
			return -EINVAL;
		while (is_digit(*c->p))
			c->p++;
	}
	if (integer) {
		errno = 0;
		*v = strtoll(start, &end, 10);
		if (errno || end != c->p)
			integer = false;
	}
	*is_int = integer;
	return 0;
}

static int json_object(struct jcur *c, json_member_fn fn, void *arg);
static int json_array(struct jcur *c, json_elem_fn fn, void *arg);

static int skip_member(struct jcur *c, const char *key, void *arg);
static int skip_elem(struct jcur *c, int idx, void *arg);

/* Skip the value at the cursor, whatever it is. */
static int json_skip(struct jcur *c)
{
	long long v;
	bool is_int;

	switch (*c->p) {
	case '{':
		return json_object(c, skip_member, NULL);
	case '[':
		return json_array(c, skip_elem, NULL);
	case '"':
		return json_string(c, NULL, 0, NULL);
	case 't':
		if (strncmp(c->p, "true", 4))
			return -EINVAL;
		c->p += 4;
		return 0;
	case 'f':
		if (strncmp(c->p, "false", 5))
			return -EINVAL;
		c->p += 5;
		return 0;
	case 'n':
		if (strncmp(c->p, "null", 4))
			return -EINVAL;
		c->p += 4;
		return 0;
	default:
		return json_number(c, &v, &is_int);
	}
}

static int skip_member(struct jcur *c, const char *key, void *arg)
{
	(void)key;
	(void)arg;
	return json_skip(c);
}

static int skip_elem(struct jcur *c, int idx, void *arg)
{
	(void)idx;
	(void)arg;
	return json_skip(c);
}

static int json_enter(struct jcur *c, char open)
{
	if (*c->p != open || ++c->depth > JSON_DEPTH_MAX)
		return -EINVAL;
	c->p++;
	json_ws(c);
	return 0;
}

/*
 * After a member or an element: 1 when @close ends the container, 0 after
 * a ',' (another one must follow: a trailing comma fails in the caller's
 * next parse), -EINVAL for anything else.
 */
static int json_next(struct jcur *c, char close)
{
	json_ws(c);
	if (*c->p == close)
		return 1;
	if (*c->p++ != ',')
		return -EINVAL;
	json_ws(c);
	return 0;
}

/* Step over the closing bracket that json_next() found. */
static int json_leave(struct jcur *c, int r)
{
	if (r < 0)
		return r;
	c->p++;
	c->depth--;
	return 0;
}

/* The object at the cursor: @fn(key) for each member, in order. */
static int json_object(struct jcur *c, json_member_fn fn, void *arg)
{
	int r = json_enter(c, '{');

	if (r)
		return r;
	for (r = *c->p == '}'; !r; r = json_next(c, '}')) {
		char key[JSON_KEY_MAX + 1];
		bool cut;

		r = json_string(c, key, sizeof(key), &cut);
		if (r)
			return r;
		if (cut)	/* no key we look for is that long */
			key[0] = '\0';
		json_ws(c);
		if (*c->p++ != ':')
			return -EINVAL;
		json_ws(c);
		r = fn(c, key, arg);
		if (r)
			return r;
	}
	return json_leave(c, r);
}

/* The array at the cursor: @fn(index) for each element, in order. */
static int json_array(struct jcur *c, json_elem_fn fn, void *arg)
{
	int r = json_enter(c, '['), idx = 0;

	if (r)
		return r;
	for (r = *c->p == ']'; !r; r = json_next(c, ']')) {
		r = fn(c, idx++, arg);
		if (r)
			return r;
	}
	return json_leave(c, r);
}

/* @line is one object and nothing else: @fn for each of its members. */
static int json_line(const char *line, json_member_fn fn, void *arg)
{
	struct jcur c = { .p = line };
	int r;

	json_ws(&c);
	r = json_object(&c, fn, arg);
	if (r)
		return r;
	json_ws(&c);
	return *c.p ? -EINVAL : 0;
}

/* An integer member's value; -EINVAL for any other kind of value. */
static int json_int(struct jcur *c, long long *v)
{
	bool is_int;
	int r = json_number(c, v, &is_int);

	return r ? r : is_int ? 0 : -EINVAL;
}

/* ---- line kinds ------------------------------------------------------------ */

struct kind_seen {
	bool event, ret, error, greeting;
};

static int kind_member(struct jcur *c, const char *key, void *arg)
{
	struct kind_seen *k = arg;

	if (!strcmp(key, "event"))
		k->event = true;
	else if (!strcmp(key, "return"))
		k->ret = true;
	else if (!strcmp(key, "error"))
		k->error = true;
	else if (!strcmp(key, "QMP"))
		k->greeting = true;
	return json_skip(c);
}

enum qmp_line qmp_line_kind(const char *line)
{
	struct kind_seen k = {};

	if (json_line(line, kind_member, &k))
		return QMP_LINE_INVALID;
	if (k.event)
		return QMP_LINE_EVENT;
	if (k.ret)
		return QMP_LINE_RETURN;
	if (k.error)
		return QMP_LINE_ERROR;
	if (k.greeting)
		return QMP_LINE_GREETING;
	return QMP_LINE_OTHER;
}

bool qmp_is_greeting(const char *line)
{
	return qmp_line_kind(line) == QMP_LINE_GREETING;
}

/* ---- the "return" member, handed to a reader ------------------------------- */

struct return_reader {
	int (*read)(struct jcur *c, void *arg);
	void *arg;
	bool found;
};

static int return_member(struct jcur *c, const char *key, void *arg)
{
	struct return_reader *rr = arg;

	if (strcmp(key, "return") || rr->found)
		return json_skip(c);
	rr->found = true;
	return rr->read(c, rr->arg);
}

static int read_return(const char *reply, int (*read)(struct jcur *, void *), void *arg)
{
	struct return_reader rr = { .read = read, .arg = arg };
	int r = json_line(reply, return_member, &rr);

	return r ? r : rr.found ? 0 : -EINVAL;
}

/* ---- query-cpus-fast ------------------------------------------------------- */

struct cpu_obj {
	long long idx, tid;
};

/* A member of one vCPU object: only its own cpu-index and thread-id count. */
static int cpu_member(struct jcur *c, const char *key, void *arg)
{
	struct cpu_obj *o = arg;

	if (!strcmp(key, "cpu-index"))
		return o->idx != -1 ? -EINVAL : json_int(c, &o->idx);
	if (!strcmp(key, "thread-id"))
		return o->tid != -1 ? -EINVAL : json_int(c, &o->tid);
	return json_skip(c);
}

struct cpus {
	uint32_t *tids;
	int max, n;
};

static int cpu_elem(struct jcur *c, int idx, void *arg)
{
	struct cpu_obj o = { .idx = -1, .tid = -1 };
	struct cpus *cpus = arg;
	int r;

	(void)idx;
	r = json_object(c, cpu_member, &o);
	if (r)
		return r;
	if (o.idx < 0 || o.idx >= cpus->max || o.tid <= 0 || o.tid > UINT32_MAX ||
	    cpus->tids[o.idx])
		return -EINVAL;
	cpus->tids[o.idx] = (uint32_t)o.tid;
	cpus->n++;
	return 0;
}

static int read_cpus(struct jcur *c, void *arg)
{
	return json_array(c, cpu_elem, arg);
}

int qmp_parse_cpus_fast(const char *reply, uint32_t *tids, int max)
{
	struct cpus cpus = { .tids = tids, .max = max };

	for (int i = 0; i < max; i++)
		tids[i] = 0;
	if (read_return(reply, read_cpus, &cpus) || cpus.n == 0)
		return -EINVAL;
	/* cpu-index values must be exactly 0..n-1. */
	for (int i = 0; i < cpus.n; i++)
		if (!tids[i])
			return -EINVAL;
	return cpus.n;
}

/* ---- qom-list and qom-get ---------------------------------------------------- */

struct qom_child {
	char name[QMP_NAME_MAX], type[QMP_NAME_MAX];
	bool name_cut, type_cut;
};

static int child_member(struct jcur *c, const char *key, void *arg)
{
	struct qom_child *ch = arg;

	if (!strcmp(key, "name"))
		return json_string(c, ch->name, sizeof(ch->name), &ch->name_cut);
	if (!strcmp(key, "type"))
		return json_string(c, ch->type, sizeof(ch->type), &ch->type_cut);
	return json_skip(c);
}

struct children {
	const char *type;
	char (*names)[QMP_NAME_MAX];
	int max, n;
};

static int child_elem(struct jcur *c, int idx, void *arg)
{
	struct qom_child ch = {};
	struct children *cl = arg;
	int r;

	(void)idx;
	r = json_object(c, child_member, &ch);
	if (r)
		return r;
	if (ch.type_cut || strcmp(ch.type, cl->type))
		return 0;
	/* A name we cannot hold whole could not be asked about. */
	if (ch.name_cut || !ch.name[0] || cl->n >= cl->max)
		return -E2BIG;
	memcpy(cl->names[cl->n++], ch.name, QMP_NAME_MAX);
	return 0;
}

static int read_children(struct jcur *c, void *arg)
{
	return json_array(c, child_elem, arg);
}

int qmp_parse_qom_children(const char *reply, const char *type,
			   char (*names)[QMP_NAME_MAX], int max)
{
	struct children cl = { .type = type, .names = names, .max = max };
	int r = read_return(reply, read_children, &cl);

	return r ? r : cl.n;
}

static int read_uint(struct jcur *c, void *arg)
{
	long long v;
	int r = json_int(c, &v);

	if (r || v < 0)
		return -EINVAL;
	*(uint64_t *)arg = v;
	return 0;
}

int qmp_parse_return_uint(const char *reply, uint64_t *v)
{
	return read_return(reply, read_uint, v);
}

/* ---- error replies --------------------------------------------------------- */

struct error_desc {
	char *buf;
	size_t len;
};

static int desc_member(struct jcur *c, const char *key, void *arg)
{
	struct error_desc *e = arg;

	if (!strcmp(key, "desc"))
		return json_string(c, e->buf, e->len, NULL);
	return json_skip(c);
}

static int error_member(struct jcur *c, const char *key, void *arg)
{
	if (!strcmp(key, "error") && *c->p == '{')
		return json_object(c, desc_member, arg);
	return json_skip(c);
}

void qmp_error_desc(const char *reply, char *buf, size_t len)
{
	struct error_desc e = { .buf = buf, .len = len };

	if (!len)
		return;
	buf[0] = '\0';
	if (json_line(reply, error_member, &e) || !buf[0])
		snprintf(buf, len, "no reason given");
	/* QEMU's text, shown in pvlockd's replies: printable ASCII only. */
	for (size_t i = 0; buf[i]; i++)
		if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] > 0x7e)
			buf[i] = '?';
}
