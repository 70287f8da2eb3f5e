# Sourced by scripts/run and scripts/test: sets PYTHON to the Python of the
# console's virtual environment, creating it first if needed.
#
# A stock Debian or Ubuntu server has `python3` but no `python`, and its pip
# refuses to install into the system Python (PEP 668, "externally managed
# environment"). So the console gets its own environment in .venv (kept out
# of git). Debian ships venv's pip bootstrap separately: python3-venv is
# installed with apt when `python3 -m venv` cannot make one. Inside an
# environment someone already activated (VIRTUAL_ENV set), that one is used.
if [ -n "${VIRTUAL_ENV:-}" ] && [ -x "$VIRTUAL_ENV/bin/python" ]; then
  PYTHON="$VIRTUAL_ENV/bin/python"
else
  VENV="${CONSOLE_VENV:-.venv}"
  if [ ! -x "$VENV/bin/python" ]; then
    BASE=$(command -v python3 || command -v python || true)
    if [ -z "$BASE" ]; then
      echo "No python3 found: install it first (apt-get install python3)." >&2
      exit 1
    fi
    if ! "$BASE" -m venv "$VENV" >/dev/null 2>&1; then
      rm -rf "$VENV"
      SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
      version=$("$BASE" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
      $SUDO apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "python${version}-venv" >/dev/null 2>&1 \
        || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
      "$BASE" -m venv "$VENV"
    fi
    echo "Created the virtual environment $VENV (from $BASE)." >&2
  fi
  PYTHON="$VENV/bin/python"
fi
