#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A libvirt domain for the tests, made the way the README tells an
operator to make one: the example domain (host/libvirt/example-domain.xml)
with the <qemu:commandline> that `pvlockctl libvirt-xml NAME NVCPUS`
printed for it.

    libvirt-domain.py EXAMPLE SNIPPET NAME NVCPUS [--cpuset CPUS]
        [--emulator QEMU] [--kernel FILE] [--initrd FILE] [--cmdline ARGS]
        [--serial FILE]...

The options replace what the example names by its installed paths
(make install), for a tree that is built but not installed; --cmdline
replaces the example's <cmdline> (its fixed part alone) by the whole
command line, as the README tells an operator to (`pvlock-qemu
--print-cmdline`).  --cpuset
pins the vCPUs (<vcpu cpuset=...>); each --serial is a serial port
written to FILE (ttyS0, ttyS1, ... in order) in place of the example's
pty console.  The domain XML goes to stdout.
"""
import argparse
import sys
import xml.etree.ElementTree as ET

QEMU_XMLNS = "http://libvirt.org/schemas/domain/qemu/1.0"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("example")
    ap.add_argument("snippet", help="what `pvlockctl libvirt-xml NAME NVCPUS` printed")
    ap.add_argument("name")
    ap.add_argument("nvcpus")
    ap.add_argument("--cpuset")
    ap.add_argument("--emulator")
    ap.add_argument("--kernel")
    ap.add_argument("--initrd")
    ap.add_argument("--cmdline")
    ap.add_argument("--serial", action="append", default=[])
    a = ap.parse_args()

    ET.register_namespace("qemu", QEMU_XMLNS)
    ET.register_namespace("pvlock", "urn:pvlockinfo:libvirt:1")
    dom = ET.parse(a.example).getroot()
    with open(a.snippet) as f:
        snippet = ET.fromstring(f"<snippet>{f.read()}</snippet>")

    dom.find("name").text = a.name
    vcpu = dom.find("vcpu")
    vcpu.text = a.nvcpus
    if a.cpuset:
        vcpu.set("cpuset", a.cpuset)
    dom.remove(dom.find(f"{{{QEMU_XMLNS}}}commandline"))
    dom.append(snippet.find(f"{{{QEMU_XMLNS}}}commandline"))

    for path, value in (("devices/emulator", a.emulator), ("os/kernel", a.kernel),
                        ("os/initrd", a.initrd)):
        if value:
            dom.find(path).text = value
    if a.cmdline:
        dom.find("os/cmdline").text = a.cmdline
    if a.serial:
        devices = dom.find("devices")
        for old in devices.findall("serial") + devices.findall("console"):
            devices.remove(old)
        for port, path in enumerate(a.serial):
            serial = ET.SubElement(devices, "serial", type="file")
            ET.SubElement(serial, "source", path=path)
            ET.SubElement(serial, "target", port=str(port))

    ET.ElementTree(dom).write(sys.stdout, encoding="unicode")
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
