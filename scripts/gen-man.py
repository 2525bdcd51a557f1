#!/usr/bin/env python3
"""Reference documentation of libhttpx from the doc comments of include/httpx.h.

Writes, from the header alone (plus docs/errors.txt for the error descriptions):
  MAN_DIR/<function>.3      one man page (section 3) per exported function
  MAN_DIR/httpx-errors.3    every HTTPX_E_* code: value, group, meaning, who returns it
  MAN_DIR/libhttpx.3        overview: conventions and every function by area
  HTML_DIR/*.html           the same pages as HTML (index.html = the overview)

  gen-man.py [--header include/httpx.h] [--errors docs/errors.txt] [--version X.Y.Z]
             --man-dir DIR [--html-dir DIR] [--clean]

Python 3 standard library only. Output is deterministic (no dates), so a rebuild of an
unchanged header writes identical files.
"""
import argparse
import html
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DECL = re.compile(r"^(?!typedef\b)(?!#)[A-Za-z_][\w \t\*]*?\b(httpx_\w+)\s*\((.*)\)\s*;\s*$")
DEFINE = re.compile(r"^#define\s+(HTTPX_\w+)\s+(\S+)\s*$")
TYPEDEF_FN = re.compile(r"^typedef\b.*\(\s*\*\s*(httpx_\w+)\s*\)")
TYPEDEF = re.compile(r"^typedef\b.*\b(httpx_\w+)\s*;")
COMMON_TYPES = {"httpx_code", "httpx_error"}  # on nearly every page: not repeated under TYPES
CODE_GROUPS = [  # (first, last, name): the code ranges README.md documents
    (0, 0, "success"), (1, 9, "usage errors"), (10, 19, "timeouts"), (20, 29, "network errors"),
    (30, 39, "protocol errors"), (40, 49, "client errors"), (50, 59, "callback errors"),
    (60, 69, "local I/O errors"), (90, 99, "internal errors"),
]
# Areas of the overview page, by name prefix (first match wins).
AREAS = [
    ("Version and errors", ("httpx_version", "httpx_code_", "httpx_error_")),
    ("Client configuration", ("httpx_client_config_",)),
    ("Cookies", ("httpx_client_cookie", "httpx_cookie_")),
    ("Client", ("httpx_client_", "httpx_get")),
    ("Requests", ("httpx_request_",)),
    ("Response builders (callback transports)", ("httpx_response_builder_",)),
    ("Responses", ("httpx_response_",)),
    ("Authentication", ("httpx_auth_",)),
    ("Transports", ("httpx_transport_",)),
]


class Item:
    def __init__(self, kind, name, decl, doc):
        self.kind, self.name, self.decl, self.doc = kind, name, decl, doc


def parse_header(path):
    """Functions, #defines and typedefs of the header, each with the doc comment above it."""
    funcs, defines, typedefs = [], [], {}
    pending = None  # doc text of the last /** */ block, until the next declaration
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        s = line.strip()
        if s.startswith("/**"):
            block = []
            while True:
                t = lines[i].strip()
                t = t[3:] if t.startswith("/**") else t
                end = t.endswith("*/")
                t = t[:-2] if end else t
                t = re.sub(r"^\*( |$)", "", t.strip()).rstrip()
                block.append(t)
                if end or i + 1 >= len(lines):
                    break
                i += 1
            pending = "\n".join(block).strip("\n")
        elif s.startswith("/*"):
            while "*/" not in lines[i] and i + 1 < len(lines):
                i += 1
        elif s == "":
            pass
        else:
            m = DECL.match(line)
            d = DEFINE.match(line)
            t = TYPEDEF_FN.match(line) or TYPEDEF.match(line)
            if m:
                funcs.append(Item("function", m.group(1), s, pending or ""))
            elif d:
                defines.append(Item("define", d.group(1), d.group(2), pending or ""))
            elif t:
                typedefs[t.group(1)] = Item("typedef", t.group(1), s, pending or "")
            pending = None
        i += 1
    return funcs, defines, typedefs


def read_error_texts(path):
    """docs/errors.txt: `NAME` on a line of its own, its paragraph below, blank line between."""
    texts = {}
    if not path or not os.path.exists(path):
        return texts
    name, buf = None, []
    with open(path, encoding="utf-8") as f:
        for line in f.read().split("\n") + [""]:
            if line.startswith("#"):
                continue
            if re.match(r"^HTTPX_(E_\w+|OK)$", line.strip()) and name is None:
                name, buf = line.strip(), []
            elif line.strip() == "" and name is not None:
                texts[name] = " ".join(buf).strip()
                name = None
            elif name is not None:
                buf.append(line.strip())
    return texts


def first_sentence(doc):
    text = " ".join(doc.split())
    m = re.match(r"(.+?[.!?])(\s|$)", text)
    s = m.group(1) if m else text
    s = s.replace("`", "")
    return s[:-1] if s.endswith(".") else s


def mentions(doc, names):
    found = []
    for n in re.findall(r"\b(httpx_\w+|HTTPX_E_\w+)\b", doc):
        if n in names and n not in found:
            found.append(n)
    return found


# ------------------------------------------------------------------------------ roff

def roff_text(s):
    s = s.replace("\\", "\\e")
    s = re.sub(r"`([^`]+)`", lambda m: "\\fB" + m.group(1) + "\\fR", s)
    s = s.replace("-", "\\-")
    return s


def roff_lines(s):
    out = []
    for line in s.split("\n"):
        t = roff_text(line)
        if t.startswith(".") or t.startswith("'"):
            t = "\\&" + t
        out.append(t)
    return out


def roff_paragraphs(doc):
    out = []
    for para in re.split(r"\n\s*\n", doc.strip()):
        if not para.strip():
            continue
        if out:
            out.append(".PP")
        out.extend(roff_lines(para))
    return out


def man_page(title, name_line, synopsis, sections, version):
    out = ['.\\" Generated by scripts/gen-man.py from include/httpx.h: do not edit.',
           '.TH "%s" 3 "" "libhttpx %s" "libhttpx Manual"' % (title, version),
           ".SH NAME", name_line]
    if synopsis:
        out += [".SH SYNOPSIS", ".nf", ".B #include <httpx.h>", ".PP"]
        out += roff_lines(synopsis)
        out += [".fi"]
    for head, body in sections:
        if body:
            out.append(".SH " + head)
            out.extend(body)
    return "\n".join(out) + "\n"


def see_also_roff(names):
    parts = []
    for i, n in enumerate(names):
        sep = "," if i + 1 < len(names) else ""
        parts.append(".BR %s (3)%s" % (n.replace("-", "\\-"), sep))
    return parts


# ------------------------------------------------------------------------------ html

CSS = ("body{font-family:sans-serif;max-width:52em;margin:2em auto;padding:0 1em;line-height:1.45}"
       "pre{background:#f4f4f4;padding:.6em;overflow-x:auto}code{background:#f4f4f4}"
       "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;vertical-align:top}")


def html_text(s, pages):
    s = html.escape(s, quote=False)
    s = re.sub(r"`([^`]+)`", lambda m: "<code>" + m.group(1) + "</code>", s)

    def link(m):
        n = m.group(1)
        if n in pages:
            return '<a href="%s.html">%s</a>' % (n, n)
        if n.startswith("HTTPX_E_") or n == "HTTPX_OK":
            return '<a href="httpx-errors.html#%s">%s</a>' % (n, n)
        return n
    # Link names outside of tags only (attributes never contain httpx_ words here).
    return re.sub(r"(?<![\w#/])(httpx_\w+|HTTPX_E_\w+|HTTPX_OK)\b(?![^<]*>)", link, s)


def html_paragraphs(doc, pages):
    return "\n".join("<p>%s</p>" % html_text(p, pages).replace("\n", " ")
                     for p in re.split(r"\n\s*\n", doc.strip()) if p.strip())


def html_page(title, body, version):
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>%s \u2014 libhttpx %s</title><style>%s</style></head><body>\n"
            "<p><a href=\"index.html\">libhttpx %s</a> \u00b7 <a href=\"httpx-errors.html\">error codes</a></p>\n"
            "%s\n</body></html>\n" % (html.escape(title), version, CSS, version, body))


# ------------------------------------------------------------------------------ pages

def return_section(f, error_names):
    ret = f.decl.split(f.name + "(")[0].strip()
    codes = [n for n in mentions(f.doc, error_names)]
    if ret == "httpx_code":
        text = ("Returns \\fBHTTPX_OK\\fR (0) on success, otherwise an error code (see "
                "\\fBhttpx\\-errors\\fR(3)).")
        if "httpx_error **" in f.decl:
            text += (" When \\fIerr\\fR is not NULL, a detailed \\fBhttpx_error\\fR is stored "
                     "there on failure (free it with \\fBhttpx_error_free\\fR(3)).")
        if codes:
            text += " This function documents: " + ", ".join("\\fB%s\\fR" % c for c in codes) + "."
        return [text]
    if ret == "void":
        return ["None."]
    return ["Returns a value of type \\fB%s\\fR: see DESCRIPTION." % roff_text(ret)]


def area_of(name):
    for title, prefixes in AREAS:
        if any(name.startswith(p) for p in prefixes):
            return title
    return "Other"


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--header", default=os.path.join(ROOT, "include", "httpx.h"))
    ap.add_argument("--errors", default=os.path.join(ROOT, "docs", "errors.txt"))
    ap.add_argument("--version", default="")
    ap.add_argument("--man-dir", required=True)
    ap.add_argument("--html-dir")
    ap.add_argument("--clean", action="store_true", help="remove old *.3 / *.html first")
    a = ap.parse_args(argv[1:])

    funcs, defines, typedefs = parse_header(a.header)
    if not funcs:
        sys.exit("gen-man.py: no functions found in %s" % a.header)
    version = a.version
    if not version:
        vals = {d.name: d.decl for d in defines}
        version = "%s.%s.%s" % (vals.get("HTTPX_VERSION_MAJOR", "0"), vals.get("HTTPX_VERSION_MINOR", "0"),
                                vals.get("HTTPX_VERSION_PATCH", "0"))
    fnames = {f.name for f in funcs}
    codes = [d for d in defines if d.name == "HTTPX_OK" or d.name.startswith("HTTPX_E_")]
    error_names = {d.name for d in codes}
    error_texts = read_error_texts(a.errors)
    pages = set(fnames)

    os.makedirs(a.man_dir, exist_ok=True)
    if a.html_dir:
        os.makedirs(a.html_dir, exist_ok=True)
    if a.clean:
        for d, ext in ((a.man_dir, ".3"), (a.html_dir, ".html")):
            if d:
                for n in os.listdir(d):
                    if n.endswith(ext):
                        os.remove(os.path.join(d, n))

    def write(path, text):
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)

    # Who documents which code (for httpx-errors).
    returned_by = {c.name: [f.name for f in funcs if c.name in mentions(f.doc, error_names)] for c in codes}
    missing_doc = []
    for f in funcs:
        if not f.doc.strip():
            missing_doc.append(f.name)
        doc = f.doc or "(not documented in the header)"
        types = [t for t in re.findall(r"\b(httpx_\w+)\b", f.decl) if t in typedefs and t not in COMMON_TYPES]
        type_notes = []
        for t in dict.fromkeys(types):
            if typedefs[t].doc:
                type_notes.append("\\fB%s\\fR: %s" % (t, roff_text(" ".join(typedefs[t].doc.split()))))
        see = [n for n in mentions(f.doc, fnames) if n != f.name]
        see += [n for n in ("libhttpx", "httpx-errors")]
        sections = [("DESCRIPTION", roff_paragraphs(doc)),
                    ("TYPES", [x for n in type_notes for x in (n, ".PP")][:-1] if type_notes else []),
                    ("RETURN VALUE", return_section(f, error_names)),
                    ("SEE ALSO", see_also_roff(see))]
        write(os.path.join(a.man_dir, f.name + ".3"),
              man_page(f.name, "%s \\- %s" % (roff_text(f.name), roff_text(first_sentence(doc))), f.decl,
                       sections, version))
        if a.html_dir:
            body = "<h1>%s</h1>\n<p>%s</p>\n<h2>Synopsis</h2>\n<pre>#include &lt;httpx.h&gt;\n\n%s</pre>\n" % (
                f.name, html_text(first_sentence(doc), pages), html_text(f.decl, pages))
            body += "<h2>Description</h2>\n" + html_paragraphs(doc, pages)
            for t in dict.fromkeys(types):
                if typedefs[t].doc:
                    body += "\n<p><code>%s</code>: %s</p>" % (t, html_text(" ".join(typedefs[t].doc.split()), pages))
            if see:
                body += "\n<h2>See also</h2>\n<p>%s</p>" % ", ".join(
                    '<a href="%s.html">%s</a>' % ("index" if n == "libhttpx" else n, n) for n in see)
            write(os.path.join(a.html_dir, f.name + ".html"), html_page(f.name, body, version))

    # httpx-errors(3)
    def group_of(value):
        try:
            v = int(value, 0)
        except ValueError:
            return "other"
        for lo, hi, g in CODE_GROUPS:
            if lo <= v <= hi:
                return g
        return "other"

    err_body, err_html, missing_err = [], [], []
    last_group = None
    rows = []
    for c in codes:
        g = group_of(c.decl)
        if g != last_group:
            err_body += [".SS %s" % g.capitalize()]
            rows.append('<tr><th colspan="3">%s</th></tr>' % html.escape(g.capitalize()))
            last_group = g
            if c.doc:
                err_body += roff_lines(" ".join(c.doc.split()))
        text = error_texts.get(c.name, "")
        if not text:
            missing_err.append(c.name)
            text = "(no description in docs/errors.txt yet)"
        by = returned_by.get(c.name, [])
        err_body += [".TP", "\\fB%s\\fR (%s)" % (c.name, c.decl)] + roff_lines(text)
        if by:
            err_body += [".br", "Documented by: " + ", ".join("\\fB%s\\fR(3)" % n for n in by) + "."]
        rows.append('<tr id="%s"><td><code>%s</code></td><td>%s</td><td>%s%s</td></tr>' % (
            c.name, c.name, html.escape(c.decl), html_text(text, pages),
            ("<br>Documented by: " + ", ".join('<a href="%s.html">%s</a>' % (n, n) for n in by)) if by else ""))
    intro = ("Every fallible function of libhttpx returns an \\fBhttpx_code\\fR. Codes are stable and "
             "grouped by tens, so a caller can test a whole family (\\fBhttpx_code_is_timeout\\fR(3) for "
             "10..19). \\fBhttpx_code_str\\fR(3) names any code; an optional last \\fBhttpx_error **err\\fR "
             "argument receives a message (\\fBhttpx_error_message\\fR(3), free it with "
             "\\fBhttpx_error_free\\fR(3)). A value is never reused for another meaning.")
    write(os.path.join(a.man_dir, "httpx-errors.3"),
          man_page("httpx-errors", "httpx-errors \\- error codes of libhttpx", "",
                   [("DESCRIPTION", [intro]), ("ERROR CODES", err_body),
                    ("SEE ALSO", see_also_roff(["libhttpx", "httpx_code_str", "httpx_error_message"]))], version))

    # libhttpx(3): overview
    header_intro = ""
    with open(a.header, encoding="utf-8") as f:
        m = re.match(r"\s*/\*(.*?)\*/", f.read(), re.S)
        if m:
            header_intro = "\n".join(re.sub(r"^\s*\* ?", "", l) for l in m.group(1).split("\n")).strip()
    by_area = {}
    for f in funcs:
        by_area.setdefault(area_of(f.name), []).append(f)
    ov, ov_html = [], []
    for title, _ in AREAS + [("Other", ())]:
        if title not in by_area:
            continue
        ov.append(".SS " + title)
        ov_html.append("<h3>%s</h3>\n<table>" % html.escape(title))
        for f in by_area[title]:
            ov += [".TP", "\\fB%s\\fR(3)" % f.name, roff_text(first_sentence(f.doc))]
            ov_html.append('<tr><td><a href="%s.html"><code>%s</code></a></td><td>%s</td></tr>'
                           % (f.name, f.name, html_text(first_sentence(f.doc), pages)))
        ov_html.append("</table>")
    link_text = ("cc app.c $(pkg-config \\-\\-cflags \\-\\-libs httpx), or in CMake "
                 "find_package(httpx) and target_link_libraries(app PRIVATE httpx::httpx).")
    write(os.path.join(a.man_dir, "libhttpx.3"),
          man_page("libhttpx", "libhttpx \\- HTTPX's HTTP client as a C library", "",
                   [("DESCRIPTION", roff_lines(header_intro) + [".PP", "Link with: " + link_text]),
                    ("FUNCTIONS", ov), ("SEE ALSO", see_also_roff(["httpx-errors"]))], version))
    if a.html_dir:
        write(os.path.join(a.html_dir, "httpx-errors.html"), html_page(
            "httpx-errors", "<h1>Error codes</h1>\n<p>%s</p>\n<table>\n<tr><th>code</th><th>value</th>"
            "<th>meaning</th></tr>\n%s\n</table>" % (
                html_text(re.sub(r"\\f[BIR]", "", intro).replace("(3)", ""), pages), "\n".join(rows)), version))
        write(os.path.join(a.html_dir, "index.html"), html_page(
            "libhttpx", "<h1>libhttpx %s</h1>\n<pre>%s</pre>\n<p>Link with: <code>cc app.c $(pkg-config "
            "--cflags --libs httpx)</code>, or in CMake <code>find_package(httpx)</code> and "
            "<code>target_link_libraries(app PRIVATE httpx::httpx)</code>.</p>\n<h2>Functions</h2>\n%s"
            % (version, html.escape(header_intro), "\n".join(ov_html)), version))

    for n in missing_doc:
        print("gen-man.py: WARNING: %s has no doc comment in the header" % n, file=sys.stderr)
    for n in missing_err:
        print("gen-man.py: WARNING: %s has no description in %s" % (n, a.errors), file=sys.stderr)
    print("gen-man.py: %d function pages + httpx-errors(3) + libhttpx(3) in %s%s"
          % (len(funcs), a.man_dir, (" and HTML in " + a.html_dir) if a.html_dir else ""))


if __name__ == "__main__":
    main(sys.argv)
