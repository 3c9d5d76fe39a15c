# SPDX-License-Identifier: GPL-2.0-only
"""The report of a bench/vcpu_oversub.sh sweep, in four parts: load
(the results directory's files), stats (medians, the table, the
targets), render (CSV, text and markdown) and plots (gnuplot).  The
entry point is bench/oversub_report.py OUT-DIR."""
