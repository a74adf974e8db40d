#!/usr/bin/python3
"""Unit tests of the study scripts' atomic writers (scripts/eie_studies/common.py; the rule is in
docs/input-safety.md, "Outputs and kills"): files, JSON, bytes, a path for other writers, staged
directories and figure sets; cleanup on an exception, KeyboardInterrupt and SIGTERM; the removal of
a SIGKILLed run's temporaries (this host's, writer gone) and nothing else.

Run by CTest ("studies: test_atomic"); plain /usr/bin/python3, no build needed.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback

SRC = os.environ.get("EIE_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(SRC, "scripts"))
from eie_studies import common  # noqa: E402
from eie_studies.common import StudyError  # noqa: E402


def dead_pid():
    """A PID that no process has now (a child that has exited and been reaped)."""
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def siblings(path):
    d, base = os.path.split(path)
    return sorted(n for n in os.listdir(d) if n != base and n.startswith(base))


def read(path):
    with open(path, "rb") as f:
        return f.read()


def fake_temp(path, pid, host=None, tag=".tmp-", suffix=""):
    host = host or common._host_tag()
    return f"{path}{tag}{pid}-{host}-0123abcd{suffix}"


def test_files(t):
    p = os.path.join(t, "sub", "a.txt")
    common.atomic_write_text(p, "one\n")  # creates the directory
    assert read(p) == b"one\n"
    common.atomic_write_text(p, "two\r\n")  # newlines as given
    assert read(p) == b"two\r\n"
    common.atomic_write_json(p, {"k": [1, 2]})
    assert json.load(open(p)) == {"k": [1, 2]}
    common.atomic_write_bytes(p, b"\x00\xff")
    assert read(p) == b"\x00\xff"
    assert siblings(p) == [], siblings(p)


def test_temp_names(t):
    p = os.path.join(t, "n.csv")
    a, b = common.temp_sibling(p), common.temp_sibling(p)
    assert a != b, "two temporaries of one name in one process collide"
    assert os.path.dirname(a) == t, "not in the target's directory: the rename would not be atomic"
    m = common._TEMP_NAME.match(os.path.basename(a))
    assert m and m["base"] == "n.csv" and int(m["pid"]) == os.getpid() and m["host"] == common._host_tag(), a


def test_output_failure_keeps_old(t):
    p = os.path.join(t, "f.svg")
    common.atomic_write_text(p, "old")
    for exc in (RuntimeError("boom"), KeyboardInterrupt()):
        try:
            with common.atomic_output(p) as tmp:
                with open(tmp, "w") as f:
                    f.write("half")
                raise exc
        except (RuntimeError, KeyboardInterrupt):
            pass
        else:
            raise AssertionError("the exception was swallowed")
        assert read(p) == b"old" and siblings(p) == [], (read(p), siblings(p))
    # A writer that wrote nothing: an error, and the old file stays.
    try:
        with common.atomic_output(p):
            pass
        raise AssertionError("no StudyError for an empty output")
    except StudyError as e:
        assert "nothing was written" in str(e), e
    assert read(p) == b"old" and siblings(p) == []


def test_output_for_other_writers(t):
    p = os.path.join(t, "fig.png")
    with common.atomic_output(p) as tmp:
        assert not os.path.exists(p)
        # a tool given the temporary as its output file
        subprocess.run([sys.executable, "-c", f"open({tmp!r}, 'w').write('drawn')"], check=True)
    assert read(p) == b"drawn" and siblings(p) == []


def test_stale_temporaries(t):
    p = os.path.join(t, "r.json")
    stale = fake_temp(p, dead_pid())
    alive = fake_temp(p, os.getpid())
    other_host = fake_temp(p, dead_pid(), host="ffffff" if common._host_tag() != "ffffff" else "eeeeee")
    other_name = fake_temp(os.path.join(t, "q.json"), dead_pid())
    cxx = f"{p}.tmp-{dead_pid()}"  # the C++ tools' own kind: theirs to remove
    for f in (stale, alive, other_host, other_name, cxx):
        open(f, "w").write("x")
    common.atomic_write_text(p, "new")
    left = set(os.listdir(t))
    assert os.path.basename(stale) not in left, "a killed run's temporary survives the next write"
    for keep in (alive, other_host, other_name, cxx):
        assert os.path.basename(keep) in left, f"removed {keep}, which is not a stale temporary of r.json"
    # a sweep that owns its directory removes every stale one, whatever its name
    common.remove_stale_in(t)
    left = set(os.listdir(t))
    assert os.path.basename(other_name) not in left
    assert {os.path.basename(alive), os.path.basename(other_host)} <= left


def test_tool_temporary_of_a_temporary(t):
    d = os.path.join(t, "img")
    dead = dead_pid()
    inner = fake_temp(d, dead, suffix=f".tmp-{dead_pid()}")  # eie-compress -o <our temporary>
    running_tool = fake_temp(d, dead, suffix=f".tmp-{os.getpid()}")
    os.makedirs(inner)
    os.makedirs(running_tool)
    common.remove_stale_temporaries(d)
    assert not os.path.exists(inner), "a dead tool's temporary of a dead writer's temporary survives"
    assert os.path.exists(running_tool), "removed the temporary of a tool still running"


def _tree(d):
    out = {}
    for root, _, files in os.walk(d):
        for f in files:
            full = os.path.join(root, f)
            out[os.path.relpath(full, d)] = read(full)
    return out


def test_directory(t):
    d = os.path.join(t, "figures", "study")
    with common.atomic_directory(d) as stage:
        assert os.path.isdir(stage) and os.path.dirname(stage) == os.path.dirname(d)
        open(os.path.join(stage, "a.png"), "w").write("1")
    assert _tree(d) == {"a.png": b"1"}
    with common.atomic_directory(d) as stage:
        open(os.path.join(stage, "b.png"), "w").write("2")
    assert _tree(d) == {"b.png": b"2"}, "the old directory's content survives its replacement"
    try:
        with common.atomic_directory(d) as stage:
            open(os.path.join(stage, "c.png"), "w").write("3")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert _tree(d) == {"b.png": b"2"} and siblings(d) == [], (_tree(d), siblings(d))
    # replace=False: an existing directory (a concurrent run's) is kept, ours dropped
    with common.atomic_directory(d, replace=False) as stage:
        open(os.path.join(stage, "x"), "w").write("x")
    assert _tree(d) == {"b.png": b"2"} and siblings(d) == []
    # create=False: a tool makes the directory
    e = os.path.join(t, "image")
    with common.atomic_directory(e, create=False) as stage:
        assert not os.path.exists(stage)
        os.mkdir(stage)
        open(os.path.join(stage, "manifest.json"), "w").write("{}")
    assert _tree(e) == {"manifest.json": b"{}"}
    try:
        with common.atomic_directory(os.path.join(t, "never"), create=False):
            pass
        raise AssertionError("no StudyError when the tool made nothing")
    except StudyError as ex:
        assert "was not made" in str(ex), ex
    assert not os.path.exists(os.path.join(t, "never"))


def test_directory_without_exchange(t):
    d = os.path.join(t, "d")
    real = common._exchange
    common._exchange = lambda a, b: False  # a file system without renameat2's exchange
    try:
        with common.atomic_directory(d) as stage:
            open(os.path.join(stage, "1"), "w").write("1")
        with common.atomic_directory(d) as stage:
            open(os.path.join(stage, "2"), "w").write("2")
    finally:
        common._exchange = real
    assert _tree(d) == {"2": b"2"} and siblings(d) == []
    # Killed between the fallback's two renames: the old directory is put back under its name.
    os.rename(d, fake_temp(d, dead_pid(), tag=".old-"))
    half = fake_temp(d, dead_pid())
    os.mkdir(half)
    with common.atomic_directory(os.path.join(t, "other")):
        pass
    assert not os.path.exists(d), "another name's writer touched d"
    common.remove_stale_temporaries(d)
    assert _tree(d) == {"2": b"2"} and siblings(d) == [], (os.listdir(t))


def test_files_set(t):
    out = os.path.join(t, "plots")
    os.makedirs(out)
    open(os.path.join(out, "notes.txt"), "w").write("mine")
    open(os.path.join(out, "a.png"), "w").write("old")
    with common.atomic_files(out) as stage:
        open(os.path.join(stage, "a.png"), "w").write("new")
        open(os.path.join(stage, "b.png"), "w").write("new")
        assert read(os.path.join(out, "a.png")) == b"old", "published before the block ended"
    assert _tree(out) == {"notes.txt": b"mine", "a.png": b"new", "b.png": b"new"}, _tree(out)
    try:
        with common.atomic_files(out) as stage:
            open(os.path.join(stage, "a.png"), "w").write("newer")
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    assert _tree(out) == {"notes.txt": b"mine", "a.png": b"new", "b.png": b"new"}, _tree(out)


CHILD = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {scripts!r})
    from eie_studies import common
    def main():
        with common.atomic_output({path!r}) as tmp:
            open(tmp, "w").write("partial")
            open({ready!r}, "w").close()
            time.sleep(60)
        return 0
    common.run_main(main, interrupted="nothing written")
""")


def _child(t, path):
    ready = os.path.join(t, "ready")
    if os.path.exists(ready):
        os.unlink(ready)
    code = CHILD.format(scripts=os.path.join(SRC, "scripts"), path=path, ready=ready)
    p = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not os.path.exists(ready):
        assert p.poll() is None, p.stderr.read()
        assert time.monotonic() < deadline, "the child never reached its write"
        time.sleep(0.01)
    return p


def test_signals(t):
    p = os.path.join(t, "out.csv")
    common.atomic_write_text(p, "old")
    child = _child(t, p)
    assert len(siblings(p)) == 1, "no temporary while writing"
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 130, (child.returncode, err)
    assert "interrupted; nothing written" in err and "Traceback" not in err, err
    assert read(p) == b"old" and siblings(p) == [], (read(p), siblings(p))
    # SIGKILL: nothing can clean up, the next writer does.
    child = _child(t, p)
    child.kill()
    child.communicate(timeout=30)
    assert read(p) == b"old" and len(siblings(p)) == 1
    common.atomic_write_text(p, "new")
    assert read(p) == b"new" and siblings(p) == [], siblings(p)


def main():
    tests = [(n, f) for n, f in globals().items() if n.startswith("test_") and callable(f)]
    failed = 0
    for name, fn in tests:
        with tempfile.TemporaryDirectory() as t:
            try:
                fn(t)
                print(f"ok   {name}")
            except Exception:
                failed += 1
                print(f"FAIL {name}")
                traceback.print_exc()
    print(f"{len(tests) - failed} of {len(tests)} passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
