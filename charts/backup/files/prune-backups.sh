#!/usr/bin/env bash
# Retention of base backups and streamed WAL under $BACKUP_ROOT. A base backup base/<ts> is
# deleted only when it is neither among the RETAIN_COUNT newest nor younger than RETAIN_DAYS
# (its age is read from its name, the UTC start time, which copies and touches do not change);
# the newest backup is always kept. Leftovers of interrupted backups (base/.incomplete-<ts>)
# older than a day go too. Then WAL is trimmed to what the oldest kept backup needs: every
# segment from the one its backup_label names as START WAL LOCATION onward stays, so each kept
# backup can still be replayed to the present.
#
# Environment: BACKUP_ROOT; RETAIN_COUNT (>= 1); RETAIN_DAYS (>= 0); DRY_RUN=true only prints.
set -euo pipefail

: "${BACKUP_ROOT:?prune-backups.sh: set BACKUP_ROOT to the backup volume}"
retain_count=${RETAIN_COUNT:?prune-backups.sh: set RETAIN_COUNT (the newest backups always kept, at least 1)}
retain_days=${RETAIN_DAYS:?prune-backups.sh: set RETAIN_DAYS (backups younger than this are kept too)}
dry_run=${DRY_RUN:-false}

log() { printf '%s prune-backups: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }
fail() { printf '%s prune-backups: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; exit 1; }

case $retain_count in '' | *[!0-9]*) fail "RETAIN_COUNT must be a whole number, got '${retain_count}'" ;; esac
case $retain_days in '' | *[!0-9]*) fail "RETAIN_DAYS must be a whole number, got '${retain_days}'" ;; esac
# 10# : leading zeros are decimal, not octal.
if [ $((10#$retain_count)) -lt 1 ]; then
  fail "RETAIN_COUNT must be at least 1: the newest backup is never deleted"
fi
case $dry_run in true | false) ;; *) fail "DRY_RUN must be true or false, got '${dry_run}'" ;; esac

base_dir=$BACKUP_ROOT/base
wal_dir=$BACKUP_ROOT/wal
[ -d "$base_dir" ] || { log "no ${base_dir}: nothing to prune"; exit 0; }

# YYYYMMDDTHHMMSSZ -> epoch seconds; fails on anything else.
epoch_of() {
  local n=$1
  [[ $n =~ ^[0-9]{8}T[0-9]{6}Z$ ]] || return 1
  date -u -d "${n:0:4}-${n:4:2}-${n:6:2} ${n:9:2}:${n:11:2}:${n:13:2}" +%s
}

remove() {
  if [ "$dry_run" = true ]; then
    log "would delete $1 ($2)"
  else
    log "deleting $1 ($2)"
    rm -rf -- "$1"
  fi
}

now=$(date -u +%s)
cutoff=$((now - 10#$retain_days * 86400))

# Complete backups, newest first (names sort by time). Only verified backups get a final name.
backups=()
for dir in "$base_dir"/*/; do
  name=$(basename "$dir")
  if epoch_of "$name" >/dev/null && [ -f "$dir/backup_label" ]; then backups+=("$name"); fi
done
mapfile -t backups < <(printf '%s\n' "${backups[@]}" | sed '/^$/d' | sort -r)

kept=()
for i in "${!backups[@]}"; do
  name=${backups[$i]}
  started=$(epoch_of "$name")
  if [ "$i" -lt $((10#$retain_count)) ] || [ "$started" -gt "$cutoff" ]; then
    kept+=("$name")
  else
    remove "$base_dir/$name" "not among the ${retain_count} newest and older than ${retain_days} days"
  fi
done
log "keeping ${#kept[@]} of ${#backups[@]} base backups: ${kept[*]:-none}"

for dir in "$base_dir"/.incomplete-*/; do
  [ -d "$dir" ] || continue
  name=$(basename "$dir")
  if started=$(epoch_of "${name#.incomplete-}") && [ "$started" -lt $((now - 86400)) ]; then
    remove "$base_dir/$name" "an interrupted backup, older than a day"
  fi
done

# Without a kept backup no WAL can be replayed from anywhere useful, but deleting it would also
# throw away the only copy of recent writes: leave it.
if [ "${#kept[@]}" -eq 0 ] || [ ! -d "$wal_dir" ]; then
  log "no complete base backup or no WAL directory: WAL left as it is"
  exit 0
fi
oldest=${kept[${#kept[@]} - 1]}
first_segment=$(sed -n 's/^START WAL LOCATION: .* (file \([0-9A-F]\{24\}\))$/\1/p' "$base_dir/$oldest/backup_label")
[ -n "$first_segment" ] || fail "cannot read START WAL LOCATION from $base_dir/$oldest/backup_label; WAL left as it is"

# pg_archivecleanup removes segments (and .partial files) that precede first_segment; -n lists
# them instead. Timeline history files are never touched.
mapfile -t old_wal < <(pg_archivecleanup -n "$wal_dir" "$first_segment")
if [ "${#old_wal[@]}" -eq 0 ]; then
  log "no WAL before ${first_segment} (the start of the oldest kept backup, ${oldest})"
elif [ "$dry_run" = true ]; then
  log "would delete ${#old_wal[@]} WAL files before ${first_segment} (the start of the oldest kept backup, ${oldest}):"
  printf '  %s\n' "${old_wal[@]}"
else
  pg_archivecleanup "$wal_dir" "$first_segment"
  log "deleted ${#old_wal[@]} WAL files before ${first_segment} (the start of the oldest kept backup, ${oldest}): $(basename "${old_wal[0]}") .. $(basename "${old_wal[${#old_wal[@]} - 1]}")"
fi
