# SPDX-License-Identifier: GPL-2.0-only
#
# ple_parse VALUE: VALUE as the window of an emulated pause-loop exit
# (QEMU patch 0008's x-pause-loop-exit-ns, a uint32 of ns): decimal
# digits only, at most 10 of them, at most 4294967295.  Prints it read as
# decimal (leading zeros are not octal); fails, printing nothing, for
# anything else.  Sourced by pvlock-qemu and bench/vcpu_oversub.sh so
# that both take the same values.
ple_parse() {
	[[ "$1" =~ ^[0-9]{1,10}$ ]] && [ "$((10#$1))" -le 4294967295 ] && echo "$((10#$1))"
}
