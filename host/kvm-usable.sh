# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=sh
#
# kvm_probe: can the stock guest kernel run under KVM here?  Sourced by
# configure and pvlock-qemu so that both decide alike.  Sets
#   kvm_usable  yes | no
#   kvm_why     why not (empty when usable)
#
# /dev/kvm alone is not enough: a host may offer KVM through a backend that
# needs no hardware virtualisation (KVM-PVM, module kvm_pvm), which only
# runs guest kernels built for it; a stock kernel dies there with an
# internal emulation error.  Usable means /dev/kvm can be opened and the
# hardware-assisted backend (kvm_intel or kvm_amd) is what provides it.
kvm_probe() {
	kvm_usable=no
	if [ ! -c /dev/kvm ]; then
		kvm_why="no /dev/kvm"
	elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		kvm_why="/dev/kvm is not readable and writable by $(id -un)"
	elif [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; then
		kvm_usable=yes
		kvm_why=
	elif [ -d /sys/module/kvm_pvm ]; then
		kvm_why="/dev/kvm is KVM-PVM (no VMX/SVM), which runs only PVM guest kernels"
	else
		kvm_why="/dev/kvm has no hardware-assisted backend (kvm_intel/kvm_amd not loaded)"
	fi
}
