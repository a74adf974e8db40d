"""Documentation checks (run by docs.sh): the docs stand on their own and miss nothing.

1. Every relative Markdown link in README.md and docs/*.md names a file of the repository,
   and its #anchor a heading of that file.
2. Every path written as code (`docs/x.md`, `hw/stats.hpp`, ...) that names a top-level folder
   of the repository exists.
3. "<page>.md section N" names a numbered heading "N." of that page; "rule Tn" one of the
   timing-contract rules of docs/reference.md.
4. Nothing cites material outside the repository (a document or notes of the developers).
5. Every option in a tool's --help appears in its page; every field of the statistics JSON of
   a real run, and every counter and derived figure of the counter lists (eie-sim --list-stats),
   appears in docs/statistics.md.

Usage: docs_check.py BUILD_DIR SOURCE_DIR
Prints "ok: ..." / "FAIL: ..." per check; exit 1 if any failed.
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

build, src = sys.argv[1], sys.argv[2]
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def rel(path):
    return os.path.relpath(path, src)


def slug(heading):
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes."""
    s = heading.strip().lower()
    s = re.sub(r"[`*_]", "", s)
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def headings(path):
    out, in_code = [], False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and re.match(r"#{1,6} ", line):
            out.append(line.lstrip("#").strip())
    return out


def prose(path):
    """The page's text outside fenced code blocks."""
    out, in_code = [], False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code:
            out.append(line)
    return "".join(out)


pages = [os.path.join(src, "README.md")] + sorted(glob.glob(os.path.join(src, "docs", "*.md")))
top_dirs = {d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d)) and not d.startswith(".")}
top_dirs -= {"build", "out"}  # generated, git-ignored: docs name their files as examples

# 1. links
n_links = 0
for page in pages:
    text = prose(page)
    for target in re.findall(r"\[[^\]]*\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+://|mailto:", target):
            continue
        n_links += 1
        path, _, anchor = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
        if not os.path.exists(dest):
            fail(f"{rel(page)}: link '{target}': no file {rel(dest)}")
            continue
        if anchor and dest.endswith(".md") and anchor not in {slug(h) for h in headings(dest)}:
            fail(f"{rel(page)}: link '{target}': {rel(dest)} has no heading with anchor #{anchor}")
print(f"ok: {n_links} relative links checked")

# 2. paths written as code
n_paths = 0
placeholder = re.compile(r"[<>*{}$ ]|\.\.\.|(^|/)[A-Z][A-Z_]*(\.|/|$)")
for page in pages:
    for code in re.findall(r"`([^`\n]+)`", prose(page)):
        first = code.split("/")[0]
        if "/" not in code or first not in top_dirs or placeholder.search(code):
            continue
        path = code.split(":")[0].rstrip(".,;")
        if path.endswith(".*"):
            path = path[:-2]
            ok = bool(glob.glob(os.path.join(src, path) + ".*"))
        else:
            ok = os.path.exists(os.path.join(src, path))
        n_paths += 1
        if not ok:
            fail(f"{rel(page)}: `{code}` names no file of the repository")
print(f"ok: {n_paths} code paths checked")

# 3. numbered sections and timing-contract rules
reference = os.path.join(src, "docs", "reference.md")
rules = set(re.findall(r"^- \*\*(T\d+) ", open(reference, encoding="utf-8").read(), re.M))
if not rules:
    fail("docs/reference.md: no timing-contract rules '- **Tn ...' found")
for page in pages:
    text = prose(page)
    for m in re.finditer(r"([\w.-]+\.md)`?,? section (\d+)", text):
        dest = os.path.join(src, "docs", os.path.basename(m.group(1)))
        if not os.path.exists(dest):
            fail(f"{rel(page)}: '{m.group(0)}': no page {m.group(1)}")
        elif not any(h.startswith(m.group(2) + ".") for h in headings(dest)):
            fail(f"{rel(page)}: '{m.group(0)}': {m.group(1)} has no section {m.group(2)}")
    for r in re.findall(r"\brules? (T\d+)", text) + re.findall(r"\bT\d+\b(?=\s*(?:-|to)\s*T\d)", text):
        if r not in rules:
            fail(f"{rel(page)}: cites timing-contract rule {r}, which docs/reference.md does not have")
print(f"ok: numbered sections and rules {', '.join(sorted(rules))} checked")

# 4. no citation of anything outside the repository
outside = re.compile(r"shared doc|shared/docs|\.\./shared|engineering notes|timing contract [0-9]|"
                     r"shared (architecture|microarchitecture) (notes|doc)|shared notes", re.I)
scanned = 0
for folder in ["docs", "hw", "pe", "ccu", "compress", "scripts", "testbenches", "traces"]:
    for root, _, files in os.walk(os.path.join(src, folder)):
        for name in files:
            path = os.path.join(root, name)
            if name.endswith((".pyc", ".png", ".gz")) or os.path.abspath(path) == os.path.abspath(__file__):
                continue
            try:
                text = open(path, encoding="utf-8").read()
            except (UnicodeDecodeError, OSError):
                continue
            scanned += 1
            for i, line in enumerate(text.splitlines(), 1):
                if outside.search(line):
                    fail(f"{rel(path)}:{i}: cites material outside the repository: {line.strip()}")
for path in [os.path.join(src, "README.md")]:
    for i, line in enumerate(open(path, encoding="utf-8"), 1):
        if outside.search(line):
            fail(f"README.md:{i}: cites material outside the repository: {line.strip()}")
print(f"ok: {scanned} files scanned for citations outside the repository")


# 5a. every option of every tool is in its page
def options_of(cmd):
    out = subprocess.run(cmd + ["--help"], capture_output=True, text=True, timeout=60).stdout
    return sorted(set(re.findall(r"(?<![\w-])--([a-z][a-z0-9-]+)", out)) - {"help", "version"})


tools = [
    ([os.path.join(build, "eie-compress")], "docs/compression.md"),
    ([os.path.join(build, "eie-sim")], "docs/eie-sim.md"),
    ([os.path.join(build, "eie-energy-calibrate")], "docs/energy-area.md"),
    (["/usr/bin/python3", os.path.join(src, "scripts", "sweep")], "docs/studies.md"),
    (["/usr/bin/python3", os.path.join(src, "scripts", "suite")], "docs/studies.md"),
    (["/usr/bin/python3", os.path.join(src, "scripts", "plot")], "docs/studies.md"),
    (["/usr/bin/python3", os.path.join(src, "scripts", "report")], "docs/studies.md"),
    (["/usr/bin/python3", os.path.join(src, "scripts", "bench")], "docs/performance.md"),
]
for cmd, page in tools:
    name = os.path.basename(cmd[-1])
    if not os.path.exists(cmd[-1]):
        fail(f"{name}: not built")
        continue
    text = open(os.path.join(src, page), encoding="utf-8").read()
    opts = options_of(cmd)
    missing = [o for o in opts if f"--{o}" not in text]
    for o in missing:
        fail(f"{name} --{o} (in its --help) is not documented in {page}")
    if not re.search(r"--version\b", text):
        fail(f"{name} --version is not documented in {page}")
    print(f"ok: {name}: {len(opts) - len(missing)} of {len(opts)} options documented in {page}")


# 5b. every statistics field is in docs/statistics.md
def leaf_names(obj, out, parent=""):
    """Field names of the statistics JSON. Per-parameter and per-component maps are listed in the
    docs by their parent (`arch`, `component_pj`, ...), not key by key."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.add(k)
            if k in ("arch", "values", "component_pj", "component_power_mw", "module_pj",
                     "module_power_per_pe_mw", "pe_module_um2"):
                continue
            leaf_names(v, out, k)
    elif isinstance(obj, list) and obj and isinstance(obj[0], dict):
        leaf_names(obj[0], out, parent)


with tempfile.TemporaryDirectory() as t:
    img = os.path.join(t, "img")
    subprocess.run([os.path.join(build, "eie-compress"), "--synthetic", "64,48", "--bias", "--pes", "4",
                    "--quiet", "-o", img], check=True, timeout=120)
    stats = os.path.join(t, "s.json")
    subprocess.run([os.path.join(build, "eie-sim"), img, "--quiet", "--stats", stats,
                    "--vcd", os.path.join(t, "w.vcd")], check=True, timeout=120)
    names = set()
    leaf_names(json.load(open(stats)), names)
doc = open(os.path.join(src, "docs", "statistics.md"), encoding="utf-8").read()
missing = sorted(n for n in names if f"`{n}`" not in doc and not re.search(rf"`[^`]*\b{re.escape(n)}\b[^`]*`", doc))
for n in missing:
    fail(f"statistics field '{n}' (in eie-sim --stats) is not documented in docs/statistics.md")
print(f"ok: {len(names) - len(missing)} of {len(names)} statistics fields documented")

# 5c. the counter lists themselves (eie-sim --list-stats --json, from hw/stats.hpp): every counter and
# derived figure in docs/statistics.md, whether or not a run above produced it
fields = json.loads(subprocess.run([os.path.join(build, "eie-sim"), "--list-stats", "--json"], capture_output=True,
                                   text=True, check=True, timeout=60).stdout)
listed = [f["name"] for f in fields["per_pe"] + fields["ccu"]] + fields["derived"]
undocumented = [n for n in listed if f"`{n}`" not in doc and not re.search(rf"`[^`]*\b{re.escape(n)}\b[^`]*`", doc)]
for n in undocumented:
    fail(f"statistics counter '{n}' (eie-sim --list-stats) is not documented in docs/statistics.md")
print(f"ok: {len(listed) - len(undocumented)} of {len(listed)} listed counters and derived figures documented")

sys.exit(1 if failures else 0)
