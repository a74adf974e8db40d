"""Paths, tool discovery, errors and atomic file writes shared by the study scripts."""
import contextlib
import json
import os
import re
import signal
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def project_version():
    """The project's version: the one in CMakeLists.txt's project() line, as the C++ tools print it."""
    import re
    try:
        with open(os.path.join(ROOT, "CMakeLists.txt"), encoding="utf-8") as f:
            m = re.search(r"^project\(\s*\S+\s+VERSION\s+([0-9][0-9.]*)", f.read(), re.M)
    except OSError:
        m = None
    return m.group(1) if m else "unknown"


def add_version_option(parser):
    """--version on a study script's command line: prints "<prog> <version>" and exits 0."""
    parser.add_argument("--version", action="version", version=f"%(prog)s {project_version()}")


class StudyError(Exception):
    """A user error (bad sweep file, unknown benchmark, ...): printed as is, exit code 2."""


def build_dir():
    return os.environ.get("EIE_BUILD_DIR", os.path.join(ROOT, "build"))


def tool(name):
    return os.path.join(build_dir(), name)


def ensure_tools(names=("eie-compress", "eie-sim")):
    """Runs scripts/setup (installs packages, configures, builds; idempotent) when a tool is missing."""
    missing = [n for n in names if not os.access(tool(n), os.X_OK)]
    if not missing:
        return
    print(f"{os.path.basename(sys.argv[0])}: {', '.join(missing)} not found in {build_dir()}: running scripts/setup",
          file=sys.stderr)
    subprocess.run([os.path.join(ROOT, "scripts", "setup")], check=True)
    still = [n for n in names if not os.access(tool(n), os.X_OK)]
    if still:
        raise StudyError(f"scripts/setup did not produce {', '.join(still)} in {build_dir()}")


def ensure_matplotlib():
    """matplotlib comes from Debian (python3-matplotlib); scripts/setup installs it when missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print(f"{os.path.basename(sys.argv[0])}: matplotlib missing: running scripts/setup", file=sys.stderr)
        subprocess.run([os.path.join(ROOT, "scripts", "setup")], check=True)
        import matplotlib  # noqa: F401


# ---- atomic outputs
#
# Every file and directory the study scripts write goes through the helpers below, the Python twin
# of hw/file_io.hpp (docs/input-safety.md, "Outputs and kills"): output is written under a temporary
# sibling of its final name and renamed over it only when complete, so a reader, a failure or a kill
# at any moment sees the old output or the complete new one, never a torn file.
#
# A temporary is NAME.tmp-PID-HOST-RAND (a staged directory being replaced: NAME.old-PID-HOST-RAND),
# in NAME's own directory so the rename is atomic: PID as the C++ tools' NAME.tmp-PID, HOST a tag of
# the machine (Slurm tasks on several nodes share an output directory, and a PID means nothing on
# another node), RAND so two writers of one name in one process never collide. An exception,
# Ctrl-C or SIGTERM (run_main turns it into KeyboardInterrupt) removes the temporary. After
# SIGKILL nothing can: the next writer of NAME removes the NAME.tmp-* / NAME.old-* siblings whose
# HOST is this machine and whose PID is no longer running before it starts (and puts a stale
# NAME.old-* directory back as NAME when NAME is missing), so a rerun never trips over them.

def _host_tag():
    import hashlib
    import socket
    return hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:6]


def temp_sibling(path, tag=".tmp-"):
    """A fresh temporary name next to path (nothing is created)."""
    return f"{os.path.normpath(path)}{tag}{os.getpid()}-{_host_tag()}-{os.urandom(4).hex()}"


def _pid_running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def _remove_path(path):
    import shutil
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
    except OSError:
        pass


# NAME.tmp-PID-HOST-RAND, optionally followed by the C++ tools' own .tmp-PID / .old-PID when a
# tool was given the temporary as its output (eie-compress -o), which is then stale only once
# that tool's process is gone too.
_TEMP_NAME = re.compile(r"^(?P<base>.+?)(?P<tag>\.tmp-|\.old-)(?P<pid>\d{1,9})-(?P<host>[0-9a-f]{6})-[0-9a-f]{8}"
                        r"(?:\.(?:tmp|old)-(?P<tool_pid>\d{1,9}))?$")


def _stale(directory, base=None):
    """(final path, temporary path, tag) of every stale temporary in directory (of `base` only,
    when given): this machine's, and its writer no longer running."""
    host = _host_tag()
    try:
        names = os.listdir(directory or ".")
    except OSError:
        return []
    out = []
    for name in names:
        m = _TEMP_NAME.match(name)
        if not m or m["host"] != host or (base is not None and m["base"] != base):
            continue
        if _pid_running(int(m["pid"])) or (m["tool_pid"] and _pid_running(int(m["tool_pid"]))):
            continue
        tag = m["tag"] if not m["tool_pid"] else ".tmp-"  # a tool's temporary is never put back
        out.append((os.path.join(directory, m["base"]), os.path.join(directory, name), tag))
    return out


def _remove_stale(entries):
    # Killed between the two renames of the fallback directory replacement: the old directory is
    # the only complete one, so it goes back under its name.
    for final, tmp, tag in entries:
        if tag == ".old-" and not os.path.lexists(final):
            try:
                os.rename(tmp, final)
            except OSError:
                pass
    for _, tmp, _ in entries:
        if os.path.lexists(tmp):
            _remove_path(tmp)


def remove_stale_temporaries(path):
    """Removes the temporaries of path left by a killed run of this machine (see above). Never
    raises."""
    directory, base = os.path.split(os.path.normpath(path))
    _remove_stale(_stale(directory, base))


def remove_stale_in(directory):
    """Removes every stale temporary in directory (whatever its final name), for a run that owns
    the directory and may not write the same names again (a sweep whose points changed)."""
    _remove_stale(_stale(directory))


def _fsync_file(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory):
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_output(path):
    """Yields a temporary path for path's new content, for writers that take a file name
    (matplotlib's savefig, a tool's output option); when the block ends without an exception the
    file is flushed to disk and renamed over path, otherwise it is removed and path keeps its old
    content. Give savefig an explicit format=: the temporary's name has no extension."""
    path = os.path.abspath(path)
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    remove_stale_temporaries(path)
    tmp = temp_sibling(path)
    try:
        yield tmp
        if not os.path.isfile(tmp) or os.path.islink(tmp):
            raise StudyError(f"{path}: nothing was written to its temporary {os.path.basename(tmp)}")
        _fsync_file(tmp)
        os.replace(tmp, path)
        _fsync_dir(directory)
    except BaseException:
        _remove_path(tmp)
        raise


def atomic_write_bytes(path, data):
    """data (bytes) into path through atomic_output."""
    with atomic_output(path) as tmp:
        with open(tmp, "xb") as f:
            f.write(data)


def atomic_write_text(path, text):
    """text into path (UTF-8, newlines as given) through atomic_output."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path, obj):
    atomic_write_text(path, json.dumps(obj, indent=1, sort_keys=False) + "\n")


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a, b):
    """Swaps the directories a and b in one atomic renameat2(RENAME_EXCHANGE); False where the C
    library or the file system lacks it."""
    import ctypes
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    import errno
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), a)


def _sync_tree(root):
    for d, _, files in os.walk(root):
        for f in files:
            full = os.path.join(d, f)
            if os.path.isfile(full) and not os.path.islink(full):
                _fsync_file(full)
        _fsync_dir(d)


@contextlib.contextmanager
def temporary_path(path):
    """Yields a temporary name next to path (nothing created) for scratch work that is never
    published (a tool's intermediate image); whatever is there is removed when the block ends,
    however it ends, and a killed run's leftovers by the next user of path."""
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    remove_stale_temporaries(path)
    tmp = temp_sibling(path)
    try:
        yield tmp
    finally:
        _remove_path(tmp)


@contextlib.contextmanager
def atomic_directory(path, replace=True, create=True):
    """Yields an empty staging directory for path's new content; when the block ends without an
    exception the staged directory takes path's place, otherwise it is removed and path is left
    as it was. The old directory is exchanged with the new one in one atomic renameat2 (two
    renames with the old one kept as NAME.old-* in between where the file system lacks it), so a
    reader or a kill sees the old directory or the complete new one. replace=False keeps an
    existing path (made meanwhile by a concurrent run, as good as ours) and drops the staged one.
    create=False yields the staging name without making it, for a tool that creates its output
    directory itself (eie-compress -o); the tool must have made it by the end of the block.
    Whether path may be replaced at all is the caller's check."""
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    remove_stale_temporaries(path)
    stage = temp_sibling(path)
    try:  # made inside the try: a signal right after the mkdir still removes it
        if create:
            os.mkdir(stage)
        yield stage
        if not os.path.isdir(stage) or os.path.islink(stage):
            raise StudyError(f"{path}: its staging directory {os.path.basename(stage)} was not made")
        _sync_tree(stage)
        if not os.path.lexists(path):
            os.rename(stage, path)
        elif not replace:
            _remove_path(stage)
        elif _exchange(stage, path):
            _remove_path(stage)  # now the old content
        else:
            old = temp_sibling(path, ".old-")
            os.rename(path, old)
            os.rename(stage, path)
            _remove_path(old)
        _fsync_dir(os.path.dirname(path))
    except BaseException:
        _remove_path(stage)
        raise


@contextlib.contextmanager
def atomic_files(directory):
    """Yields a staging directory for a set of files meant for `directory` (figures among other
    files there, which stay): when the block ends without an exception each staged file is renamed
    over its name in `directory`, otherwise nothing in `directory` changes. Each file is then the
    old or the complete new one; a kill during the final renames (a few milliseconds) can leave
    some files new and some old, never a torn one."""
    directory = os.path.abspath(directory)
    os.makedirs(directory, exist_ok=True)
    anchor = os.path.join(directory, ".staged")
    remove_stale_temporaries(anchor)
    stage = temp_sibling(anchor)
    try:  # made inside the try: a signal right after the mkdir still removes it
        os.mkdir(stage)
        yield stage
        names = sorted(os.listdir(stage))
        for name in names:
            _fsync_file(os.path.join(stage, name))
        for name in names:
            os.replace(os.path.join(stage, name), os.path.join(directory, name))
        _fsync_dir(directory)
    finally:
        _remove_path(stage)


def load_json(path, what="file"):
    """Reads a JSON file; errors name the file and say what is wrong."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise StudyError(f"{path}: {what} not found") from None
    except json.JSONDecodeError as e:
        raise StudyError(f"{path}: not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except UnicodeDecodeError as e:
        raise StudyError(f"{path}: not valid UTF-8 at byte {e.start} (a JSON {what} is UTF-8 text)") from None
    except RecursionError:
        raise StudyError(f"{path}: {what} nests arrays or objects too deeply") from None
    except OSError as e:
        raise StudyError(f"{path}: cannot read {what}: {e.strerror}") from None


def run_main(main, interrupted="finished points are kept, no partial file is left"):
    """Runs a script's main(): StudyError -> message and exit 2, Ctrl-C or SIGTERM -> the
    `interrupted` note and exit 130 (the atomic writers above have removed their temporaries)."""
    prog = os.path.basename(sys.argv[0])

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    # Ctrl-C and kill (SIGTERM) both stop the run cleanly: the tools this run started are stopped,
    # temporary files removed, finished points kept. (SIGINT is set explicitly because a shell
    # starts background jobs with it ignored.)
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        sys.exit(main())
    except StudyError as e:
        print(f"{prog}: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted; {interrupted}", file=sys.stderr)
        sys.stderr.flush()
        sys.exit(130)
    except BrokenPipeError:
        # The reader of stdout went away (scripts/plot ... | head): not an error of the run.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
