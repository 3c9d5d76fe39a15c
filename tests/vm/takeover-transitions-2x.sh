#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: check
# timeout: 240
#
# takeover-transitions.sh on 4 vCPUs over two host CPUs (2x): the same
# checks, with the vCPU threads truly in parallel.  Before QEMU patch
# 0006 this was in suite long: QEMU's cross-modifying-code race under
# multi-threaded TCG killed the guest at a text patch now and then, the
# takeover's as well as plain ftrace's (ftrace-toggle-2x.sh; README,
# Known problems); with it, 27 runs of 5 cycles passed.
TK_CONFIGS=0-1:2x exec "$(dirname "$0")/takeover-transitions.sh"
