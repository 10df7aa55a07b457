# shellcheck shell=bash
# Shared by tests/env/{boot,exec,stop,run-test}: naming, the state file, and the
# checks that keep us from ever signalling a process that is not ours.
RAIND_SANDBOX_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

sandbox_say() { printf 'raind-sandbox: %s\n' "$*" >&2; }
sandbox_die() { sandbox_say "$*"; exit 1; }

# A sandbox is known by its state directory; its name is the directory's basename
# and becomes part of its cgroup and mount names, so it must be short and plain.
sandbox_check_name() {
    case "$1" in
        ''|*[!A-Za-z0-9_.-]*|.*) sandbox_die "bad sandbox name '$1': use letters, digits, '_', '.', '-'";;
    esac
    [ ${#1} -le 48 ] || sandbox_die "sandbox name '$1' is longer than 48 characters"
}

# Where the host's cgroup2 hierarchy is: /sys/fs/cgroup/unified on a hybrid host,
# /sys/fs/cgroup on a unified one.
sandbox_cgroup2_root() { findmnt -rn -t cgroup2 -o TARGET | head -n1; }

# Field 22 of /proc/PID/stat: the start time, which tells a reused PID apart.
sandbox_start_time() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    # shellcheck disable=SC2086
    set -- $stat
    echo "${20}"
}

# True only if PID is alive (not a zombie) and started at START: the process we
# recorded, never a stranger that inherited its number.
sandbox_same_process() {
    local pid=${1:-} start=${2:-} stat state
    [ -n "$pid" ] && [ -n "$start" ] || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    # shellcheck disable=SC2086
    set -- $stat
    state=$1
    [ "${20}" = "$start" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# sandbox_load STATE_DIR: read the state file that boot wrote.
sandbox_load() {
    RAIND_SANDBOX_STATE=$1
    [ -r "$RAIND_SANDBOX_STATE/env" ] || sandbox_die "no sandbox is running at $RAIND_SANDBOX_STATE (no env file)"
    # shellcheck disable=SC1091
    . "$RAIND_SANDBOX_STATE/env"
}

sandbox_running() { sandbox_same_process "${RAIND_SANDBOX_PID:-}" "${RAIND_SANDBOX_PID_START:-}"; }

# Run a command in every namespace of the sandbox, without moving the caller's cgroup.
sandbox_nsenter() {
    nsenter --target "$RAIND_SANDBOX_PID" --mount --uts --ipc --net --pid --cgroup --wd=/ -- "$@"
}

# Kill whatever is left in a sandbox cgroup tree and remove it.
sandbox_cgroup_remove() {
    local cg=$1 _
    [ -d "$cg" ] || return 0
    if [ -e "$cg/cgroup.kill" ]; then
        echo 1 > "$cg/cgroup.kill" 2>/dev/null || true
    else
        # kernels before 5.14 have no cgroup.kill
        find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    fi
    for _ in $(seq 1 200); do
        grep -qx 'populated 0' "$cg/cgroup.events" 2>/dev/null && break
        sleep 0.05
    done
    find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
    [ ! -d "$cg" ]
}

# sandbox_stage BUILD_DIR DEST: install the built stack into DEST the way a package
# would install it into /, for boot (RAIND_SANDBOX_STAGE) to copy inside.
sandbox_stage() {
    rm -rf "$2"
    meson install -C "$1" --no-rebuild --destdir "$2" --quiet >&2 \
        || sandbox_die "meson install -C $1 --destdir $2 failed"
}

# A directory shared with the sandbox (the build tree) must be one the sandbox can
# show: /run, /dev, /proc and /sys are made anew inside and cannot carry it.
sandbox_check_shared_path() {
    local path
    path=$(realpath -m -- "$1")
    case "$path/" in
        /run/*|/dev/*|/proc/*|/sys/*)
            sandbox_die "$path is under /run, /dev, /proc or /sys, which the sandbox makes anew; use a build directory elsewhere (e.g. in the source tree)";;
    esac
}

# sandbox_sweep DIR: clear what runs that were killed outright (SIGKILL, a crashed CI
# job) left in DIR: their state (the watchdog already took down the sandbox) and
# staged installs. Names end in -PID of the run that made them; a live PID is never
# touched, and the logs of runs that failed normally (no env file) are kept.
sandbox_sweep() {
    local entry name pid
    for entry in "$1"/*-[0-9]*; do
        [ -e "$entry" ] || continue
        name=${entry##*/}
        name=${name%.stage}
        pid=${name##*-}
        case "$pid" in ''|*[!0-9]*) continue;; esac
        kill -0 "$pid" 2>/dev/null && continue
        if [ -d "$entry" ] && [ "${entry%.stage}" = "$entry" ]; then
            [ -e "$entry/env" ] || continue
            # A live supervisor is still taking its sandbox down: its business, not ours.
            (sandbox_load "$entry"; sandbox_same_process "$RAIND_SANDBOX_SUPERVISOR_PID" "$RAIND_SANDBOX_SUPERVISOR_START") \
                && continue
            "$RAIND_SANDBOX_HOME/stop" "$entry" || continue
        fi
        rm -rf "$entry"
    done
}
