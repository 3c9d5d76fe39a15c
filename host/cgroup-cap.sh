# SPDX-License-Identifier: GPL-2.0-only
# Sourced (bash) by the scripts that cap a VM's CPU time (bench/,
# tests/vm/): CFS bandwidth caps.
#
# cgroup_cap NAME QUOTA_US PERIOD_US
#   creates a cpu cgroup NAME capped at QUOTA_US per PERIOD_US (cgroup v2
#   cpu.max, or v1 cpu.cfs_quota_us) and prints its directory.  Start a VM
#   inside it with host/pvlock-qemu --cgroup DIR (capped from its first
#   instruction); or move a running process in with
#   "echo PID > DIR/cgroup.procs".  Remove it with cgroup_uncap DIR once
#   its tasks have left.
cgroup_cap() {
	local d
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then	# cgroup v2
		d=/sys/fs/cgroup/$1
		grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control ||
			echo +cpu >/sys/fs/cgroup/cgroup.subtree_control || return 1
		mkdir "$d" && echo "$2 $3" >"$d/cpu.max" || return 1
	else
		d=/sys/fs/cgroup/cpu/$1
		[ -d /sys/fs/cgroup/cpu ] || { echo "no cpu cgroup controller mounted" >&2; return 1; }
		mkdir "$d" && echo "$3" >"$d/cpu.cfs_period_us" &&
			echo "$2" >"$d/cpu.cfs_quota_us" || return 1
	fi
	echo "$d"
}

# cgroup_uncap DIR: remove a cgroup, waiting up to 5 s for its tasks to leave.
cgroup_uncap() {
	for _ in $(seq 50); do rmdir "$1" 2>/dev/null && return 0; sleep 0.1; done
	echo "cannot remove cgroup $1 (tasks still in it?)" >&2
	return 1
}
