# The two Home Assistant releases every check runs on, sourced by scripts/setup, scripts/test
# and scripts/develop. "oldest" is the minimum in hacs.json; "newest" is the newest release that
# pytest-homeassistant-custom-component supports (python -m scripts.ha_versions shows newer).
#
# Each needs its own CPython series. A suitable python3.13 / python3.14 on PATH is used as is.
# Otherwise (Debian 12 has neither):
#   oldest: CPython 3.13 is built once from Debian trixie's source package;
#   newest: Debian forky's python3.14 binary packages (its source package is not served here)
#           live in a minimal Debian root made by debootstrap; commands of that environment run
#           inside it with chroot, in a private mount namespace that binds in the repository,
#           /proc, /dev, /sys and the host's CA bundle, so every mount ends with the command.
HA_ENVIRONMENTS=(oldest newest)
BAMBU_CACHE="${BAMBU_CACHE:-$HOME/.cache/bambu_printer}"
DEBIAN_ROOT="$BAMBU_CACHE/debian-forky"
DEBIAN_ROOT_SUITE=forky

# select_environments VALUE: set SELECTED to the environments an --ha VALUE names (all, oldest
# or newest); fails with a message for anything else.
select_environments() {
  case "$1" in
    all) SELECTED=("${HA_ENVIRONMENTS[@]}") ;;
    oldest|newest) SELECTED=("$1") ;;
    *) echo "--ha takes oldest, newest or all, not '$1'" >&2; return 2 ;;
  esac
}

# ha_environment NAME: set PY_SERIES, PY_MIN, PY_FALLBACK (build or root), VENV and
# REQUIREMENTS for NAME, and for a built Python PY_SUITE (the Debian suite of its source).
ha_environment() {
  case "$1" in
    oldest)
      PY_SERIES=3.13 PY_MIN=3.13.2 PY_FALLBACK=build PY_SUITE=trixie
      VENV="$ROOT/.venv" REQUIREMENTS="$ROOT/requirements/oldest.txt" ;;
    newest)
      PY_SERIES=3.14 PY_MIN=3.14.2 PY_FALLBACK=root
      VENV="$ROOT/.venv-newest" REQUIREMENTS="$ROOT/requirements/newest.txt" ;;
    *) echo "unknown Home Assistant environment '$1' (oldest or newest)" >&2; return 2 ;;
  esac
}

# requirements_stamp: the checksum a venv records once its requirements are installed.
requirements_stamp() { sha256sum < "$REQUIREMENTS" | cut -d' ' -f1; }

# venv_current: true when $VENV holds exactly $REQUIREMENTS.
venv_current() {
  { [ -L "$VENV/bin/python" ] || [ -e "$VENV/bin/python" ]; } && [ "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" = "$(requirements_stamp)" ]
}

# debian_root_command: set DEBIAN_ROOT_COMMAND to the command prefix that runs a command inside
# $DEBIAN_ROOT, in the current folder when it lies in the repository (else in the repository).
# Needs root (mount, chroot). The last step is an exec, so signals reach the command itself.
debian_root_command() {
  [ -x "$DEBIAN_ROOT/usr/bin/env" ] || { echo "no Debian root at $DEBIAN_ROOT: run scripts/setup --ha newest" >&2; return 1; }
  local here=$PWD
  case "$here/" in "$ROOT"/*) ;; *) here=$ROOT ;; esac
  DEBIAN_ROOT_COMMAND=(unshare --mount --propagation private -- bash -c '
    set -e
    root=$1 repo=$2 here=$3; shift 3
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    mount --rbind /sys "$root/sys"
    mkdir -p "$root$repo"
    mount --bind "$repo" "$root$repo"
    # pip and the tests trust what the host trusts (its bundle may hold a proxy CA).
    for file in /etc/ssl/certs/ca-certificates.crt /etc/resolv.conf /etc/hosts; do
      if [ -f "$file" ]; then touch "$root$file"; mount --bind "$file" "$root$file"; fi
    done
    exec chroot "$root" /usr/bin/env -C "$here" \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"
  ' in_debian_root "$DEBIAN_ROOT" "$ROOT" "$here")
}

# in_debian_root CMD...: run CMD inside $DEBIAN_ROOT (see debian_root_command).
in_debian_root() { debian_root_command && "${DEBIAN_ROOT_COMMAND[@]}" "$@"; }

# venv_runs_here: true when $VENV's Python runs without the Debian root.
venv_runs_here() { "$VENV/bin/python" -c '' >/dev/null 2>&1; }

# env_run CMD...: run CMD where $VENV's Python runs: here, or inside the Debian root.
env_run() { if venv_runs_here; then "$@"; else in_debian_root "$@"; fi; }
