#!/usr/bin/env bash
# Builds the Debian package of the installer and proves it works. The same steps run
# in CI (scripts/test.sh calls this script) and in docker/Dockerfile's build stage.
#
#   scripts/package.sh [--out DIR] [--install] [--no-docker-check] [--no-lintian]
#
#   1. installs what is missing: the build dependencies of scripts/lib.sh (without the
#      database servers and other test-only packages), dpkg-dev (dpkg-shlibdeps
#      computes Depends), file (CPack needs it), help2man (the man page) and lintian;
#   2. configures a Release build in build-package/ and builds only the installer and
#      its man page (not the tests);
#   3. runs cpack -G DEB;
#   4. checks the .deb: its metadata and contents, its Depends against the installed
#      packages (dpkg --dry-run), lintian (any error or warning fails), then extracts it
#      into a temporary directory and runs the packaged binary (`installer --version`,
#      `installer --help`) and its man page;
#   5. runs docker/check.py (YAML, manifests, compose files, Dockerfiles' COPY sources):
#      no Docker engine runs here, so this is what CI can check of docker/.
#
# Options:
#   --out DIR    also copy the .deb to DIR (docker/Dockerfile uses /out)
#   --install    install the .deb on this machine with dpkg -i (root; off by default)
#   --no-docker-check   skip step 5 (docker/Dockerfile's build stage: it needs no python3)
#   --no-lintian        do not run lintian (docker/Dockerfile's build stage)
#
# Environment:
#   INSTALLER_PACKAGE_BUILD_DIR   build directory (default: build-package/)
#   INSTALLER_PACKAGE_MAINTAINER  the package's Maintainer field
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

out_dir=""
do_install=0
docker_check=1
run_lintian=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --out) out_dir="${2:?--out needs a directory}"; shift 2 ;;
        --out=*) out_dir="${1#--out=}"; shift ;;
        --install) do_install=1; shift ;;
        --no-docker-check) docker_check=0; shift ;;
        --no-lintian) run_lintian=0; shift ;;
        -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
        *) echo "usage: scripts/package.sh [--out DIR] [--install] [--no-docker-check] [--no-lintian]" >&2; exit 64 ;;
    esac
done

t_start=$SECONDS
build_dir="${INSTALLER_PACKAGE_BUILD_DIR:-$ROOT/build-package}"

# Packages only the tests and the demo need: a build machine (or the image's build
# stage) does not need database servers.
test_only=" postgresql postgresql-client mariadb-server mariadb-client tini dumb-init procps curl
    sqitch libdbd-pg-perl libdbd-mysql-perl clang-format clang-tidy shellcheck lintian "
build_packages=()
for pkg in "${INSTALLER_PACKAGES[@]}"; do
    [[ "$test_only" == *[[:space:]]"$pkg"[[:space:]]* ]] || build_packages+=("$pkg")
done
log "package: ensuring build packages"
extra_packages=(dpkg-dev file help2man)
[[ "$docker_check" -eq 1 ]] && extra_packages+=(python3 python3-yaml)
[[ "$run_lintian" -eq 1 ]] && extra_packages+=(lintian)
ensure_packages "${build_packages[@]}" "${extra_packages[@]}"

log "package: configuring $build_dir (Release)"
cmake_args=(-DCMAKE_BUILD_TYPE=Release -DINSTALLER_MANPAGE=ON -DCMAKE_UNITY_BUILD=ON
    # cpack installs the project; without this its "preinstall" step would first build
    # every target, tests included.
    -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON)
if [[ -n "${INSTALLER_PACKAGE_MAINTAINER:-}" ]]; then
    cmake_args+=("-DINSTALLER_PACKAGE_MAINTAINER=$INSTALLER_PACKAGE_MAINTAINER")
fi
_quiet cmake -S "$ROOT" -B "$build_dir" "${cmake_args[@]}"

log "package: building the installer and its man page"
_quiet cmake --build "$build_dir" -j"$(nproc)" --target installer installer_manpage
if [[ ! -s "$build_dir/installer.1.gz" ]]; then
    log "package: $build_dir/installer.1.gz was not generated (are help2man and gzip installed?)"
    exit 1
fi

log "package: cpack -G DEB"
rm -f "$build_dir"/installer_*.deb
(cd "$build_dir" && cpack -G DEB) >&2
debs=("$build_dir"/installer_*.deb)
if [[ "${#debs[@]}" -ne 1 || ! -f "${debs[0]}" ]]; then
    log "package: expected exactly one installer_*.deb in $build_dir, found: ${debs[*]}"
    exit 1
fi
deb="${debs[0]}"

log "package: checking $(basename "$deb")"
dpkg-deb --info "$deb" >&2
dpkg-deb --contents "$deb" >&2
fail() { log "package: $*"; exit 1; }
[[ "$(dpkg-deb -f "$deb" Package)" == "installer" ]] || fail "Package is not 'installer'"
[[ "$(dpkg-deb -f "$deb" Section)" == "admin" ]] || fail "Section is not 'admin'"
depends="$(dpkg-deb -f "$deb" Depends)"
# Opened at run time, so named by hand (CPACK_DEBIAN_PACKAGE_DEPENDS); libc6 comes from
# dpkg-shlibdeps.
for lib in libpq5 libmariadb3 libarchive13 libssl3 libc6; do
    [[ "$depends" == *"$lib"* ]] || fail "Depends lacks $lib: $depends"
done
# The dump tools of --backup-dir (docs/backup.md), and the CA bundle of verify-full.
recommends="$(dpkg-deb -f "$deb" Recommends)"
for tool in ca-certificates postgresql-client mariadb-client; do
    [[ "$recommends" == *"$tool"* ]] || fail "Recommends lacks $tool: $recommends"
done
contents="$(dpkg-deb --contents "$deb")"
for f in ./usr/bin/installer ./usr/share/man/man1/installer.1.gz ./usr/share/doc/installer/README.md \
    ./usr/share/doc/installer/copyright ./usr/share/doc/installer/changelog.Debian.gz \
    ./usr/share/doc/installer/docs/cli.md ./usr/share/doc/installer/docs/packaging.md; do
    grep -qF " $f" <<<"$contents" || fail "$f is not in the package"
done
# Every dependency is satisfiable on this machine (--dry-run installs nothing; dpkg
# wants root even for that).
if [[ "$(id -u)" -eq 0 ]]; then
    dpkg --dry-run -i "$deb" >/dev/null || fail "dpkg --dry-run -i: dependencies not satisfied here"
fi
# Debian's checks of a binary package: any error or warning fails (info and pedantic
# tags are printed, not counted).
if [[ "$run_lintian" -eq 1 ]]; then
    log "package: lintian $(basename "$deb")"
    lintian --fail-on=error,warning --display-info "$deb" >&2 || fail "lintian reports errors or warnings (above)"
fi

stage="$(mktemp -d /tmp/installer-deb.XXXXXX)"
trap 'rm -rf "$stage"' EXIT
dpkg-deb -x "$deb" "$stage"
version="$("$stage/usr/bin/installer" --version)" || fail "the packaged installer does not run"
[[ "$version" == "installer $(dpkg-deb -f "$deb" Version | sed 's/-[^-]*$//')" ]] ||
    fail "installer --version says '$version', the package is $(dpkg-deb -f "$deb" Version)"
# (Captured first: grep -q would close the pipe early and pipefail report SIGPIPE.)
help_text="$("$stage/usr/bin/installer" --help)" || fail "the packaged installer --help failed"
grep -q -- '--db-url' <<<"$help_text" || fail "installer --help lacks --db-url"
log "package: the packaged binary says: $version"
if command -v man >/dev/null 2>&1; then
    man_text="$(MANWIDTH=90 man -l "$stage/usr/share/man/man1/installer.1.gz" 2>/dev/null)" ||
        fail "man -l cannot render installer.1"
    grep -q -- '--remove-update' <<<"$man_text" || fail "the man page lacks --remove-update"
    head -n 12 <<<"$man_text" >&2
else
    man_source="$(gzip -dc "$stage/usr/share/man/man1/installer.1.gz")" || fail "installer.1.gz is not gzip"
    grep -q '^\.TH INSTALLER ' <<<"$man_source" || fail "installer.1 has no .TH line"
    grep -q 'remove\\-update' <<<"$man_source" || fail "the man page lacks --remove-update"
    log "package: man is not installed; installer.1 has its .TH header and the options"
fi

if [[ "$do_install" -eq 1 ]]; then
    log "package: dpkg -i $(basename "$deb")"
    _quiet _as_root dpkg -i "$deb"
    installed="$(/usr/bin/installer --version)"
    [[ "$installed" == "$version" ]] || fail "/usr/bin/installer says '$installed' after dpkg -i"
    log "package: installed: $installed"
fi

# The deployment files cannot be run here (no Docker engine); check what can be checked.
if [[ "$docker_check" -eq 1 ]]; then
    python3 "$ROOT/docker/check.py" >&2 || fail "docker/check.py found problems in docker/"
fi

if [[ -n "$out_dir" ]]; then
    mkdir -p "$out_dir"
    cp "$deb" "$out_dir/"
    deb="$(cd "$out_dir" && pwd -P)/$(basename "$deb")"
fi
log "package: $deb ($(du -h "$deb" | cut -f1), $(stat -c %s "$deb") bytes) in $((SECONDS - t_start)) s"
printf '%s\n' "$deb"
