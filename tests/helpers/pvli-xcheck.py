#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""pvli-xcheck: does any VM receive another VM's scheduling records?

Reads pvlockd's pinned BPF maps (with bpftool) and checks, for each VM
given as NAME=PID (PID: its QEMU, or a fake-qemu), that

  - its page (pinned at PIN_ROOT/vms/NAME/page) sits in exactly one slot
    of the pages map;
  - every vCPU registration (vcpus map: thread -> slot, vCPU) that points
    at that slot is a thread of PID: the BPF program writes a thread's
    state into the page of the slot its registration names, so a thread
    of any other process there would write into this VM's records;
  - with --strict, no registration and no slot belongs to none of the
    VMs (an orphan that a later VM given that slot would inherit).

Exits 0 when all hold, 1 listing every violation, 2 if the maps cannot
be read.  --json prints what it found.
"""

import argparse
import json
import os
import subprocess
import sys

PIN_ROOT = "/sys/fs/bpf/pvlockinfo"


def bpftool(*args):
    r = subprocess.run(["bpftool", "-j", *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"bpftool {' '.join(args)}: {r.stderr.strip() or r.stdout.strip()}")
    return json.loads(r.stdout or "null")


def le32(byte_list):
    return int.from_bytes(bytes(int(b, 16) for b in byte_list), "little")


def read_maps(root):
    vcpus = {}
    for e in bpftool("map", "dump", "pinned", f"{root}/maps/vcpus") or []:
        if "formatted" in e:
            tid = e["formatted"]["key"]
            v = e["formatted"]["value"]
            vcpus[tid] = (v["vm_slot"], v["vcpu"])
        else:
            tid = le32(e["key"])
            vcpus[tid] = (le32(e["value"][0:4]), le32(e["value"][4:8]))
    pages = {}
    for e in bpftool("map", "dump", "pinned", f"{root}/maps/pages") or []:
        if "inner_map_id" in e:
            pages[le32(e["key"])] = e["inner_map_id"]
    return vcpus, pages


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("vms", nargs="*", metavar="NAME=PID")
    ap.add_argument("--root", default=PIN_ROOT)
    ap.add_argument("--strict", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    try:
        vcpus, pages = read_maps(args.root)
    except (RuntimeError, ValueError, KeyError) as e:
        print(f"pvli-xcheck: cannot read the maps: {e}", file=sys.stderr)
        return 2

    bad = []
    owned_slots = set()
    found = {"vcpus": {str(k): list(v) for k, v in vcpus.items()},
             "pages": {str(k): v for k, v in pages.items()}, "vms": {}}
    for spec in args.vms:
        name, _, pid = spec.partition("=")
        pid = int(pid)
        try:
            map_id = bpftool("map", "show", "pinned", f"{args.root}/vms/{name}/page")["id"]
        except RuntimeError as e:
            bad.append(f"VM {name}: no page pin ({e})")
            continue
        slots = [s for s, m in pages.items() if m == map_id]
        found["vms"][name] = {"pid": pid, "map_id": map_id, "slots": slots}
        if len(slots) != 1:
            bad.append(f"VM {name}: its page (map {map_id}) is in slots {slots}, want one")
            continue
        slot = slots[0]
        owned_slots.add(slot)
        for tid, (s, v) in sorted(vcpus.items()):
            if s == slot and not os.path.exists(f"/proc/{pid}/task/{tid}"):
                owner = "gone"
                try:
                    with open(f"/proc/{tid}/status") as f:
                        tgid = next(l.split()[1] for l in f if l.startswith("Tgid:"))
                    owner = f"process {tgid}"
                except (OSError, StopIteration):
                    pass
                bad.append(f"VM {name} (pid {pid}, slot {slot}): vCPU {v} is written by "
                           f"thread {tid} ({owner}), not a thread of its QEMU")
    if args.strict:
        for tid, (s, v) in sorted(vcpus.items()):
            if s not in owned_slots:
                bad.append(f"orphan registration: thread {tid} -> slot {s} vCPU {v}")
        for s, m in sorted(pages.items()):
            if s not in owned_slots:
                bad.append(f"orphan slot {s}: page map {m} belongs to none of the VMs")
    if args.json:
        print(json.dumps(found))
    for b in bad:
        print(f"pvli-xcheck: {b}")
    if not bad:
        print(f"pvli-xcheck: ok: {len(args.vms)} VMs, {len(vcpus)} registrations, "
              f"{len(pages)} slots{' (strict)' if args.strict else ''}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
