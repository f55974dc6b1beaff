#!/usr/bin/env bash
# Set up a Raspberry Pi OS / Jetson (Debian/Ubuntu) box as a skin-kiosk: apt packages, a dedicated
# user, the app in PREFIX with its venv and models, config + credentials in /etc/skin-kiosk, and the
# systemd units (daemon + Chromium kiosk screen). Idempotent: run it again after an update.
#
#   sudo scripts/install.sh                       # install into /opt/skin-kiosk and start
#   scripts/install.sh --dry-run                  # print what would be done, change nothing
#   scripts/install.sh --render-only DIR --prefix "$PWD" --venv "$PWD/.venv"
#                                                 # only write the rendered units into DIR (tests, CI)
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=/opt/skin-kiosk
VENV=""
SVC_USER=skin-kiosk
UI_USER=${SUDO_USER:-pi}
PORT=8080
CHROMIUM=""
DRY_RUN=0
RENDER_ONLY=""
WITH_UI=1
ETC=/etc/skin-kiosk
UNIT_DIR=/etc/systemd/system

usage() {
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
  cat <<EOF
options: --prefix DIR (default $PREFIX)  --venv DIR (default PREFIX/.venv)  --user NAME (default $SVC_USER)
         --ui-user NAME (desktop user, default $UI_USER)  --port N (default $PORT)  --chromium PATH
         --no-ui  --dry-run  --render-only DIR
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX=$2; shift 2 ;;
    --venv) VENV=$2; shift 2 ;;
    --user) SVC_USER=$2; shift 2 ;;
    --ui-user) UI_USER=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --chromium) CHROMIUM=$2; shift 2 ;;
    --no-ui) WITH_UI=0; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    --render-only) RENDER_ONLY=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
PREFIX=$(realpath -m "$PREFIX")
VENV=$(realpath -m "${VENV:-$PREFIX/.venv}")
if [ -z "$CHROMIUM" ]; then
  CHROMIUM=$(command -v chromium || command -v chromium-browser || echo /usr/bin/chromium)
fi

say() { echo "install: $*"; }
# Every system change goes through run: --dry-run prints it instead.
run() {
  if [ "$DRY_RUN" = 1 ]; then echo "+ $*"; else "$@"; fi
}

uid_of() { id -u "$1" 2>/dev/null || echo 1000; }

# A unit file's placeholders filled in. ProtectHome must leave a venv or app under /home readable.
render_unit() {
  local template=$1 protect_home=yes
  case "$PREFIX$VENV" in /home/*|/root/*) protect_home=read-only ;; esac
  sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@VENV@|$VENV|g" -e "s|@USER@|$SVC_USER|g" -e "s|@GROUP@|$SVC_USER|g" \
      -e "s|@CONFIG@|$ETC/config.yaml|g" -e "s|@CREDENTIALS@|$ETC/credentials|g" -e "s|@CATALOGUE@|$ETC/catalogue|g" \
      -e "s|@PROTECT_HOME@|$protect_home|g" -e "s|@UI_USER@|$UI_USER|g" -e "s|@UI_UID@|$(uid_of "$UI_USER")|g" \
      -e "s|@CHROMIUM@|$CHROMIUM|g" -e "s|@PORT@|$PORT|g" -e "s|@URL@|http://127.0.0.1:$PORT/|g" "$template"
}

# Write the rendered units into $1; a unit is rewritten only when its content changed.
write_units() {
  local dir=$1 changed=0 name tmp
  local units=(skin-kiosk.service)
  [ "$WITH_UI" = 1 ] && units+=(skin-kiosk-ui.service)
  for name in "${units[@]}"; do
    tmp=$(mktemp)
    render_unit "$SRC/systemd/$name" >"$tmp"
    if [ -f "$dir/$name" ] && cmp -s "$tmp" "$dir/$name"; then
      rm -f "$tmp"
      continue
    fi
    changed=1
    if [ "$DRY_RUN" = 1 ]; then
      echo "+ write $dir/$name:"; sed 's/^/    /' "$tmp"; rm -f "$tmp"
    else
      install -m 0644 "$tmp" "$dir/$name"; rm -f "$tmp"
      say "wrote $dir/$name"
    fi
  done
  UNITS_CHANGED=$changed
}

if [ -n "$RENDER_ONLY" ]; then
  mkdir -p "$RENDER_ONLY"
  write_units "$RENDER_ONLY"
  exit 0
fi

if [ "$DRY_RUN" = 0 ] && [ "$(id -u)" -ne 0 ]; then
  echo "install: run as root (sudo scripts/install.sh), or use --dry-run / --render-only DIR" >&2
  exit 1
fi

# 1. Debian packages (only the missing ones). picamera2 comes from Raspberry Pi OS's archive.
pkgs=(python3 python3-venv python3-pip ca-certificates)
[ "$WITH_UI" = 1 ] && ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null && pkgs+=(chromium)
if apt-cache show python3-picamera2 >/dev/null 2>&1; then pkgs+=(python3-picamera2); fi
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "apt packages: ${missing[*]}"
  run apt-get update -qq
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# 2. The service user: no login, no home of its own (state lives in StateDirectory=).
if ! id -u "$SVC_USER" >/dev/null 2>&1; then
  say "creating system user $SVC_USER"
  run useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
      --groups video "$SVC_USER"
fi

# 3. The app, its venv (system site packages: picamera2/libcamera are Debian packages), models, demo.
if [ "$PREFIX" != "$SRC" ]; then
  say "copying the app to $PREFIX"
  run mkdir -p "$PREFIX"
  run cp -a "$SRC/." "$PREFIX/"  # idempotent: same files, same result
  run rm -rf "$PREFIX/.git" "$PREFIX/var"
fi
if [ ! -x "$VENV/bin/python" ]; then
  run python3 -m venv --system-site-packages "$VENV"
fi
stamp="$VENV/.installed-$(sha256sum "$SRC/pyproject.toml" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  # Editable: the package finds models/ and data/ next to itself in PREFIX.
  run "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$PREFIX"
  run touch "$stamp"
fi
run "$VENV/bin/python" "$PREFIX/scripts/fetch_models.py"
run "$VENV/bin/python" "$PREFIX/scripts/make_demo.py"

# 4. Configuration and credentials (never overwritten once there).
run install -d -m 0755 "$ETC"
[ -f "$ETC/config.yaml" ] || run install -m 0644 "$SRC/config.yaml" "$ETC/config.yaml"
# The store's catalogue beside the config (config.yaml: catalogue/catalogue.yaml): the demo shelf until the
# store writes its own, never overwritten; the service user owns it, so an admin's
# PUT /api/v1/shop/catalogue can replace it (the unit's ReadWritePaths).
[ -d "$ETC/catalogue" ] || run cp -a "$SRC/catalogue" "$ETC/catalogue"
run chown -R "$SVC_USER:" "$ETC/catalogue"
run install -d -m 0700 "$ETC/credentials"
# An empty key file: the API stays loopback-only until keys are added (one per line).
[ -f "$ETC/credentials/api-keys" ] || run install -m 0600 /dev/null "$ETC/credentials/api-keys"
if [ ! -f "$ETC/credentials/device-secret" ]; then
  if [ "$DRY_RUN" = 1 ]; then echo "+ create $ETC/credentials/device-secret (32 random bytes, hex)"
  else (umask 077; od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$ETC/credentials/device-secret"); fi
fi

# 5. Units, then (re)start.
UNITS_CHANGED=0
write_units "$UNIT_DIR"
[ "$UNITS_CHANGED" = 1 ] && run systemctl daemon-reload
run "$VENV/bin/skin-kiosk" --config "$ETC/config.yaml" check-config
run systemctl enable skin-kiosk.service
[ "$WITH_UI" = 1 ] && run systemctl enable skin-kiosk-ui.service
run systemctl restart skin-kiosk.service
[ "$WITH_UI" = 1 ] && run systemctl restart skin-kiosk-ui.service
say "done: http://127.0.0.1:$PORT/ (journalctl -u skin-kiosk -f)"
