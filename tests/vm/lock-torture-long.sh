#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# suite: long
# timeout: 780
#
# lock-torture.sh with a 300 s torture (make check's runs 40 s): the same
# checks, with more of the rare interleavings (a vCPU preempted between
# any two instructions of a lock path) given time to happen.
PVLI_TORTURE_S=300 exec "$(dirname "$0")/lock-torture.sh"
