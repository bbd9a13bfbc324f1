#!/usr/bin/env bash
# Install or upgrade socialbot as a systemd service, from the checkout this script is in.
#
#   sudo scripts/install.sh            install, or upgrade after `git pull`
#   sudo scripts/install.sh --enable   the same, then enable both services at boot and (re)start them
#
# Safe to run again and again: the city's settings, catalog, templates and secrets under
# /etc/socialbot are created once and never overwritten; the program (/opt/socialbot/venv), the
# unit and the shipped copies are replaced. Nothing is started or enabled without --enable.
#
# Options:
#   --enable      `systemctl enable` and `systemctl restart` socialbot and socialbot-web at the end
#   --timezone ZONE  the city's IANA time zone (e.g. America/New_York; also SOCIALBOT_TIMEZONE=ZONE)
#                 for the settings file this creates: business days (SLAs) and every time shown
#                 are in it. Without it: asked for at a terminal, else the machine's zone
#                 (/etc/timezone, timedatectl, /etc/localtime), else UTC (`socialbot doctor`
#                 warns on UTC). A settings file already there is never changed.
#   --no-venv     skip the venv and pip (tests; packagers who build the venv elsewhere)
#   --root DIR    install under DIR instead of / (also SOCIALBOT_INSTALL_ROOT=DIR), like DESTDIR:
#                 paths written inside files stay /etc/socialbot…; no user is created, nothing is
#                 chowned and systemctl is not called, so it runs without root
#   -h, --help    this text
# Environment: PYTHON, the interpreter for the venv (default /usr/bin/python3, 3.11 or newer).
#
# What goes where:
#   /opt/socialbot/venv/              the program (pip install of this checkout)
#   /opt/socialbot/share/             the shipped hashtags.yaml, answers.yaml, templates/ and examples,
#                                     for diffing
#   /etc/socialbot/socialbot.toml     settings (root:socialbot 0640), created once
#   /etc/socialbot/hashtags.yaml      the city's catalog, created once from the shipped one
#   /etc/socialbot/answers.yaml       the city's answers, created once from the shipped example
#   /etc/socialbot/templates/         the city's templates, created once from the shipped ones
#   /etc/socialbot/credentials/       secrets, one file each (root 0700), loaded by LoadCredential=
#   /etc/socialbot/socialbot.env.example   the EnvironmentFile= alternative
#   /etc/systemd/system/socialbot.service  the bot's unit (local changes: `systemctl edit socialbot`)
#   /etc/systemd/system/socialbot-web.service  the web service's (`socialbot serve`, port 8311)
#   /usr/local/bin/socialbot          the command, run as the service user with its settings
#   /var/lib/socialbot/               the state directory (SQLite), socialbot 0700
set -euo pipefail

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

ENABLE=0
WITH_VENV=1
ROOT=${SOCIALBOT_INSTALL_ROOT:-}
ZONE=${SOCIALBOT_TIMEZONE:-}
ZONE_FROM=${ZONE:+SOCIALBOT_TIMEZONE}
while (($#)); do
    case $1 in
        --enable) ENABLE=1 ;;
        --no-venv) WITH_VENV=0 ;;
        --root)
            (($# >= 2)) || { echo "install.sh: --root needs a directory" >&2; exit 2; }
            ROOT=$2
            shift
            ;;
        --root=*) ROOT=${1#--root=} ;;
        --timezone)
            (($# >= 2)) || { echo "install.sh: --timezone needs a zone, e.g. America/New_York" >&2; exit 2; }
            ZONE=$2 ZONE_FROM=--timezone
            shift
            ;;
        --timezone=*) ZONE=${1#--timezone=} ZONE_FROM=--timezone ;;
        -h | --help) usage; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
ROOT=${ROOT%/}

SRC=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
USER_NAME=socialbot
# The final paths (written inside files), and where they are written now ($ROOT prefix).
OPT=/opt/socialbot
ETC=/etc/socialbot
STATE=/var/lib/socialbot
UNIT=/etc/systemd/system/socialbot.service
WEB_UNIT=/etc/systemd/system/socialbot-web.service
UNITS=(socialbot.service socialbot-web.service)
COMMAND=/usr/local/bin/socialbot

say() { printf '%s\n' "$*"; }
step() { printf '\n==> %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

# SYSTEM=1: installing onto this machine, as root. Otherwise into $ROOT, as anyone.
if [[ -z $ROOT ]]; then
    SYSTEM=1
    ((EUID == 0)) || die "run it as root: sudo $0 $*"
else
    SYSTEM=0
    mkdir -p -- "$ROOT"
    ROOT=$(cd -- "$ROOT" && pwd)
fi

# own MODE OWNER:GROUP PATH…: set the mode; the owner only when installing onto the system.
own() {
    local mode=$1 owner=$2
    shift 2
    chmod "$mode" -- "$@"
    if ((SYSTEM)); then chown "$owner" -- "$@"; fi
}

# put FILE DEST MODE OWNER: install or replace (the program's own files).
put() {
    local src=$1 dest=$ROOT$2
    if [[ -f $dest ]] && cmp -s -- "$src" "$dest"; then
        say "unchanged  $2"
    else
        say "$([[ -e $dest ]] && echo updated || echo created)    $2"
        install -m "$3" -- "$src" "$dest"
    fi
    own "$3" "$4" "$dest"
}

# put_once FILE DEST MODE OWNER: create only if absent (the city's files).
put_once() {
    local src=$1 dest=$ROOT$2
    if [[ -e $dest ]]; then
        say "kept       $2 (yours; the shipped one is in $OPT/share/)"
        return
    fi
    install -m "$3" -- "$src" "$dest"
    own "$3" "$4" "$dest"
    say "created    $2"
}

# tree SRC DEST FILE_MODE DIR_MODE OWNER: copy a directory tree, setting modes (and owners).
tree() {
    local src=$1 dest=$2
    cp -R -- "$src" "$dest"
    find "$dest" -type d -exec chmod "$4" {} +
    find "$dest" -type f -exec chmod "$3" {} +
    if ((SYSTEM)); then chown -R "$5" -- "$dest"; fi
}

# valid_zone ZONE: whether ZONE is an IANA time zone name socialbot will take.
valid_zone() {
    [[ $1 =~ ^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$ ]] || return 1
    local py=$ROOT$OPT/venv/bin/python
    [[ -x $py ]] || py=$(command -v "${PYTHON:-python3}" || true)
    if [[ -n $py ]]; then
        "$py" -c 'import sys, zoneinfo; zoneinfo.ZoneInfo(sys.argv[1])' "$1" 2>/dev/null
    else
        [[ -f /usr/share/zoneinfo/$1 ]]
    fi
}

# utc_zone ZONE: whether ZONE is UTC by another name: no city's zone.
utc_zone() {
    case $1 in
        UTC | UCT | Universal | Zulu | GMT | GMT0 | GMT+0 | GMT-0 | Greenwich) return 0 ;;
        Etc/UTC | Etc/UCT | Etc/Universal | Etc/Zulu | Etc/GMT | Etc/GMT0 | Etc/GMT+0 | Etc/GMT-0 | Etc/Greenwich) return 0 ;;
        *) return 1 ;;
    esac
}

# machine_zone: DETECTED, the time zone of the machine installed onto (the one under $ROOT with
# --root), or nothing; MACHINE_FROM, where it was read.
machine_zone() {
    local zone=""
    MACHINE_FROM=""
    if [[ -r $ROOT/etc/timezone ]]; then
        zone=$(head -n 1 -- "$ROOT/etc/timezone" | tr -d '[:space:]')
        MACHINE_FROM=/etc/timezone
    fi
    if [[ -z $zone && -z $ROOT ]] && command -v timedatectl >/dev/null; then
        zone=$(timedatectl show --property=Timezone --value 2>/dev/null || true)
        MACHINE_FROM=timedatectl
    fi
    if [[ -z $zone && -L $ROOT/etc/localtime ]]; then
        zone=$(readlink -- "$ROOT/etc/localtime")
        zone=${zone#*zoneinfo/}
        MACHINE_FROM=/etc/localtime
    fi
    DETECTED=$zone
}

# dir DEST MODE OWNER: create a directory; its mode and owner are set every time.
dir() {
    mkdir -p -- "$ROOT$1"
    own "$2" "$3" "$ROOT$1"
}

[[ -f $SRC/pyproject.toml && -f $SRC/systemd/socialbot.service &&
    -f $SRC/systemd/socialbot-web.service ]] ||
    die "$SRC does not look like a socialbot checkout (no pyproject.toml or systemd/)"
# A zone given is checked before anything is written.
if [[ -n $ZONE ]] && ! valid_zone "$ZONE"; then
    die "$ZONE_FROM $ZONE: not an IANA time zone name such as America/New_York"
fi
umask 022
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
# The system's own directories are created when missing (into $ROOT), never re-moded.
mkdir -p -- "$ROOT/opt" "$ROOT/etc/systemd/system" "$ROOT/var/lib" "$ROOT/usr/local/bin"

# --- The service user ----------------------------------------------------------------------------
step "Service user"
if ((SYSTEM)); then
    if getent group "$USER_NAME" >/dev/null; then
        say "exists     group $USER_NAME"
    else
        groupadd --system "$USER_NAME"
        say "created    group $USER_NAME"
    fi
    if getent passwd "$USER_NAME" >/dev/null; then
        say "exists     user $USER_NAME"
    else
        useradd --system --gid "$USER_NAME" --home-dir "$STATE" --no-create-home \
            --shell /usr/sbin/nologin --comment "socialbot 311 service" "$USER_NAME"
        say "created    user $USER_NAME"
    fi
else
    say "skipped    user and group $USER_NAME (installing into $ROOT)"
fi

# --- The program ---------------------------------------------------------------------------------
dir "$OPT" 0755 root:root
if ((WITH_VENV)); then
    step "Program in $OPT/venv"
    PYTHON=${PYTHON:-$( [[ -x /usr/bin/python3 ]] && echo /usr/bin/python3 || echo python3)}
    command -v "$PYTHON" >/dev/null || die "no $PYTHON; on Debian: sudo apt install python3 python3-venv"
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
        die "$PYTHON is $("$PYTHON" -V 2>&1); socialbot needs Python 3.11 or newer"
    venv=$ROOT$OPT/venv
    version='import sys; print("%d.%d" % sys.version_info[:2])'
    wanted=$("$PYTHON" -c "$version")
    have=$("$venv/bin/python" -c "$version" 2>/dev/null || true)
    if [[ $have != "$wanted" ]]; then
        "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null ||
            die "$PYTHON cannot create a venv; on Debian: sudo apt install python3-venv"
        # --clear: a venv of another Python (say, after a Debian upgrade) is rebuilt, not patched.
        "$PYTHON" -m venv --clear "$venv"
        say "created    $OPT/venv (Python $wanted${have:+, was $have})"
    else
        say "exists     $OPT/venv (Python $have)"
    fi
    # Build from a copy: pip writes build/ and *.egg-info into the tree it builds, which would
    # leave root-owned files in the operator's checkout.
    mkdir "$work/src"
    tar -C "$SRC" --exclude=./.git --exclude=./.venv --exclude=./build --exclude='*.egg-info' \
        --exclude='__pycache__' --exclude='.*_cache' -cf - . | tar -C "$work/src" -xf -
    # pip reinstalls from a directory every time, so an upgrade with the same version number works;
    # dependencies are upgraded only when the new version needs it.
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir \
        "$work/src"
    say "installed  socialbot $("$venv/bin/python" -c \
        'import importlib.metadata as m; print(m.version("socialbot"))') into $OPT/venv"
    # The wheel carries the shipped hashtags.yaml and templates/ to $OPT/venv/share/socialbot/:
    # a template a newer version adds and the city's copy lacks falls back to the shipped one.
else
    step "Program: skipped (--no-venv)"
fi

# --- Shipped copies, for reference (replaced every time) ------------------------------------------
step "Shipped files in $OPT/share"
dir "$OPT/share" 0755 root:root
rm -rf -- "$ROOT$OPT/share/templates"
tree "$SRC/templates" "$ROOT$OPT/share/templates" 0644 0755 root:root
say "replaced   $OPT/share/templates/"
put "$SRC/hashtags.yaml" "$OPT/share/hashtags.yaml" 0644 root:root
put "$SRC/answers.yaml" "$OPT/share/answers.yaml" 0644 root:root
put "$SRC/systemd/socialbot.toml.example" "$OPT/share/socialbot.toml.example" 0644 root:root
put "$SRC/systemd/socialbot.env.example" "$OPT/share/socialbot.env.example" 0644 root:root

# --- Settings: the city's, created once ----------------------------------------------------------
step "Settings in $ETC"
if [[ -d $ROOT$ETC ]]; then
    say "exists     $ETC"
else
    dir "$ETC" 0750 root:"$USER_NAME"
    say "created    $ETC"
fi
# The city's time zone, for a settings file made now: given, asked for, or the machine's.
made_settings=0
if [[ ! -e $ROOT$ETC/socialbot.toml ]]; then
    if [[ -z $ZONE ]]; then
        machine_zone
        detected=$DETECTED
        valid_zone "$detected" || detected=""
        if [[ -t 0 ]]; then
            say "The city's time zone: business days (SLAs) and every time shown are in it."
            while :; do
                read -r -p "IANA name, e.g. America/New_York [${detected:-UTC}]: " answer || answer=""
                ZONE=${answer:-${detected:-UTC}} ZONE_FROM="as answered"
                valid_zone "$ZONE" && break
                say "$ZONE: not an IANA time zone name such as America/New_York"
            done
        elif [[ -n $detected ]]; then
            ZONE=$detected ZONE_FROM="the machine's, from $MACHINE_FROM"
        else
            ZONE=UTC ZONE_FROM="no zone given and none found on this machine"
        fi
    fi
    made_settings=1
    sed "s|^timezone = \"UTC\"\$|timezone = \"$ZONE\"|" "$SRC/systemd/socialbot.toml.example" \
        >"$work/socialbot.toml"
fi
put_once "$work/socialbot.toml" "$ETC/socialbot.toml" 0640 root:"$USER_NAME"
set_zone=$(sed -n 's/^timezone = "\(.*\)"$/\1/p' "$ROOT$ETC/socialbot.toml" | tail -n 1)
if ((made_settings)); then
    case $ZONE_FROM in
        --timezone | SOCIALBOT_TIMEZONE) ZONE_FROM="from $ZONE_FROM" ;;
    esac
    say "           timezone = \"$set_zone\" ($ZONE_FROM)"
elif [[ -n $ZONE ]]; then
    say "           $ZONE_FROM $ZONE not applied: the file is yours; set timezone in it"
fi
if utc_zone "${set_zone:-UTC}"; then
    say "           timezone = \"${set_zone:-UTC}\" is no city's: set the city's zone in $ETC/socialbot.toml"
    say "           (business days end at midnight UTC until then; \`socialbot doctor\` warns)"
fi
put_once "$SRC/hashtags.yaml" "$ETC/hashtags.yaml" 0640 root:"$USER_NAME"
put_once "$SRC/answers.yaml" "$ETC/answers.yaml" 0640 root:"$USER_NAME"
if [[ -e $ROOT$ETC/templates ]]; then
    say "kept       $ETC/templates/ (yours; the shipped ones are in $OPT/share/templates/)"
else
    tree "$SRC/templates" "$ROOT$ETC/templates" 0640 0750 root:"$USER_NAME"
    say "created    $ETC/templates/"
fi
put "$SRC/systemd/socialbot.env.example" "$ETC/socialbot.env.example" 0644 root:root
# Secrets: root only. systemd reads them as root and hands the service private copies.
if [[ -d $ROOT$ETC/credentials ]]; then
    say "exists     $ETC/credentials/ ($(find "$ROOT$ETC/credentials" -type f | wc -l) file(s))"
else
    say "created    $ETC/credentials/"
fi
dir "$ETC/credentials" 0700 root:root
if [[ -e $ROOT$ETC/socialbot.env ]]; then own 0640 root:"$USER_NAME" "$ROOT$ETC/socialbot.env"; fi
# The web service's own environment (a PostgreSQL URL with its password): not socialbot.env,
# which it cannot see.
if [[ -e $ROOT$ETC/web.env ]]; then own 0640 root:"$USER_NAME" "$ROOT$ETC/web.env"; fi

# --- State directory (systemd also creates it; the command needs it before the first start) -------
dir "$STATE" 0700 "$USER_NAME:$USER_NAME"

# --- The command: /usr/local/bin/socialbot ------------------------------------------------------
step "Command $COMMAND"
MARK="Written by socialbot's scripts/install.sh"
wrapper=$work/socialbot
cat >"$wrapper" <<EOF
#!/bin/sh
# socialbot, as the service user with the service's settings, so that a command sees the
# service's database. $MARK; the next install replaces it.
# Run by root (sudo socialbot …) it also gets the service's secrets ($ETC/credentials/ and
# $ETC/socialbot.env), which the commands that talk to X need: poll/send --once, broadcast send.
# Staff actions are recorded under the login name of whoever ran sudo (or --as NAME).
# Always the service's settings: --config, SOCIALBOT_CONFIG or any other SOCIALBOT_* setting from
# the caller would let whoever may run this point the service user, holding the service's
# secrets, at their own templates and catalog. To try other settings, run $OPT/venv/bin/socialbot
# --config FILE as yourself (without the secrets).
set -eu
program=$OPT/venv/bin/socialbot
for arg in "\$@"; do
    case \$arg in
    --config | --config=*)
        echo "socialbot: --config is refused here: this command runs with the service's settings ($ETC/socialbot.toml); run $OPT/venv/bin/socialbot --config FILE as yourself instead" >&2
        exit 2
        ;;
    esac
done
for name in \$(env | sed -n 's/^\(SOCIALBOT_[A-Za-z0-9_]*\)=.*/\1/p'); do
    unset "\$name"
done
SOCIALBOT_CONFIG=$ETC/socialbot.toml
# The service's StateDirectory, as systemd gives it to the service: the same default database and
# the same SOCIALBOT_MEDIA_DIR ($STATE/media, where resolve --photo copies the photo).
STATE_DIRECTORY=$STATE
export SOCIALBOT_CONFIG STATE_DIRECTORY
who=\${SUDO_USER:-\$(id -un)}
case \$(id -un) in
$USER_NAME)
    exec "\$program" "\$@"
    ;;
root)
    for file in $ETC/credentials/*; do
        [ -f "\$file" ] || continue
        name=SOCIALBOT_\$(basename "\$file" | tr '[:lower:]' '[:upper:]')
        case \$name in
        *[!A-Z0-9_]*)
            echo "socialbot: \$file: not a setting name, skipped" >&2
            continue
            ;;
        esac
        value=\$(cat "\$file")
        export "\$name=\$value"
    done
    # As in the service, the environment file wins over the credentials.
    if [ -r $ETC/socialbot.env ]; then
        set -a
        # shellcheck source=/dev/null
        . $ETC/socialbot.env
        set +a
    fi
    export LOGNAME="\$who" USER="\$who" HOME=$STATE
    exec setpriv --reuid=$USER_NAME --regid=$USER_NAME --init-groups -- "\$program" "\$@"
    ;;
*)
    # Anyone else goes through sudo: whoever may run this command as root (sudoers:
    # "%staff ALL=(root) $COMMAND", or full sudo rights) gets the branch above.
    exec sudo -- $COMMAND "\$@"
    ;;
esac
EOF
if [[ -e $ROOT$COMMAND ]] && ! grep -qF -- "$MARK" "$ROOT$COMMAND"; then
    say "kept       $COMMAND: not ours; run $OPT/venv/bin/socialbot as user $USER_NAME instead"
else
    put "$wrapper" "$COMMAND" 0755 root:root
fi

# --- The units ----------------------------------------------------------------------------------
step "systemd units $UNIT, $WEB_UNIT"
units_before=$(cat -- "$ROOT$UNIT" "$ROOT$WEB_UNIT" 2>/dev/null || true)
put "$SRC/systemd/socialbot.service" "$UNIT" 0644 root:root
put "$SRC/systemd/socialbot-web.service" "$WEB_UNIT" 0644 root:root
unit_changed=0
[[ $units_before == "$(cat -- "$ROOT$UNIT" "$ROOT$WEB_UNIT")" ]] || unit_changed=1

# systemd is running when /run/systemd/system exists (sd_booted(3)).
if ((SYSTEM)) && [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
    systemctl daemon-reload
    say "reloaded   systemd"
    if ((ENABLE)); then
        systemctl enable "${UNITS[@]}"
        systemctl restart "${UNITS[@]}"
        say "started    socialbot and socialbot-web (enabled at boot)"
    else
        for unit in "${UNITS[@]}"; do
            if systemctl is-active --quiet "$unit"; then
                say "running    ${unit%.service} still runs the old version: sudo systemctl restart ${unit%.service}"
            fi
        done
    fi
elif ((SYSTEM)); then
    say "systemd is not running here: once it is, run"
    say "           sudo systemctl daemon-reload && sudo systemctl enable --now socialbot socialbot-web"
    if ((ENABLE)); then die "--enable: cannot enable or start without systemd"; fi
else
    say "skipped    systemctl (installing into $ROOT)"
    if ((unit_changed)); then say "           the units changed: systemctl daemon-reload there"; fi
fi

# --- What next -----------------------------------------------------------------------------------
step "Done"
cat <<EOF
Next, as root (sudo -i):
  1. Settings:  editor $ETC/socialbot.toml
  2. Secrets, one file each holding the value alone (or SOCIALBOT_X_…= lines in
     $ETC/socialbot.env, see $ETC/socialbot.env.example):
       cd $ETC/credentials && umask 077
       editor x_consumer_key; editor x_consumer_secret
       editor x_access_token; editor x_access_token_secret
  3. Check everything (changes nothing; says what to fix):
                               socialbot doctor
     then a poll that posts nothing (it creates the database and looks up the account's id):
                               socialbot poll --once --dry-run
  4. Start, and at every boot: systemctl enable --now socialbot socialbot-web
  5. Watch:                    systemctl status socialbot socialbot-web
                               journalctl -u socialbot -u socialbot-web -f
  6. The web service listens on 127.0.0.1:8311: put the city's reverse proxy in front of it
     (README, "Behind a reverse proxy"), set [web] public_url in $ETC/socialbot.toml, and check
     it answers:                 curl -s http://127.0.0.1:8311/healthz
EOF
