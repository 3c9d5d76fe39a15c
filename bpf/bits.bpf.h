/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Helpers every BPF program here uses, host side and guest side.  Include
 * after vmlinux.h and bpf/bpf_helpers.h (__u64, __always_inline).  Plain
 * C without BPF helper calls, so that the unit tests compile it too.
 */
#ifndef __PVLI_BITS_BPF_H
#define __PVLI_BITS_BPF_H

/*
 * One load or store of a field another CPU (or the guest, through the
 * shared page) writes or reads concurrently: the compiler may not tear,
 * merge, repeat or drop it.  No ordering beyond that: barriers are the
 * caller's, and each names the one it pairs with.
 */
#define READ_ONCE(x)		(*(const volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v)	(*(volatile typeof(x) *)&(x) = (v))

/*
 * floor(log2(@v)); 0 for 0 and 1.  Five shift steps, no loop and no
 * __builtin_clzll (clang 14 runs out of memory on it for BPF).
 */
static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v >= (1ULL << 32)) << 5; v >>= shift; r |= shift;
	shift = (v >= (1ULL << 16)) << 4; v >>= shift; r |= shift;
	shift = (v >= (1ULL << 8)) << 3; v >>= shift; r |= shift;
	shift = (v >= (1ULL << 4)) << 2; v >>= shift; r |= shift;
	shift = (v >= (1ULL << 2)) << 1; v >>= shift; r |= shift;
	return r | (__u32)(v >> 1);
}

/*
 * Slot of @v in a log2 histogram of @nr_slots slots: slot i counts
 * [2^i, 2^(i+1)), slot 0 also counts 0, and the last slot everything
 * from 2^(nr_slots - 1) up.  Always < @nr_slots (@nr_slots > 0).
 */
static __always_inline __u32 log2_slot(__u64 v, __u32 nr_slots)
{
	__u32 slot = log2_u64(v);

	return slot < nr_slots ? slot : nr_slots - 1;
}

#endif /* __PVLI_BITS_BPF_H */
