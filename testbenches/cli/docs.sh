#!/usr/bin/env bash
# The documentation stands on its own and misses nothing: links and cited
# sections resolve inside the repository, every tool option and every
# statistics field is documented (testbenches/cli/docs_check.py).
# Usage: docs.sh BUILD_DIR SOURCE_DIR
set -u
exec /usr/bin/python3 "$(dirname "$0")/docs_check.py" "$1" "$2"
