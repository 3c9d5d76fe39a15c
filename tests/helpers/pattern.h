/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Seeded byte patterns for the shared-memory round-trip tests.
 *
 * Host and guest generate the same bytes from the same seed, so either
 * side can check what the other wrote without transferring a reference
 * copy.  Every byte depends on the seed and its offset, so a shifted,
 * truncated or stale copy is caught, not only a zeroed one.
 */
#ifndef __PVLI_PATTERN_H
#define __PVLI_PATTERN_H

#include <stddef.h>
#include <stdint.h>

/* splitmix64 finaliser: a bijection with good avalanche. */
static inline uint64_t pattern_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static inline uint8_t pattern_byte(uint64_t seed, size_t off)
{
	uint64_t word = pattern_mix(seed ^ pattern_mix(off / 8));

	return (uint8_t)(word >> (8 * (off % 8)));
}

/* Fill @len bytes at @buf, which sits at offset @base of the region. */
static inline void pattern_fill(volatile uint8_t *buf, size_t base,
				size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern_byte(seed, base + i);
}

/*
 * Check @len bytes at @buf (offset @base of the region).  Returns the
 * index of the first byte that differs, or @len when all match.
 */
static inline size_t pattern_check(const volatile uint8_t *buf, size_t base,
				   size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != pattern_byte(seed, base + i))
			return i;
	return len;
}

#endif /* __PVLI_PATTERN_H */
