#!/usr/bin/env bash
# Create or reuse the project's Python environment, then print its python path.
# The environment lives outside the clone (FES_VENV, default ~/.cache/fes-venv), so CI and
# fresh clones reuse it; it is (re)installed only when requirements.txt changes.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
venv=${FES_VENV:-$HOME/.cache/fes-venv}
stamp="$venv/.fes-requirements.sha256"
want=$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating $venv" >&2
  python3 -m venv "$venv"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing requirements.txt into $venv (a few minutes the first time)" >&2
  "$venv/bin/python" -m pip install -q --upgrade pip >&2
  "$venv/bin/python" -m pip install -q -r "$here/requirements.txt" >&2
  echo "$want" > "$stamp"
fi
# The project itself, editable, so notebooks import `common` from any folder.
if ! (cd / && "$venv/bin/python" -c "import common, pathlib, sys; sys.exit(pathlib.Path(common.__file__).resolve().parent != pathlib.Path('$here/common').resolve())" 2>/dev/null); then
  "$venv/bin/python" -m pip install -q --no-deps --no-build-isolation -e "$here" >&2
fi
echo "$venv/bin/python"
