#!/usr/bin/env bash
# The NetBox importer is tested against a real NetBox (tests/io/test_netbox.py): PyPI's `netbox`
# in its own virtual environment (NetBox needs Python 3.12+, cleanpath runs on 3.11+), Debian's
# PostgreSQL and Redis, and a migrated database built once (migrating takes minutes). This script
# installs whichever of these is missing and returns at once when everything is there.
# Without Python 3.12+ it says so and exits 0: the NetBox tests then skip, naming the reason.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
NB_HOME=${CLEANPATH_NETBOX_HOME:-$(pwd)/.netbox}
NETBOX_VERSION=$(sed -n 's/^NETBOX_VERSION = "\(.*\)"$/\1/p' tests/io/netbox_server.py)

# 1. Debian's PostgreSQL and Redis
missing=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
SUDO=""
if [ "$(id -u)" != 0 ]; then
  SUDO="sudo"
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing Debian's ${missing[*]} for the NetBox tests..." >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# PostgreSQL refuses to run as root; the tests run it as the postgres user then.
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin postgres
fi

# 2. A Python 3.12 or newer for NetBox's own virtual environment
if [ ! -x "$NB_HOME/venv/bin/python" ]; then
  NB_PYTHON=""
  for cand in python3.13 python3.12 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      NB_PYTHON=$(command -v "$cand")
      break
    fi
  done
  if [ -z "$NB_PYTHON" ]; then
    echo "ensure-netbox: no python3.12 or newer found (NetBox $NETBOX_VERSION needs one): the NetBox tests will be skipped" >&2
    exit 0
  fi
  echo "creating NetBox's virtual environment with $NB_PYTHON..." >&2
  mkdir -p "$NB_HOME"
  "$NB_PYTHON" -m venv "$NB_HOME/venv"
fi

# 3. NetBox itself, exactly the version the tests name
if [ ! -f "$NB_HOME/venv/.netbox-$NETBOX_VERSION" ]; then
  echo "installing netbox==$NETBOX_VERSION into $NB_HOME/venv..." >&2
  "$NB_HOME/venv/bin/python" -m pip install --quiet --disable-pip-version-check "netbox==$NETBOX_VERSION" 2>&1 \
    | grep -v "is ignored: it is neither a file nor a directory" >&2 || true
  "$NB_HOME/venv/bin/python" -c "import importlib.metadata as m; assert m.version('netbox') == '$NETBOX_VERSION'"
  touch "$NB_HOME/venv/.netbox-$NETBOX_VERSION"
fi

# 4. The migrated database the tests copy (built once; returns at once when it exists)
CLEANPATH_NETBOX_HOME="$NB_HOME" "$PY" tests/io/netbox_server.py prepare
