# shellcheck shell=bash
# Shared by scripts/run, scripts/test and scripts/sandbox.
RAIND_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RAIND_BUILD=${RAIND_BUILD:-$RAIND_SRC/build}

# Build and test dependencies, by Debian package name (Debian 12).
RAIND_BUILD_DEPS=(
    meson ninja-build pkg-config g++
    libsystemd-dev libsdbus-c++-dev libsdbus-c++-bin libseccomp-dev libapparmor-dev libmount-dev
    nlohmann-json3-dev libyaml-cpp-dev libcpp-httplib-dev libgtest-dev libgmock-dev
    libarchive-dev libisal-dev libssl-dev libsqlite3-dev libcli11-dev libnftables-dev
    busybox-static umoci jq
)
RAIND_RUN_DEPS=(
    systemd dbus polkitd util-linux containernetworking-plugins
)
RAIND_TEST_DEPS=(
    python3 python3-cryptography openssl apache2-utils docker-registry skopeo
    crun runc podman tmux curl iproute2 time
)

say() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { say "$*"; exit 1; }

# Re-run the calling script as root through sudo when started by another user.
ensure_root() {
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || die "must run as root (sudo is not installed)"
        exec sudo --preserve-env=RAIND_BUILD,CI -- "$0" "$@"
    fi
}

# apt-get install only what is missing: a no-op in well under a second when all is there.
install_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null || die "apt-get update failed"
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed"
}

build() {
    if [ ! -f "$RAIND_BUILD/build.ninja" ]; then
        meson setup "$RAIND_BUILD" "$RAIND_SRC" >/dev/null || die "meson setup failed"
    fi
    ninja -C "$RAIND_BUILD" >/dev/null || { ninja -C "$RAIND_BUILD"; die "build failed"; }
}
