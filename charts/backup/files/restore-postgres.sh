#!/usr/bin/env bash
# Prepares a data directory to recover from a base backup and the streamed WAL; it does not start
# the server. PostgreSQL then replays the WAL through restore_command and promotes itself at the
# target (or at the end of the WAL). Nothing in PGDATA changes before the backup has passed
# pg_verifybackup, and a non-empty PGDATA is replaced only with RESTORE_FORCE=true.
#
# The last seconds before a crash live in pg_receivewal's current segment, <segment>.partial:
# restore_command hands that file to the server under the segment's own name when the complete
# segment does not exist. The WAL directory must be reachable at the same path by the server that
# recovers (mount the backup volume at $BACKUP_ROOT, read-only will do); without it, recovery
# stops with an error rather than ending early at the backup.
#
# Environment: PGDATA (the target), BACKUP_ROOT; RESTORE_BACKUP (a name under base/, or latest:
# the default); either RESTORE_TARGET_TIME (a PostgreSQL timestamptz; with latest, the newest
# backup that ended before it is used) or RESTORE_TARGET_NAME (a pg_create_restore_point name);
# RESTORE_FORCE=true to replace a non-empty PGDATA; RESTORE_WAL_COPY (optional): a directory,
# outside PGDATA on the same volume, to copy the WAL the recovery needs into, so the server that
# recovers does not need the backup volume (the restore Job sets it).
set -euo pipefail

: "${PGDATA:?restore-postgres.sh: set PGDATA to the data directory to restore into}"
: "${BACKUP_ROOT:?restore-postgres.sh: set BACKUP_ROOT to the backup volume}"
choice=${RESTORE_BACKUP:-latest}
target_time=${RESTORE_TARGET_TIME:-}
target_name=${RESTORE_TARGET_NAME:-}
force=${RESTORE_FORCE:-false}
base_dir=$BACKUP_ROOT/base
wal_dir=$BACKUP_ROOT/wal
recovery_wal_dir=${RESTORE_WAL_COPY:-$wal_dir}

log() { printf '%s restore-postgres: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }
refuse() { printf 'restore-postgres.sh: %s\n' "$*" >&2; exit 1; }

# The WAL path goes into restore_command, a shell command inside a quoted setting.
[[ $wal_dir =~ ^[A-Za-z0-9._/-]+$ ]] || refuse "BACKUP_ROOT=${BACKUP_ROOT} may only contain letters, digits and ._/- (it is written into restore_command)"
[[ $recovery_wal_dir =~ ^[A-Za-z0-9._/-]+$ ]] || refuse "RESTORE_WAL_COPY=${recovery_wal_dir} may only contain letters, digits and ._/- (it is written into restore_command)"
if [ "$recovery_wal_dir" != "$wal_dir" ]; then
  case $recovery_wal_dir in "$PGDATA" | "$PGDATA"/*) refuse "RESTORE_WAL_COPY=${recovery_wal_dir} must be outside PGDATA (the backup is copied over PGDATA)" ;; esac
  if [ -n "$(ls -A "$recovery_wal_dir" 2>/dev/null)" ] && [ "$force" != true ]; then
    refuse "RESTORE_WAL_COPY=${recovery_wal_dir} is not empty: set RESTORE_FORCE=true to replace it"
  fi
fi
[ -n "$target_time" ] && [ -n "$target_name" ] && refuse "set RESTORE_TARGET_TIME or RESTORE_TARGET_NAME, not both"
case $force in true | false) ;; *) refuse "RESTORE_FORCE must be true or false, got '${force}'" ;; esac

if [ -d "$PGDATA" ] && [ -n "$(ls -A "$PGDATA")" ] && [ "$force" != true ]; then
  refuse "PGDATA ${PGDATA} is not empty; refusing to overwrite it. Restore into an empty directory, or set RESTORE_FORCE=true to replace its contents with the backup."
fi

# When a backup ended: pg_basebackup writes backup_manifest last, after the server confirmed the
# end of the backup. Nanoseconds since the epoch.
ended_ns() { date -r "$base_dir/$1/backup_manifest" +%s%N; }
iso() { date -u -d "@$(($1 / 1000000000))" '+%Y-%m-%d %H:%M:%S UTC'; }

target_ns=
if [ -n "$target_time" ]; then
  # The server reads a time without a zone in its own TimeZone setting, this script in the
  # container's: only an explicit zone means the same instant to both.
  [[ $target_time =~ :[0-9]{2}(\.[0-9]+)?[[:space:]]*([Zz]|[+-][0-9]{2}(:?[0-9]{2})?|UTC|GMT)$ ]] ||
    refuse "RESTORE_TARGET_TIME='${target_time}' has no time zone; add one, such as '2025-01-31 14:05:00+00'"
  target_ns=$(date -d "$target_time" +%s%N 2>/dev/null) || refuse "RESTORE_TARGET_TIME='${target_time}' is not a time this script can read; use a form such as '2025-01-31 14:05:00+00'"
fi

# Verified backups only have a final name (base-backup.sh); newest first.
mapfile -t backups < <(find "$base_dir" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended -regex '.*/[0-9]{8}T[0-9]{6}Z' -printf '%f\n' 2>/dev/null | sort -r)
[ "${#backups[@]}" -gt 0 ] || refuse "no base backup in ${base_dir}; restore refused"

backup=
if [ "$choice" != latest ]; then
  if ! [[ $choice =~ ^[0-9]{8}T[0-9]{6}Z$ ]] || [ ! -d "$base_dir/$choice" ]; then
    refuse "RESTORE_BACKUP=${choice}: no such backup in ${base_dir} (have: ${backups[*]}, or latest)"
  fi
  backup=$choice
  if [ -n "$target_ns" ] && [ -f "$base_dir/$backup/backup_manifest" ] && [ "$(ended_ns "$backup")" -ge "$target_ns" ]; then
    refuse "backup ${backup} ended at $(iso "$(ended_ns "$backup")"), not before RESTORE_TARGET_TIME=${target_time}: recovery cannot stop before a backup's end. Choose an older backup or leave RESTORE_BACKUP=latest."
  fi
elif [ -n "$target_ns" ]; then
  for name in "${backups[@]}"; do
    if [ -f "$base_dir/$name/backup_manifest" ] && [ "$(ended_ns "$name")" -lt "$target_ns" ]; then
      backup=$name
      break
    fi
  done
  [ -n "$backup" ] || refuse "no base backup ended before RESTORE_TARGET_TIME=${target_time} (oldest: ${backups[${#backups[@]} - 1]}); restore refused"
else
  backup=${backups[0]}
fi
source_dir=$base_dir/$backup

# Every file against the manifest's SHA-256, and the WAL the backup needs (in its own pg_wal).
log "verifying backup ${backup}"
if ! report=$(pg_verifybackup "$source_dir" 2>&1); then
  refuse "backup ${backup} failed verification: ${report}
restore refused; PGDATA ${PGDATA} was not changed"
fi
log "verified: ${report}"

if [ -d "$PGDATA" ] && [ -n "$(ls -A "$PGDATA")" ]; then
  log "RESTORE_FORCE=true: deleting the contents of ${PGDATA}"
  find "$PGDATA" -mindepth 1 -delete
fi
mkdir -p "$PGDATA"
chmod 0700 "$PGDATA"
log "copying ${source_dir} into ${PGDATA}"
cp -R --preserve=mode,timestamps "$source_dir/." "$PGDATA/"
# The manifest describes the backup, not the server that will run here.
rm -f "$PGDATA/backup_manifest" "$PGDATA/standby.signal"

# Settings of an earlier recovery survive in postgresql.auto.conf and would come back with every
# later backup of that server: drop them, then add this recovery's.
auto_conf=$PGDATA/postgresql.auto.conf
touch "$auto_conf"
grep -Ev '^[[:space:]]*(restore_command|recovery_target[a-z_]*|recovery_end_command)[[:space:]]*=' "$auto_conf" >"$auto_conf.new" || true
quote() { printf "'%s'" "${1//\'/\'\'}"; }
{
  echo "# restore-postgres.sh $(date -u +%Y-%m-%dT%H:%M:%SZ): recovery from base backup ${backup}"
  # A complete segment first; else the streamer's unfinished copy of it, under the segment's name.
  # Exit 1 (not found) is how recovery learns it reached the end of the WAL. Without the WAL
  # directory that would end recovery at the backup, silently dropping every later write, so a
  # missing directory exits above 125, which makes PostgreSQL abort recovery instead.
  w=$recovery_wal_dir
  echo "restore_command = 'if [ ! -d \"${w}\" ]; then echo \"restore_command: ${w} is missing: mount the backup volume at ${BACKUP_ROOT} (or create ${w} empty to recover from the backup alone)\" >&2; exit 126; elif [ -f \"${w}/%f\" ]; then cp \"${w}/%f\" \"%p\"; elif [ -f \"${w}/%f.partial\" ]; then cp \"${w}/%f.partial\" \"%p\"; else exit 1; fi'"
  [ -n "$target_time" ] && echo "recovery_target_time = $(quote "$target_time")"
  [ -n "$target_name" ] && echo "recovery_target_name = $(quote "$target_name")"
  echo "recovery_target_action = 'promote'"
} >>"$auto_conf.new"
mv "$auto_conf.new" "$auto_conf"
touch "$PGDATA/recovery.signal"

# WAL on the backup's timeline from its start segment on, checked for gaps: recovery stops
# silently at the first missing segment.
start_segment=$(sed -n 's/^START WAL LOCATION: .* (file \([0-9A-F]\{24\}\))$/\1/p' "$source_dir/backup_label")
timeline=${start_segment:0:8}
segment_bytes=$(pg_controldata "$source_dir" | sed -n 's/^Bytes per WAL segment: *//p')
per_id=$((0x100000000 / segment_bytes))
previous=
gap=
newest=
while read -r file; do
  segment=${file%.partial}
  newest=$file
  [ "${segment:0:8}" = "$timeline" ] || continue
  [[ $segment < $start_segment ]] && continue
  number=$((0x${segment:8:8} * per_id + 0x${segment:16:8}))
  if [ -n "$previous" ] && [ "$number" -gt $((previous + 1)) ] && [ -z "$gap" ]; then gap=$file; fi
  previous=$number
done < <(find "$wal_dir" -maxdepth 1 -type f -regextype posix-extended -regex '.*/[0-9A-F]{24}(\.partial)?' -printf '%f\n' 2>/dev/null | sort)

if [ "$recovery_wal_dir" != "$wal_dir" ]; then
  # Every timeline's history, and every segment (complete or partial) from the backup's start on.
  rm -rf "$recovery_wal_dir"
  mkdir -p "$recovery_wal_dir"
  copied=0
  while read -r file; do
    if [[ $file != *.history ]]; then
      segment=${file%.partial}
      [[ ${segment:8} < ${start_segment:8} ]] && continue
    fi
    cp --preserve=timestamps "$wal_dir/$file" "$recovery_wal_dir/"
    copied=$((copied + 1))
  done < <(find "$wal_dir" -maxdepth 1 -type f -regextype posix-extended -regex '.*/([0-9A-F]{24}(\.partial)?|[0-9A-F]{8}\.history)' -printf '%f\n' 2>/dev/null | sort)
  log "copied ${copied} WAL files into ${recovery_wal_dir}: delete it once the server has promoted"
fi

echo "restore-postgres.sh: ${PGDATA} is ready for recovery; start PostgreSQL on it."
echo "  backup:     ${backup} (started $(sed -n 's/^START TIME: //p' "$source_dir/backup_label"), ended $(iso "$(ended_ns "$backup")"), WAL from ${start_segment})"
if [ -n "$target_time" ]; then
  echo "  target:     time ${target_time}, then promote"
elif [ -n "$target_name" ]; then
  echo "  target:     restore point '${target_name}', then promote"
else
  echo "  target:     the end of the streamed WAL, then promote"
fi
if [ -n "$newest" ]; then
  echo "  WAL up to:  ${newest} (written $(date -u -r "$wal_dir/$newest" +%Y-%m-%dT%H:%M:%SZ)) in ${wal_dir}"
else
  echo "  WAL up to:  only the backup's own WAL (${wal_dir} has no segments)"
fi
if [ -n "$target_time$target_name" ]; then
  # pg_receivewal resumes after the newest segment it finds, which now lies on the abandoned
  # timeline beyond the target: the new server's history would not contain it.
  echo "  afterwards: move ${wal_dir} aside before stream-wal.sh runs against the restored server, then take a new base backup"
else
  echo "  afterwards: take a new base backup once the server has promoted"
fi
if [ -n "$gap" ]; then
  echo "  WARNING:    WAL is missing before ${gap}: recovery will stop at the gap, losing what follows" >&2
fi
