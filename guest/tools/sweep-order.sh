# SPDX-License-Identifier: GPL-2.0-only
# The order in which the in-guest sweeps run what they compare, sourced by
# pvlock-sweep, pvlock-usweep and the takeover benches' guest scripts;
# installed in the guest image as /usr/share/pvlockinfo/sweep-order.sh.
#
# Every repetition runs every policy (variant, mode) once, back to back,
# so that drift hits all alike.  A fixed order also puts each one always
# in the same place and always after the same one, and what the one
# before leaves behind (a host scheduler's view of the vCPU threads, a
# module removed a moment ago) counts against it every time.  Measured:
# at 4x in the user-space bench the variant run right after the
# guest-only one (whose waiters spin away the one host CPU) lost about
# 5%, whichever variant ran there.  Turning the list by one each
# repetition moves the places but keeps every predecessor (the order is
# the same cycle), so the repetitions follow a Williams design instead:
# over N repetitions of N things (2N when N is odd) each runs in every
# place, and right after every other one, equally often.

# rep_order R WORD...: the words in repetition R's order (R from 1).
# Row r of the design (0-based, r = R - 1) runs the words at indices
# (r + b_j) mod N for b = 0, 1, N-1, 2, N-2, ...; for odd N the second
# N rows run those orders backwards.
rep_order() {
	case $1 in
	''|*[!0-9]*|0) echo "rep_order: '$1' is no repetition (1, 2, ..)" >&2; return 2 ;;
	esac
	_r=$(($1 - 1))
	shift
	_n=$#
	[ "$_n" -gt 0 ] || return 0
	_back=0
	[ $((_n % 2)) = 1 ] && [ $((_r / _n % 2)) = 1 ] && _back=1
	_out='' _j=0
	while [ $_j -lt $_n ]; do
		if [ $_j = 0 ]; then _b=0
		elif [ $((_j % 2)) = 1 ]; then _b=$(((_j + 1) / 2))
		else _b=$((_n - _j / 2)); fi
		eval "_w=\${$(((_r + _b) % _n + 1))}"
		if [ $_back = 1 ]; then _out="$_w $_out"; else _out="$_out $_w"; fi
		_j=$((_j + 1))
	done
	echo $_out
}
