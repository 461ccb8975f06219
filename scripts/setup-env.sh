#!/usr/bin/env bash
# Create or reuse the project's Python environment, then print its python path.
# The environment lives outside the clone (FES_VENV, default ~/.cache/fes-venv), so CI and
# fresh clones reuse it; it is (re)installed only when requirements.txt changes. It holds
# the packages only: which `common` a clone imports is decided by that clone's Makefile.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
venv=${FES_VENV:-$HOME/.cache/fes-venv}
stamp="$venv/.fes-requirements.sha256"
want=$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating $venv" >&2
  if ! python3 -m venv "$venv" >&2; then
    version=$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    echo "setup: python3 -m venv failed. On Debian or Ubuntu install the venv module first:" >&2
    echo "         sudo apt-get install python3-venv   (or python${version}-venv), then run make again" >&2
    exit 1
  fi
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing requirements.txt into $venv (a few minutes the first time)" >&2
  "$venv/bin/python" -m pip install -q --upgrade pip >&2
  "$venv/bin/python" -m pip install -q -r "$here/requirements.txt" >&2
  echo "$want" > "$stamp"
fi
# The project itself is never installed into the shared environment: every clone imports
# its own `common` (the Makefile puts the clone first on PYTHONPATH). Environments made by
# earlier versions of this script had one clone installed in editable mode: remove it.
if "$venv/bin/python" -m pip show -q facial-expression-synthesis >/dev/null 2>&1; then
  echo "setup: removing the editable install of one clone from $venv (each clone imports its own now)" >&2
  "$venv/bin/python" -m pip uninstall -q -y facial-expression-synthesis >&2
fi
echo "$venv/bin/python"
