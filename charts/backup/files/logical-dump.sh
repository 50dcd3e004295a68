#!/usr/bin/env bash
# Weekly logical dump: pg_dump in directory format with parallel jobs, as platform_backup (which
# may read all data), into dump/<UTC time>/. Portable across PostgreSQL versions and machines,
# unlike the base backups: a second net for a migration or a partial recovery of one table, not
# the disaster path. Kept only if pg_restore can read its table of contents; the
# DUMP_RETAIN_COUNT newest are kept.
# Environment: PGHOST, PGPORT, PGUSER, PGPASSWORD, BACKUP_ROOT, DUMP_RETAIN_COUNT, DUMP_JOBS.
set -euo pipefail

: "${BACKUP_ROOT:?}" "${DUMP_RETAIN_COUNT:?}"
[[ $DUMP_RETAIN_COUNT =~ ^[1-9][0-9]*$ ]] || { echo "logical-dump.sh: DUMP_RETAIN_COUNT must be 1 or more" >&2; exit 1; }
dir=$BACKUP_ROOT/dump
stamp=$(date -u +%Y%m%dT%H%M%SZ)
partial=$dir/.incomplete-$stamp
mkdir -p "$dir" "$BACKUP_ROOT/status"
trap 'rm -rf "$partial"' EXIT

echo "logical-dump: dumping database ${PGDATABASE:-postgres} into ${dir}/${stamp}"
pg_dump -d "${PGDATABASE:-postgres}" -Fd -j "${DUMP_JOBS:-2}" -Z 6 -f "$partial"
if ! pg_restore -l "$partial" >/dev/null; then
  echo "logical-dump: pg_restore cannot read the dump, not kept" >&2
  exit 1
fi
mv "$partial" "$dir/$stamp"
echo "$(date -u +%s) $stamp" >"$BACKUP_ROOT/status/last-logical-dump"
echo "logical-dump: $(pg_restore -l "$dir/$stamp" | grep -c ' TABLE DATA ') tables dumped ($(du -sh "$dir/$stamp" | cut -f1))"

mapfile -t dumps < <(find "$dir" -mindepth 1 -maxdepth 1 -type d -name '2*Z' -printf '%f\n' | sort -r)
for old in "${dumps[@]:$DUMP_RETAIN_COUNT}"; do
  echo "logical-dump: removing ${old} (keeping the ${DUMP_RETAIN_COUNT} newest)"
  rm -rf "${dir:?}/$old"
done
