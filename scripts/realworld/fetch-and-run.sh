#!/usr/bin/env bash
# Runs scripts/realworld.sh on every project of scripts/realworld/projects.txt, one after
# another, from bare git mirrors, then regenerates docs/realworld.md.
#
#   scripts/realworld/fetch-and-run.sh [--mirrors DIR] [--only NAME,...] [--engine E]
#                                      [--results FILE] [--no-doc]
#
# --mirrors   where the bare mirrors live, as DIR/OWNER+NAME/repo (default /work/.mirror)
# --only      run only these projects; their results are appended to the results file
#             (the report takes the last result of each project, engine and check)
# --engine    run only this engine (postgres or mariadb)
# --results   the JSON lines file (default scripts/realworld/results.jsonl); a full run
#             (without --only/--engine) starts it afresh
# --no-doc    do not regenerate docs/realworld.md
#
# For each project and engine: git -C MIRROR archive COMMIT PATH | tar -x -C TMP (plus the
# with= files), then scripts/realworld.sh TMP/PATH ENGINE. The installer binary is copied once
# at the start (or $INSTALLER_BIN), so that every project runs the same build. The report is
# written with `report.py --update-notes`, which adds a TODO section to
# scripts/realworld/notes.md for each failing check that has no explanation yet.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
root="$(cd "$here/../.." && pwd -P)"
mirrors=/work/.mirror only="" only_engine="" results="$here/results.jsonl" write_doc=1
while [[ $# -gt 0 ]]; do
    case "$1" in
    --mirrors) mirrors="${2:?}"; shift 2 ;;
    --only) only="${2:?}"; shift 2 ;;
    --engine) only_engine="${2:?}"; shift 2 ;;
    --results) results="${2:?}"; shift 2 ;;
    --no-doc) write_doc=0; shift ;;
    -h | --help) sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fetch-and-run.sh: unknown argument '$1' (try --help)" >&2; exit 64 ;;
    esac
done

tmp="$(mktemp -d /tmp/realworld-fetch.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
trap 'rm -rf "$tmp"; trap - EXIT; exit 130' INT
trap 'rm -rf "$tmp"; trap - EXIT; exit 143' TERM
if [[ -z "${INSTALLER_BIN:-}" ]]; then
    cp "$root/build/installer" "$tmp/installer"
    INSTALLER_BIN="$tmp/installer"
fi
export INSTALLER_BIN
echo "installer: $("$INSTALLER_BIN" --version | head -n1) ($INSTALLER_BIN, copied at start)"

if [[ -z "$only" && -z "$only_engine" ]]; then
    : >"$results"
fi
touch "$results"

mirror_of() { printf '%s/%s/repo' "$mirrors" "${1/\//+}"; }

# export REPO COMMIT PATH DEST: DEST/PATH holds the folder at that commit
export_path() {
    local m
    m="$(mirror_of "$1")"
    if [[ ! -d "$m" ]]; then
        echo "no mirror of $1 at $m" >&2
        return 1
    fi
    if ! git -C "$m" cat-file -e "$2^{commit}" 2>/dev/null; then
        echo "commit $2 is not in the mirror of $1" >&2
        return 1
    fi
    mkdir -p "$4"
    git -C "$m" archive "$2" "$3" | tar -x -C "$4"
}

summaries=()
while read -r name repo commit layout rest; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    if [[ -n "$only" && ",$only," != *",$name,"* ]]; then
        continue
    fi
    paths=() withs=() extensions=""
    for f in $rest; do
        case "$f" in
        postgres=* | mariadb=*) paths+=("$f") ;;
        with=*) withs+=("${f#with=}") ;;
        extensions=*) extensions="${f#extensions=}" ;;
        *) echo "projects.txt: $name: unknown field '$f'" >&2; exit 65 ;;
        esac
    done
    for p in "${paths[@]}"; do
        engine="${p%%=*}" path="${p#*=}"
        [[ -n "$only_engine" && "$engine" != "$only_engine" ]] && continue
        dest="$tmp/$name-$engine"
        rm -rf "$dest"
        echo
        echo "=== $name ($repo@${commit:0:12}) on $engine: $path"
        if ! export_path "$repo" "$commit" "$path" "$dest"; then
            summaries+=("$name $engine: not run (could not export $path)")
            continue
        fi
        for w in "${withs[@]}"; do
            wrepo="${w%%@*}" wrest="${w#*@}"
            wcommit="${wrest%%:*}" wglob="${wrest#*:}"
            wdir="$(dirname "$wglob")"
            export_path "$wrepo" "$wcommit" "$wdir" "$dest.with"
            # shellcheck disable=SC2206  # the glob is meant to expand
            wfiles=($dest.with/$wglob)
            [[ -e "${wfiles[0]}" ]] || { echo "projects.txt: $name: nothing matches $w" >&2; exit 65; }
            cp "${wfiles[@]}" "$dest/$path/"
            echo "  with ${#wfiles[@]} files of $wrepo@${wcommit:0:12}:$wglob"
        done
        args=("$dest/$path" "$engine" --layout "$layout" --name "$name" --results "$results"
            --repo "$repo" --commit "$commit")
        [[ -n "$extensions" && "$engine" == postgres ]] && args+=(--extensions "$extensions")
        "$root/scripts/realworld.sh" "${args[@]}" </dev/null 2>&1 | tee "$tmp/out" || true
        summaries+=("$(grep '^SUMMARY' "$tmp/out" | sed 's/^SUMMARY  //' || echo "$name $engine: no summary")")
        rm -rf "$dest" "$dest.with"
    done
done <"$here/projects.txt"

echo
echo "=== all projects"
printf '%s\n' "${summaries[@]}"
if [[ "$write_doc" -eq 1 ]]; then
    python3 "$here/report.py" "$results" --notes "$here/notes.md" --update-notes >"$root/docs/realworld.md"
    echo "wrote docs/realworld.md (results: $results)"
fi
