// SPDX-License-Identifier: GPL-2.0-only
/*
 * The lock-core races a review found in the first core, replayed on the
 * new one (user-space build of guest/lock): one scenario per race, named
 * for it, whose header says why the new design cannot have it.  Scenarios
 * are scripted step by step where the simulated host can stop a vCPU at
 * the racing point (shim_user.h: the on_halt hook, watchpoint stops, the
 * halt timeout); the one that needs real store buffering is a bounded
 * stress.  Every scenario can fail: its "Fails if" paragraph names the
 * mutation of the core (the protection removed) that makes it fail, and
 * what it then prints.  PVLI_RACE=GLOB runs only the scenarios it names.
 *
 *   race 2  nested_halt_in_queue_keeps_the_hand_over_kick (the word's
 *           case: test_lock_scenarios.c, nested_halt_keeps_the_kick)
 *   race 3  second_parker_on_a_slow_word_is_kicked
 *   race 4  urgent_survives_a_queue_emptied_under_a_newcomer
 *   race 5  stale_slow_after_a_spurious_wake_kicks_the_new_parker
 *
 * Race 1, two unlockers queueing the kick's one call_single_data, is
 * kernel-only: tests/vm/kick-storm.sh (guarded by the kick's claim bit,
 * guest/lock/shim_kernel.c).
 *
 * A scenario undoes its lost wake-up (kicks, as the guest's next
 * interrupt would) and joins its threads before it asserts, so that one
 * failure does not hang the next scenario.
 */
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "shfl_lock.h"

/* How long a woken waiter may take to get its lock before its kick counts as lost. */
#define KICK_LIMIT_MS	2000
/* How long a scripted step may take before the script itself is broken. */
#define STEP_LIMIT_MS	5000

/* The test thread plays this vCPU where it holds a lock itself. */
#define MAIN_CPU	7

#define LOAD(x)		__atomic_load_n(&(x), __ATOMIC_SEQ_CST)
#define STORE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_SEQ_CST)

static void sleep_us(unsigned int us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000L };

	nanosleep(&ts, NULL);
}

/* Poll @cond every 100 us for up to @limit_ms; true if it held. */
#define WAIT_FOR(cond, limit_ms) ({					\
	bool __ok = false;						\
	for (int __i = 0; __i < (limit_ms) * 10 && !__ok; __i++) {	\
		__ok = (cond);						\
		if (!__ok)						\
			sleep_us(100);					\
	}								\
	__ok || (cond);							\
})

/* A scripted step that must happen; if it does not, the script is wrong. */
#define STEP(cond) do {							\
	if (!WAIT_FOR(cond, STEP_LIMIT_MS))				\
		fail_msg("script step never happened: %s", #cond);	\
} while (0)

/*
 * A test thread playing one vCPU: it takes a lock with @lock_fn, says so
 * in @acquired, waits for @release (sleeping, not in cpu_relax(): the
 * page may call it preempted while it holds and it goes on), lets go
 * with @unlock_fn.
 */
struct vcpu {
	pthread_t tid;
	int cpu;
	void (*lock_fn)(void *lock);
	void (*unlock_fn)(void *lock);
	void *lock;
	int acquired;
	int release;
};

static void *vcpu_main(void *p)
{
	struct vcpu *v = p;

	shfl_sim_set_cpu(v->cpu);
	v->lock_fn(v->lock);
	STORE(v->acquired, 1);
	while (!LOAD(v->release))
		sleep_us(50);
	v->unlock_fn(v->lock);
	return NULL;
}

static void vcpu_start(struct vcpu *v, int cpu, void (*lock_fn)(void *),
		       void (*unlock_fn)(void *), void *lock)
{
	memset(v, 0, sizeof(*v));
	v->cpu = cpu;
	v->lock_fn = lock_fn;
	v->unlock_fn = unlock_fn;
	v->lock = lock;
	assert_int_equal(pthread_create(&v->tid, NULL, vcpu_main, v), 0);
}

/* Let @v go and wait for it; a vCPU still halted gets ticks (kicks) until it has its lock. */
static void vcpu_finish(struct vcpu *v)
{
	STORE(v->release, 1);
	shfl_sim_preempt(v->cpu, false);
	for (int i = 0; i < STEP_LIMIT_MS && !LOAD(v->acquired); i++) {
		shfl_kick(v->cpu);
		sleep_us(1000);
	}
	pthread_join(v->tid, NULL);
}

static void do_shfl_lock(void *l)	{ shfl_lock(l); }
static void do_shfl_unlock(void *l)	{ shfl_unlock(l); }

/* The word's tail bits for vCPU @cpu's task-level node (shfl_lock.h). */
static u32 tail_of(int cpu)
{
	return ((u32)(cpu + 1) << 2) << SHFL_TAIL_SHIFT;
}

static bool is_tail(struct shfl_lock *l, int cpu)
{
	return (LOAD(l->w.val) & SHFL_TAIL_MASK) == tail_of(cpu);
}

static bool is_head(struct shfl_lock *l, int cpu)
{
	return ((LOAD(l->w.val) & SHFL_HEAD_MASK) >> SHFL_HEAD_SHIFT) == (u32)cpu + 1;
}

/* vCPU @cpu's task-level queue node. */
static struct shfl_node *node_of(int cpu)
{
	return shfl_waiter_node(cpu, 0);
}

/*
 * Hardware watchpoints (perf_event_open) are what the scripted races stop
 * vCPUs with; without them those scenarios skip.
 */
static void need_watchpoints(void)
{
	static u32 word;
	int err;

	shfl_sim_set_cpu(MAIN_CPU);
	err = shfl_sim_preempt_after_access(MAIN_CPU, &word, sizeof(word), true);
	shfl_sim_reset();
	if (err) {
		print_message("no hardware watchpoint (perf_event_open: %s)\n", strerror(-err));
		skip();
	}
}

/* ---- race 2: an interrupt's wait hides the halt it interrupted ---------------- */

/*
 * Race 2: halt state was one slot per CPU, shared by the nesting levels.
 * A waiter publishes what it halts on and halts; an interrupt that
 * arrives in between (before the halt's irq-disable) and waits for
 * another lock halts too: it overwrote the slot, and cleared it when its
 * own wait ended.  The interrupted halt then slept with no slot, and the
 * waker that looked the slot up skipped it.
 *
 * Why the new core cannot: halt state is the node's (node->halted_on,
 * one node per nesting level), and each waker reads the node it wakes:
 * pass_head() -> wake_node() reads the new head's own node, whatever a
 * nested level of its CPU did meanwhile.  test_lock_scenarios covers the
 * word (kick_halted() scans every level); this is the queue's case.
 *
 * Script (shfl-pv): MAIN_CPU holds A and keeps running, so vCPU 0 queues
 * as the head and spins, and vCPU 1 queues behind it and halts on its
 * node once its node_spins are spent.  The on_halt hook plays an
 * interrupt there: it takes B, held by vCPU 6 whose vCPU the page says is
 * preempted, halts on B's word, is kicked by 6's release, takes and
 * releases B, and returns; vCPU 1 halts on its node again.  MAIN_CPU
 * releases A: vCPU 0 takes it and makes vCPU 1 the head, which must wake
 * it.  The control runs the same without the interrupt.
 *
 * Fails if halt state is one slot per CPU again (park_in_queue() and
 * park_on_word() publish in the CPU's level-0 node whatever their level):
 * "interrupted: vCPU 1 NOT woken".
 */
static struct {
	int pending;		/* one shot */
	struct shfl_lock *lock;	/* B */
} irq2;

/* vCPU 1 halts on its node (not on a word): interrupt it there, once. */
static void interrupt_node_halt(int cpu)
{
	if (cpu != 1 || LOAD(node_of(1)->halted_on) != &node_of(1)->status ||
	    !__atomic_exchange_n(&irq2.pending, 0, __ATOMIC_SEQ_CST))
		return;
	shfl_lock(irq2.lock);
	shfl_unlock(irq2.lock);
}

/* Returns whether vCPU 1 got lock A within KICK_LIMIT_MS of the hand-over. */
static bool queued_waiter_woken(bool with_irq)
{
	static struct shfl_lock a, b;
	struct vcpu w0, w1, h6;
	u32 *halted_on;
	bool woken;

	shfl_sim_reset();
	shfl_lock_init(&a, &shfl_policy_shfl_pv);
	shfl_lock_init(&b, &shfl_policy_shfl_pv);
	irq2.lock = &b;
	STORE(irq2.pending, with_irq);
	shfl_sim_set_cpu(MAIN_CPU);
	shfl_lock(&a);
	vcpu_start(&h6, 6, do_shfl_lock, do_shfl_unlock, &b);
	STEP(LOAD(h6.acquired));
	shfl_sim.preempted[6] = 1;	/* the page; its thread just waits */
	shfl_sim.on_halt = interrupt_node_halt;

	vcpu_start(&w0, 0, do_shfl_lock, do_shfl_unlock, &a);
	STEP(is_tail(&a, 0) && is_head(&a, 0));
	vcpu_start(&w1, 1, do_shfl_lock, do_shfl_unlock, &a);
	STEP(is_tail(&a, 1));
	if (with_irq) {
		/* The interrupt halts on B: 6 lets go, the interrupt ends. */
		STEP(shfl_cpu_halted_on(1, &b.w.val) && LOAD(shfl_sim.halts[1]) >= 1);
		shfl_sim.preempted[6] = 0;
		STORE(h6.release, 1);
	}
	/*
	 * vCPU 1 sleeps on its node (again): past its check, so a kick from
	 * now on ends it.  Whether its node still says so is what the race
	 * is about: the hand-over below tells.
	 */
	STEP(LOAD(shfl_sim.halts[1]) >= (with_irq ? 2U : 1U));
	assert_int_equal(LOAD(irq2.pending), 0);
	halted_on = LOAD(node_of(1)->halted_on);

	STORE(w0.release, 1);
	shfl_unlock(&a);	/* 0 takes A and hands the head to 1 */
	STEP(LOAD(w0.acquired));
	woken = WAIT_FOR(LOAD(w1.acquired), KICK_LIMIT_MS);
	print_message("%s: vCPU 1 %s (its node said it halted on %s before the hand-over)\n",
		      with_irq ? "interrupted" : "control", woken ? "woken" : "NOT woken",
		      halted_on == &node_of(1)->status ? "its node" :
		      halted_on ? "something else" : "nothing");
	shfl_sim.on_halt = NULL;
	vcpu_finish(&w0);
	vcpu_finish(&w1);
	vcpu_finish(&h6);
	return woken;
}

static void nested_halt_in_queue_keeps_the_hand_over_kick(void **state)
{
	(void)state;
	assert_true(queued_waiter_woken(false));
	if (!queued_waiter_woken(true))
		fail_msg("lost wake-up: vCPU 1, halted on its node in lock A's queue, was not "
			 "kicked when it was made the head (no acquisition within %d ms): an "
			 "interrupt's halt on lock B hid its halt state", KICK_LIMIT_MS);
}

/* ---- race 3: store buffering at the park ---------------------------------------- */

/*
 * Race 3: a waiter that found the halt bit already set published its
 * halt state and loaded the lock word with no barrier between; x86 lets
 * the load pass the store (store buffer), so the release's update of the
 * word and its read of the halt state could both miss: the waiter halted
 * on a released lock and no kick came.
 *
 * Why the new core cannot: park_on_word() has one smp_mb() between
 * publishing node->halted_on and loading the word, whatever path it then
 * takes, and the release (shfl_word_unlock(), shfl_unlock()) is an xchg,
 * a full barrier, before it reads halted_on (kick_halted()).  Store
 * buffering with full barriers on both sides: one sees the other.  The
 * second parker, which finds SLOW set and changes nothing, is the case a
 * missing barrier exposes: the first parker's cmpxchg is a barrier of
 * its own.
 *
 * Stress, in rounds: MAIN_CPU, here vCPU 0 (the release scans vCPU 1 first),
 * holds the lock, preempted by the page.  In half the rounds vCPU 2
 * halts on the word first (sets SLOW), then vCPU 1 parks while vCPU 0
 * releases, both started together; in the other half vCPU 1 parks alone
 * (it sets SLOW: the control).  Waiters are tas-pv newcomers (they park
 * after 128 spins), on a bare word released with shfl_word_unlock() or a
 * shfl_lock released with shfl_unlock(), at random.  The release is timed
 * against vCPU 1's park: earlier after a round in which vCPU 1 halted,
 * later after one in which it did not, so it stays where the two meet on
 * any machine.  A halt that no kick ended within the sim's halt timeout,
 * on a word already released, is a lost kick (shfl_sim.stale_halts).
 *
 * Fails if park_on_word()'s smp_mb() is only a compiler barrier: within
 * seconds, "lost kicks: 5 of N halts of a waiter that found SLOW already
 * set, 0 of M of one that set it".
 */
#define SB_HOLDER	0
#define SB_RACER	1	/* scanned first by the release */
#define SB_FIRST	2
#define SB_HALT_TIMEOUT_MS	20
#define SB_MIN_HALTS	5000	/* second-parker halts to see, up to SB_MAX_SECONDS */
#define SB_MAX_SECONDS	15
#define SB_MAX_LOST	5	/* enough to fail: stop early */

enum { SB_WORD, SB_LOCK };

struct sb_run {
	struct shfl_word word;		/* SB_WORD: the kernel's word, kernel tas-pv */
	struct shfl_lock lock;		/* SB_LOCK: pvlockinfo's lock, tas-pv */
	int kind;			/* this round's */
	int park_round;			/* round SB_FIRST is to park in */
	int go;				/* round the race starts */
	int done_first;			/* round SB_FIRST has its lock in */
	int done_racer;			/* round SB_RACER has its lock in */
	int first_parked;		/* this round: SB_FIRST halted before the race */
	int racer_halted;		/* this round: SB_RACER halted */
	int stop;
	u64 rounds[2][2];		/* [first_parked][kind] */
	u64 halts[2][2];		/* SB_RACER's */
	u64 lost[2][2];
	u64 late[2];			/* late (not lost) kicks, per first_parked */
};
static struct sb_run sb;
static struct shfl_policy sb_word_pol, sb_lock_pol;

static u32 xorshift(u32 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void spin(u32 n)
{
	for (u32 i = 0; i < n; i++)
		__asm__ volatile("" ::: "memory");
}

static void futex_wait_change(int *addr, int val)
{
	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake_all(int *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static void sb_take(void)
{
	if (sb.kind == SB_LOCK)
		shfl_lock(&sb.lock);
	else if (!shfl_word_trylock(&sb.word))
		shfl_word_lock_slowpath(&sb.word, &sb_word_pol, 0, 0);
}

static void sb_release(void)
{
	if (sb.kind == SB_LOCK)
		shfl_unlock(&sb.lock);
	else
		shfl_word_unlock(&sb.word);
}

static u32 sb_val(void)
{
	return sb.kind == SB_LOCK ? LOAD(sb.lock.w.val) : LOAD(sb.word.val);
}

/* SB_FIRST: in each round it is asked to, halt on the word first; sleep between. */
static void *sb_first_parker(void *p)
{
	int seen = 0, r;

	(void)p;
	shfl_sim_set_cpu(SB_FIRST);
	for (;;) {
		while ((r = LOAD(sb.park_round)) == seen)
			futex_wait_change(&sb.park_round, seen);
		if (r < 0)
			return NULL;
		seen = r;
		sb_take();	/* halts (SLOW by its cmpxchg) until the release kicks it */
		sb_release();
		STORE(sb.done_first, r);
	}
}

/* SB_RACER: at the start signal, take the lock against the release. */
static void *sb_racer(void *p)
{
	(void)p;
	shfl_sim_set_cpu(SB_RACER);
	for (int r = 1; ; r++) {
		u64 halts, lost, late;
		int f, k;

		while (LOAD(sb.go) < r)
			if (LOAD(sb.stop))
				return NULL;
		halts = LOAD(shfl_sim.halts[SB_RACER]);
		lost = LOAD(shfl_sim.stale_halts[SB_RACER]);
		late = LOAD(shfl_sim.late_kicks[SB_RACER]);
		sb_take();
		sb_release();
		f = sb.first_parked;
		k = sb.kind;
		halts = LOAD(shfl_sim.halts[SB_RACER]) - halts;
		sb.racer_halted = halts != 0;
		sb.halts[f][k] += halts;
		sb.lost[f][k] += LOAD(shfl_sim.stale_halts[SB_RACER]) - lost;
		sb.late[f] += LOAD(shfl_sim.late_kicks[SB_RACER]) - late;
		STORE(sb.done_racer, r);
	}
}

/*
 * Wait for @cond: spin a while (a woken thread is back within
 * microseconds), then give the CPU away, as the machine may have fewer
 * CPUs than the test has threads.
 */
#define SB_WAIT(cond) do {						\
	for (u32 __n = 0; !(cond); __n++)				\
		if (__n > 20000)					\
			sched_yield();					\
		else							\
			__builtin_ia32_pause();				\
} while (0)

/* At least PVLI_RACE_SECONDS (5), then on until SB_MIN_HALTS second-parker halts. */
static unsigned int sb_seconds(void)
{
	const char *s = getenv("PVLI_RACE_SECONDS");

	return s && atoi(s) > 0 ? (unsigned int)atoi(s) : 5;
}

static u64 sb_sum(u64 a[2][2], int f)
{
	return a[f][SB_WORD] + a[f][SB_LOCK];
}

static bool sb_more(u64 start)
{
	u64 ran = shfl_now_ns() - start;

	if (sb_sum(sb.lost, 0) + sb_sum(sb.lost, 1) >= SB_MAX_LOST)
		return false;
	return ran < sb_seconds() * 1000000000ULL ||
	       (sb_sum(sb.halts, 1) < SB_MIN_HALTS && ran < SB_MAX_SECONDS * 1000000000ULL);
}

/* What SB_RACER saw in the rounds where SB_FIRST parked first (@f) or not. */
static void sb_print_rounds(const char *what, int f)
{
	print_message("  %s: %llu+%llu rounds (word+lock), %llu+%llu halts, %llu+%llu lost "
		      "kicks, %llu late\n", what,
		      (unsigned long long)sb.rounds[f][SB_WORD],
		      (unsigned long long)sb.rounds[f][SB_LOCK],
		      (unsigned long long)sb.halts[f][SB_WORD],
		      (unsigned long long)sb.halts[f][SB_LOCK],
		      (unsigned long long)sb.lost[f][SB_WORD],
		      (unsigned long long)sb.lost[f][SB_LOCK], (unsigned long long)sb.late[f]);
}

static void second_parker_on_a_slow_word_is_kicked(void **state)
{
	u32 seed = (u32)time(NULL) | 1, delay = 0;
	u64 start, first_halts;
	pthread_t t1, t2;
	bool woken;

	(void)state;
	shfl_sim_reset();
	memset(&sb, 0, sizeof(sb));
	/*
	 * tas-pv, halting at once behind a preempted holder, whatever the
	 * tuning: no quick looks either, which would move the racer's halt
	 * later than the release delay's search reaches under load.
	 */
	sb_word_pol = shfl_policy_kernel_tas_pv;
	sb_lock_pol = shfl_policy_tas_pv;
	sb_word_pol.park_delay_ns = sb_lock_pol.park_delay_ns = 0;
	sb_word_pol.quick_spins = sb_lock_pol.quick_spins = 0;
	shfl_lock_init(&sb.lock, &sb_lock_pol);
	shfl_sim.halt_timeout_ns = SB_HALT_TIMEOUT_MS * 1000000ULL;
	shfl_sim_set_cpu(SB_HOLDER);
	assert_int_equal(pthread_create(&t1, NULL, sb_first_parker, NULL), 0);
	assert_int_equal(pthread_create(&t2, NULL, sb_racer, NULL), 0);
	start = shfl_now_ns();
	for (int r = 1; sb_more(start); r++) {
		sb.kind = xorshift(&seed) & 1;
		sb_take();
		assert_int_equal(sb_val() & SHFL_HOLDER_MASK, SB_HOLDER + SHFL_CPU_BIAS);
		shfl_sim.preempted[SB_HOLDER] = 1;	/* the page: waiters halt behind us */
		sb.first_parked = xorshift(&seed) & 1;
		if (sb.first_parked) {
			first_halts = LOAD(shfl_sim.halts[SB_FIRST]);
			STORE(sb.park_round, r);
			futex_wake_all(&sb.park_round);
			/* SB_FIRST sleeps with SLOW set: SB_RACER will find it set. */
			SB_WAIT(LOAD(shfl_sim.halts[SB_FIRST]) > first_halts &&
				(sb_val() & SHFL_SLOW));
		}
		sb.rounds[sb.first_parked][sb.kind]++;
		STORE(sb.go, r);
		spin(delay + xorshift(&seed) % 256);
		sb_release();
		SB_WAIT(LOAD(sb.done_racer) == r &&
			(!sb.first_parked || LOAD(sb.done_first) == r));
		shfl_sim.preempted[SB_HOLDER] = 0;
		/* Release where the racer's park meets it: earlier if it halted, else later. */
		if (sb.racer_halted)
			delay -= delay >= 16 ? 16 : delay;
		else if (delay < (1U << 17))
			delay += 16;
	}
	STORE(sb.stop, 1);
	STORE(sb.park_round, -1);
	futex_wake_all(&sb.park_round);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	woken = !shfl_sim.stale_halts[SB_FIRST];

	print_message("%llu s, halt timeout %d ms, release delay now %u; vCPU %d, the racer:\n",
		      (unsigned long long)((shfl_now_ns() - start) / 1000000000ULL),
		      SB_HALT_TIMEOUT_MS, delay, SB_RACER);
	sb_print_rounds("parking alone (its cmpxchg sets SLOW)", 0);
	sb_print_rounds("parking on SLOW already set", 1);
	print_message("  vCPU %d (the first parker): %llu lost kicks\n", SB_FIRST,
		      (unsigned long long)shfl_sim.stale_halts[SB_FIRST]);
	/* The race was run: the second parker halted against the release, many times. */
	assert_true(sb_sum(sb.halts, 1) > 0);
	if (sb_sum(sb.lost, 0) + sb_sum(sb.lost, 1) || !woken)
		fail_msg("lost kicks: %llu of %llu halts of a waiter that found SLOW already "
			 "set, %llu of %llu of one that set it, and %llu of the first parker, "
			 "outlived the release by %d ms + %llu ms with no kick",
			 (unsigned long long)sb_sum(sb.lost, 1),
			 (unsigned long long)sb_sum(sb.halts, 1),
			 (unsigned long long)sb_sum(sb.lost, 0),
			 (unsigned long long)sb_sum(sb.halts, 0),
			 (unsigned long long)shfl_sim.stale_halts[SB_FIRST], SB_HALT_TIMEOUT_MS,
			 SHFL_SIM_KICK_GRACE_NS / 1000000ULL);
}

/* ---- race 4: the bound lost under a new queue ------------------------------------ */

/*
 * Race 4: the last queued waiter left the queue in two steps, tail ->
 * empty, then NO_STEAL cleared; a newcomer that queued in between headed
 * a new queue whose NO_STEAL that clear wiped, and newcomers took the
 * free word past its head with no bound.
 *
 * Why the new core cannot: URGENT lives in the word with the tail, is set
 * only by the head (word_set_bits()) and cleared only by the cmpxchg with
 * which the head takes the lock, the same one that empties the queue
 * when the head is the tail.  A newcomer that swaps the tail first makes
 * that cmpxchg fail (the head retries, takes the lock leaving the new
 * tail and hands the head over); one that comes after finds no queue and
 * starts its own, with its own bound.  Nothing writes URGENT later.
 *
 * Script (shfl-pv, turning urgent at once), in both orders:
 *  - "after": vCPU 0 heads the queue alone and is urgent; MAIN_CPU lets
 *    go; a watchpoint stops vCPU 0 right after its next write to the
 *    word, the cmpxchg that takes the lock and empties the queue.  vCPU 1
 *    then queues: a new queue, whose head it is, and it turns urgent.
 *    vCPU 0 goes on (the page says it runs throughout);
 *  - "before": a watchpoint stops vCPU 0 right after it reads the free
 *    word it is the tail of, before its cmpxchg; vCPU 1 queues behind
 *    it; vCPU 0 goes on, takes the lock and makes vCPU 1 the head, which
 *    turns urgent.
 * Then vCPU 1, urgent, is preempted and vCPU 0 lets go: newcomer vCPU 2
 * must not take the free word before vCPU 1, which is resumed after
 * STEAL_WINDOW_MS.  The order of acquisitions must be 0, 1, 2.
 *
 * Fails if the head that empties the queue clears URGENT in a second
 * step after its cmpxchg (as the old core cleared NO_STEAL): "after":
 * "URGENT lost; newcomer vCPU 2 TOOK the lock".
 */
#define STEAL_WINDOW_MS	200

static struct shfl_policy urgent_at_once;

/* Queue heads that have turned urgent so far, on any vCPU. */
static u64 urgent_count(void)
{
	struct shfl_stats s;

	shfl_stats(SHFL_STATS_LOCKS, &s);
	return s.urgent;
}

static bool urgent_head_is_next(bool stop_after_cmpxchg)
{
	static struct shfl_lock l;
	struct vcpu a, b, c;
	bool urgent, b_first;
	u64 urgent_heads;
	u32 word;

	shfl_sim_reset();
	urgent_at_once = shfl_policy_shfl_pv;
	urgent_at_once.urgent_ns = 0;
	shfl_lock_init(&l, &urgent_at_once);
	shfl_sim_set_cpu(MAIN_CPU);
	shfl_lock(&l);
	vcpu_start(&a, 0, do_shfl_lock, do_shfl_unlock, &l);
	STEP(is_tail(&l, 0) && is_head(&l, 0) && (LOAD(l.w.val) & SHFL_URGENT));
	/* Stop vCPU 0 in its spin as the head (at its cpu_relax()). */
	shfl_sim_preempt(0, true);
	STEP(LOAD(shfl_sim.preempt_stops[0]) >= 1);
	shfl_unlock(&l);	/* a free word, vCPU 0 the tail, URGENT */
	assert_int_equal(shfl_sim_preempt_after_access(0, &l.w.val, sizeof(l.w.val),
						       stop_after_cmpxchg), 0);
	shfl_sim_preempt(0, false);
	STEP(LOAD(shfl_sim.preempt_stops[0]) >= 2);
	word = LOAD(l.w.val);
	if (stop_after_cmpxchg)
		assert_int_equal(word & (SHFL_LOCKED_MASK | SHFL_TAIL_MASK), 0 + SHFL_CPU_BIAS);
	else
		assert_int_equal(word & SHFL_LOCKED_MASK, 0);

	/* vCPU 1 queues now: on a new queue, or behind vCPU 0. */
	urgent_heads = urgent_count();
	vcpu_start(&b, 1, do_shfl_lock, do_shfl_unlock, &l);
	STEP(is_tail(&l, 1));
	shfl_sim_preempt(0, false);
	STEP(LOAD(a.acquired));
	/* vCPU 1 heads the queue and has turned urgent (set URGENT, then counted it). */
	STEP(is_head(&l, 1) && urgent_count() > urgent_heads);
	/* vCPU 0 has done what it does after its take: URGENT is still there. */
	sleep_us(10000);
	word = LOAD(l.w.val);
	urgent = word & SHFL_URGENT;

	/* vCPU 1 is preempted; vCPU 0 lets go; a newcomer comes. */
	shfl_sim_preempt(1, true);
	STEP(LOAD(shfl_sim.preempt_stops[1]) >= 1);
	STORE(b.release, 1);
	STORE(a.release, 1);
	pthread_join(a.tid, NULL);
	vcpu_start(&c, 2, do_shfl_lock, do_shfl_unlock, &l);
	b_first = !WAIT_FOR(LOAD(c.acquired), STEAL_WINDOW_MS);
	print_message("%s: word %#x once vCPU 1 headed the queue, URGENT %s; newcomer "
		      "vCPU 2 %s the lock while urgent head vCPU 1 was preempted\n",
		      stop_after_cmpxchg ? "vCPU 0 stopped after its emptying cmpxchg"
					 : "vCPU 0 stopped before its cmpxchg",
		      word, urgent ? "set" : "lost", b_first ? "did not take" : "TOOK");
	/* Whichever of them holds the lock lets go. */
	STORE(c.release, 1);
	shfl_sim_preempt(1, false);
	vcpu_finish(&b);
	vcpu_finish(&c);
	return urgent && b_first;
}

static void urgent_survives_a_queue_emptied_under_a_newcomer(void **state)
{
	(void)state;
	need_watchpoints();
	for (int after = 0; after <= 1; after++)
		if (!urgent_head_is_next(after))
			fail_msg("bound lost: vCPU 1 headed a queue formed while vCPU 0 emptied "
				 "its own (vCPU 0 stopped %s its cmpxchg) and turned urgent, yet "
				 "URGENT was cleared or newcomer vCPU 2 took the free word before "
				 "it", after ? "after" : "before");
}

/* ---- race 5: a stale kick target after a spurious wake-up ------------------------ */

/*
 * Race 5: one kick target per lock (kick_cpu), written by whoever set
 * SLOW.  A shfl-quota head parked (SLOW, kick_cpu = itself), woke
 * spuriously and gave the head up with SLOW still set; the new head
 * parked, found SLOW set and changed nothing in the word; the release
 * kicked kick_cpu, the old head, and the new one slept on a free word.
 *
 * Why the new core cannot: there is no kick target.  Every waiter
 * publishes its halt in its own node, and a release that finds SLOW
 * kicks every node halted on the word (kick_halted()).  A SLOW bit left
 * by a waiter that no longer halts only costs a scan.  (Nor can the head
 * change while it waits: the shfl-quota yield is gone, a head stays the
 * head until it takes the word; the waiter that parks after it is a
 * newcomer.)
 *
 * Script (shfl-pv, no urgency, so that newcomers compete): vCPU 0 queues
 * as the head while MAIN_CPU runs; the page then says MAIN_CPU is
 * preempted and vCPU 0 halts on the word, setting SLOW.  A kick plays a
 * spurious interrupt, and a watchpoint stops vCPU 0 right after it
 * clears its halted_on: awake, still the head, SLOW still set.  Newcomer
 * vCPU 1 halts on the word behind the preempted holder, finding SLOW set.
 * MAIN_CPU lets go: vCPU 1 must be kicked and take the free word (vCPU 0
 * is still stopped).
 *
 * Fails if kick_halted() kicks one target, the head the word names (the
 * old kick_cpu), instead of every node halted on the word: "vCPU 1 was
 * NOT woken".
 */
static void stale_slow_after_a_spurious_wake_kicks_the_new_parker(void **state)
{
	static struct shfl_lock l;
	static struct shfl_policy pol;
	struct shfl_node *n0 = node_of(0);
	struct vcpu h, n;
	bool woken;
	u32 word;

	(void)state;
	need_watchpoints();
	shfl_sim_reset();
	pol = shfl_policy_shfl_pv;
	pol.urgent_ns = ~0ULL;
	pol.urgent_bypass = UINT_MAX;
	pol.park_delay_ns = 0;
	shfl_lock_init(&l, &pol);
	shfl_sim_set_cpu(MAIN_CPU);
	shfl_lock(&l);
	vcpu_start(&h, 0, do_shfl_lock, do_shfl_unlock, &l);
	STEP(is_tail(&l, 0) && is_head(&l, 0));
	shfl_sim.preempted[MAIN_CPU] = 1;	/* the page; this thread goes on */
	STEP(LOAD(shfl_sim.halts[0]) >= 1 && shfl_cpu_halted_on(0, &l.w.val) &&
	     (LOAD(l.w.val) & SHFL_SLOW));

	/* A spurious wake-up; stop vCPU 0 once it no longer says it halts. */
	assert_int_equal(shfl_sim_preempt_after_access(0, &n0->halted_on, sizeof(n0->halted_on),
						       true), 0);
	shfl_kick(0);
	STEP(LOAD(shfl_sim.preempt_stops[0]) >= 1);
	assert_null(LOAD(n0->halted_on));
	word = LOAD(l.w.val);
	assert_int_equal(word & SHFL_LOCKED_MASK, (MAIN_CPU + SHFL_CPU_BIAS) | SHFL_SLOW);

	/* A newcomer halts on the word: SLOW is set already, it changes nothing. */
	vcpu_start(&n, 1, do_shfl_lock, do_shfl_unlock, &l);
	STEP(LOAD(shfl_sim.halts[1]) >= 1 && shfl_cpu_halted_on(1, &l.w.val));
	assert_int_equal(LOAD(l.w.val), word);

	shfl_sim.preempted[MAIN_CPU] = 0;
	shfl_unlock(&l);
	woken = WAIT_FOR(LOAD(n.acquired), KICK_LIMIT_MS);
	print_message("word %#x when vCPU 1 halted (vCPU 0 awake, stopped); after the "
		      "release vCPU 1 %s\n", word, woken ? "took the lock" : "was NOT woken");
	vcpu_finish(&n);
	vcpu_finish(&h);
	if (!woken)
		fail_msg("lost wake-up: vCPU 1, halted on the word behind SLOW left by vCPU 0 "
			 "(awake since a spurious wake-up), was not kicked by the release (no "
			 "acquisition within %d ms)", KICK_LIMIT_MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nested_halt_in_queue_keeps_the_hand_over_kick),
		cmocka_unit_test(second_parker_on_a_slow_word_is_kicked),
		cmocka_unit_test(urgent_survives_a_queue_emptied_under_a_newcomer),
		cmocka_unit_test(stale_slow_after_a_spurious_wake_kicks_the_new_parker),
	};

	/* PVLI_RACE=PATTERN runs the scenarios it matches (e.g. one whose mutation is applied). */
	if (getenv("PVLI_RACE"))
		cmocka_set_test_filter(getenv("PVLI_RACE"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
