#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""fake-qemu: a process that looks like QEMU to pvlockd, for fault tests.

It has vCPU threads (real threads that sleep and wake all the time, so
the host BPF program writes their records) and a QMP monitor socket that
answers what pvlockd asks on attach: qmp_capabilities, query-cpus-fast,
qom-list /objects and qom-get of a memory-backend-bpf object's map-id.
Each --mode misbehaves in one way a stopped, slow, hostile or confused
QEMU could:

  normal    answers at once
  stall     sends the greeting, then never answers (a stopped QEMU)
  dribble   sends every line one byte per --dribble-ms (a slow QEMU)
  flood     sends --events events before every reply, as fast as it can
  garbage   answers query-cpus-fast with a line that is not JSON
  huge      answers query-cpus-fast with a line of --huge-bytes bytes
  lie       reports --lie-tid as vCPU 0's thread (a thread not its own)

Without --map-pin it has no memory-backend-bpf object; with it, one that
maps the map pinned there (its id from bpftool).  It writes its pid to
--pidfile once the socket listens, exits on SIGTERM, and with
--spin its vCPU threads spin, --cgroup DIR
it runs in that cgroup; with --exit-vcpu-after SECS vCPU 0's thread
exits after SECS (its thread id
may then be reused); with --want-tid TID vCPU 0's thread reuses TID.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

stop = threading.Event()


spin = False


def vcpu_thread(ids, i, ready, lifetime, cancel):
    ids[i] = threading.get_native_id()
    ready.release()
    end = time.monotonic() + lifetime if lifetime else None
    if spin:
        while not stop.is_set():
            sum(range(1 << 20))
        return
    while not stop.is_set() and not cancel.is_set():
        if end and time.monotonic() > end:
            return
        time.sleep(0.002)


def start_vcpu(ids, i, lifetime, want_tid):
    """Start vCPU i's thread; with want_tid, retry until it has that id."""
    for _ in range(200 if want_tid else 1):
        if want_tid:
            with open("/proc/sys/kernel/ns_last_pid", "w") as f:
                f.write(str(want_tid - 1))
        ready, cancel = threading.Semaphore(0), threading.Event()
        t = threading.Thread(target=vcpu_thread, args=(ids, i, ready, lifetime, cancel),
                             daemon=True)
        t.start()
        ready.acquire()
        if not want_tid or ids[i] == want_tid:
            return
        cancel.set()
        t.join()
    sys.exit(f"fake-qemu: could not get thread id {want_tid} for vCPU {i}")


def map_id_of(pin):
    out = subprocess.run(["bpftool", "-j", "map", "show", "pinned", pin],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["id"]


class Session:
    def __init__(self, conn, args, tids, map_id):
        self.conn, self.args, self.tids, self.map_id = conn, args, tids, map_id
        self.buf = b""

    def send(self, obj_or_text):
        line = obj_or_text if isinstance(obj_or_text, str) else json.dumps(obj_or_text)
        data = (line + "\n").encode()
        if self.args.mode == "dribble":
            for b in data:
                self.conn.sendall(bytes([b]))
                time.sleep(self.args.dribble_ms / 1000)
            return
        if self.args.mode == "flood":
            ev = (json.dumps({"event": "FAKE", "data": {"return": 1},
                              "timestamp": {"seconds": 0, "microseconds": 0}}) + "\n").encode()
            self.conn.sendall(ev * self.args.events)
        self.conn.sendall(data)

    def commands(self):
        while True:
            while b"\n" not in self.buf:
                chunk = self.conn.recv(4096)
                if not chunk:
                    return
                self.buf += chunk
            line, self.buf = self.buf.split(b"\n", 1)
            if line.strip():
                yield json.loads(line)

    def reply(self, cmd):
        name = cmd.get("execute")
        a = cmd.get("arguments", {})
        if name == "qmp_capabilities":
            return {"return": {}}
        if name == "query-cpus-fast":
            if self.args.mode == "garbage":
                return "{\"return\": [{\"cpu-index\": 0, \"thread-id\": " + "x" * 10
            if self.args.mode == "huge":
                return json.dumps({"return": [{"cpu-index": 0, "thread-id": 1,
                                               "pad": "a" * self.args.huge_bytes}]})
            cpus = []
            for i, t in enumerate(self.tids):
                if i == 0 and self.args.mode == "lie":
                    t = self.args.lie_tid
                # props first, with an SMT thread-id that is not 0.
                cpus.append({"props": {"core-id": i, "thread-id": 1, "socket-id": 0},
                             "cpu-index": i, "thread-id": t,
                             "qom-path": f"/machine/unattached/device[{i}]",
                             "target": "x86_64"})
            return {"return": cpus}
        if name == "qom-list" and a.get("path") == "/objects":
            children = [{"name": "type", "type": "string"}]
            if self.map_id is not None:
                children.append({"name": "pvlipage", "type": "child<memory-backend-bpf>"})
            return {"return": children}
        if (name == "qom-get" and a.get("path") == "/objects/pvlipage" and
                a.get("property") == "map-id" and self.map_id is not None):
            return {"return": self.map_id}
        return {"error": {"class": "CommandNotFound", "desc": f"fake-qemu: no {name}"}}

    def serve(self):
        self.send({"QMP": {"version": {"qemu": {"micro": 0, "minor": 0, "major": 10},
                                       "package": "fake"}, "capabilities": []}})
        if self.args.mode == "stall":
            stop.wait()
            return
        for cmd in self.commands():
            self.send(self.reply(cmd))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qmp", required=True, help="QMP socket path to listen on")
    ap.add_argument("--vcpus", type=int, default=2)
    ap.add_argument("--mode", default="normal",
                    choices=["normal", "stall", "dribble", "flood", "garbage", "huge", "lie"])
    ap.add_argument("--map-pin", help="the page pin its memory-backend-bpf maps")
    ap.add_argument("--lie-tid", type=int, default=1)
    ap.add_argument("--dribble-ms", type=float, default=50)
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--huge-bytes", type=int, default=1 << 20)
    ap.add_argument("--exit-vcpu-after", type=float, default=0)
    ap.add_argument("--want-tid", type=int, default=0,
                    help="vCPU 0's thread gets this id (reused; via ns_last_pid)")
    ap.add_argument("--pidfile")
    ap.add_argument("--spin", action="store_true",
                    help="vCPU threads spin instead of sleeping and waking")
    ap.add_argument("--cgroup", help="join this cgroup directory before any thread starts")
    args = ap.parse_args()
    global spin
    spin = args.spin
    if args.cgroup:
        with open(os.path.join(args.cgroup, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))

    def term(*_):
        stop.set()
        try:
            os.unlink(args.qmp)
        except FileNotFoundError:
            pass
        os._exit(0)
    signal.signal(signal.SIGTERM, term)
    ids = [0] * args.vcpus
    for i in range(args.vcpus):
        start_vcpu(ids, i, args.exit_vcpu_after if i == 0 else 0,
                   args.want_tid if i == 0 else 0)
    map_id = map_id_of(args.map_pin) if args.map_pin else None

    try:
        os.unlink(args.qmp)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(args.qmp)
    srv.listen(1)
    srv.settimeout(0.2)
    if args.pidfile:
        with open(args.pidfile + ".tmp", "w") as f:
            f.write(f"{os.getpid()}\n")
        os.rename(args.pidfile + ".tmp", args.pidfile)
    print("vcpus", " ".join(map(str, ids)), flush=True)
    while not stop.is_set():
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        conn.settimeout(None)
        try:
            Session(conn, args, ids, map_id).serve()
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            conn.close()
    srv.close()
    try:
        os.unlink(args.qmp)
    except FileNotFoundError:
        pass


if __name__ == "__main__":
    sys.exit(main())
