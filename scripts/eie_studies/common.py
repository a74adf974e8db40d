"""Paths, tool discovery, errors and atomic file writes shared by the study scripts."""
import json
import os
import signal
import subprocess
import sys
import tempfile

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


def atomic_write_text(path, text):
    """Writes text to path through a temporary file in the same directory and a rename, so a reader
    (or an interrupted run) never sees half a file."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-" + os.path.basename(path) + "-", dir=directory)
    try:
        with os.fdopen(fd, "w", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_json(path, obj):
    atomic_write_text(path, json.dumps(obj, indent=1, sort_keys=False) + "\n")


def load_json(path, what="file"):
    """Reads a JSON file; errors name the file and say what is wrong."""
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise StudyError(f"{path}: {what} not found") from None
    except json.JSONDecodeError as e:
        raise StudyError(f"{path}: not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except OSError as e:
        raise StudyError(f"{path}: cannot read {what}: {e.strerror}") from None


def run_main(main):
    """Runs a script's main(): StudyError -> message and exit 2, Ctrl-C -> exit 130."""
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
        print(f"\n{prog}: interrupted; finished points are kept, no partial file is left", file=sys.stderr)
        sys.stderr.flush()
        sys.exit(130)
    except BrokenPipeError:
        # The reader of stdout went away (scripts/plot ... | head): not an error of the run.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
