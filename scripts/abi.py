#!/usr/bin/env python3
"""The exported-symbol list of libhttpx (abi/libhttpx.sym) and the ELF version script.

  abi.py exports HEADER              print the functions HEADER declares, one a line
  abi.py update HEADER [SYMFILE]     refresh SYMFILE (default abi/libhttpx.sym) from HEADER:
                                     existing symbols keep their version node, new ones get
                                     the node of the crate's current version (HTTPX_<maj>.<min>),
                                     removed ones are dropped with a warning (an ABI break:
                                     see docs/ABI.md)
  abi.py map [SYMFILE] OUT           write the linker version script for SYMFILE to OUT
  abi.py undefs [SYMFILE] OUT        write a compiler response file with `-Wl,-u,<sym>` for
                                     every symbol (pulls exactly them out of libhttpx.a)
  abi.py node                        print the version node of the current crate version

Python 3 standard library only.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SYM = os.path.join(ROOT, "abi", "libhttpx.sym")

# One declaration a line (cbindgen.toml: args = "horizontal"); typedefs are not exports.
DECL = re.compile(r"^(?!typedef\b)(?!#)[A-Za-z_][\w \t\*]*?\b(httpx_\w+)\s*\(")


def header_exports(path):
    names = []
    with open(path, encoding="utf-8") as f:
        in_comment = False
        for line in f:
            s = line.strip()
            if in_comment:
                if "*/" in s:
                    in_comment = False
                continue
            if s.startswith("/*"):
                in_comment = "*/" not in s
                continue
            m = DECL.match(line)
            if m:
                names.append(m.group(1))
    return sorted(set(names))


def crate_version():
    with open(os.path.join(ROOT, "Cargo.toml"), encoding="utf-8") as f:
        in_pkg = False
        for line in f:
            s = line.strip()
            if s.startswith("["):
                in_pkg = s == "[package]"
            elif in_pkg:
                m = re.match(r'version\s*=\s*"(\d+)\.(\d+)\.(\d+)', s)
                if m:
                    return tuple(int(x) for x in m.groups())
    sys.exit("abi.py: no [package] version in Cargo.toml")


def current_node():
    major, minor, _ = crate_version()
    return "HTTPX_%d.%d" % (major, minor)


def node_key(node):
    return tuple(int(x) for x in node.split("_", 1)[1].split("."))


def read_sym(path):
    syms = {}
    if not os.path.exists(path):
        return syms
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            s = line.split("#", 1)[0].strip()
            if not s:
                continue
            parts = s.split()
            if len(parts) != 2 or not parts[0].startswith("httpx_") or not re.match(r"^HTTPX_\d+\.\d+$", parts[1]):
                sys.exit("%s:%d: expected `httpx_<name> HTTPX_<major>.<minor>`, got %r" % (path, n, line))
            syms[parts[0]] = parts[1]
    return syms


SYM_HEADER = """\
# Every function libhttpx.so.0 exports, with the ELF version node it belongs to.
# Checked by tests/abi.rs against include/httpx.h and against the built library; the
# linker version script is generated from this file (scripts/abi.py map).
# Do not edit by hand: scripts/regen-header.sh rewrites it. Rules: docs/ABI.md
# (a symbol keeps its node forever; new symbols join the node of the release that adds
# them; removing or changing one is an ABI break and bumps the SONAME).
"""


def write_sym(path, syms):
    width = max((len(s) for s in syms), default=0)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(SYM_HEADER)
        for name in sorted(syms):
            f.write("%-*s %s\n" % (width, name, syms[name]))
    os.replace(path + ".tmp", path)


def cmd_update(header, symfile):
    old = read_sym(symfile)
    names = header_exports(header)
    if not names:
        sys.exit("abi.py: %s declares no httpx_* function" % header)
    node = current_node()
    new = {}
    added = []
    for name in names:
        new[name] = old.get(name, node)
        if name not in old:
            added.append(name)
    removed = sorted(set(old) - set(names))
    for name in removed:
        print("abi.py: WARNING: %s is no longer exported (node %s): that is an ABI break; "
              "see docs/ABI.md (SONAME bump)" % (name, old[name]), file=sys.stderr)
    if new != old:
        write_sym(symfile, new)
    print("abi.py: %s: %d exports (%d new in %s, %d removed)"
          % (os.path.relpath(symfile), len(new), len(added), node, len(removed)))


def cmd_map(symfile, out):
    syms = read_sym(symfile)
    if not syms:
        sys.exit("abi.py: %s is empty" % symfile)
    by_node = {}
    for name, node in syms.items():
        by_node.setdefault(node, []).append(name)
    lines = ["/* Generated from abi/libhttpx.sym by scripts/abi.py: do not edit. */"]
    prev = None
    for node in sorted(by_node, key=node_key):
        lines.append("%s {" % node)
        lines.append("  global:")
        lines.extend("    %s;" % n for n in sorted(by_node[node]))
        if prev is None:
            lines.append("  local:")
            lines.append("    *;")
            lines.append("};")
        else:
            lines.append("} %s;" % prev)
        prev = node
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def cmd_undefs(symfile, out):
    syms = read_sym(symfile)
    if not syms:
        sys.exit("abi.py: %s is empty" % symfile)
    with open(out, "w", encoding="utf-8") as f:
        f.write("".join("-Wl,-u,%s\n" % n for n in sorted(syms)))


def main(argv):
    if len(argv) >= 2 and argv[1] == "exports" and len(argv) == 3:
        print("\n".join(header_exports(argv[2])))
    elif len(argv) >= 3 and argv[1] == "update":
        cmd_update(argv[2], argv[3] if len(argv) > 3 else DEFAULT_SYM)
    elif len(argv) in (3, 4) and argv[1] == "map":
        cmd_map(argv[2] if len(argv) == 4 else DEFAULT_SYM, argv[-1])
    elif len(argv) in (3, 4) and argv[1] == "undefs":
        cmd_undefs(argv[2] if len(argv) == 4 else DEFAULT_SYM, argv[-1])
    elif len(argv) == 2 and argv[1] == "node":
        print(current_node())
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
