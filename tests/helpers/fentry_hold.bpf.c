// SPDX-License-Identifier: GPL-2.0-only
/*
 * fentry-hold's program (tests/helpers/fentry-hold.c): a test fixture.
 * An empty fentry program whose only job is to exist: its BPF trampoline
 * is an ftrace direct call on the function the loader names, so the
 * takeover's direct entry cannot have that function while it is
 * attached (register_ftrace_direct(): one direct call per function).
 * It counts its calls, so the test can tell it stayed attached.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

__u64 calls;

/* The target is set by the loader (bpf_program__set_attach_target()). */
SEC("fentry")
int BPF_PROG(hold_entry)
{
	__sync_fetch_and_add(&calls, 1);
	return 0;
}
