#!/usr/bin/env bash
# The restore drill: proves every week that the backups restore, how long that takes (RTO) and how
# much a crash would lose (RPO), and publishes the answer as metrics that alerts watch.
#
#  1. In the database: under a lock on ops.backup_canary, prune canary rows older than
#     CANARY_RETAIN_DAYS, add a marker row and record the count and checksum of every row; then,
#     after commit, pg_create_restore_point. Writers only ever add rows above the marker, so the
#     restored copy must hold exactly these rows up to it.
#  2. RPO: the time until the WAL stream's replication slot confirms that the restore point is
#     flushed to the backup volume: what a crash at that moment would have lost.
#  3. Restore: restore-postgres.sh prepares DRILL_DATA (an empty scratch volume) from the newest
#     verified base backup, with the streamed WAL read straight from the backup volume, to the
#     restore point. A scratch PostgreSQL (socket only, no preloaded libraries, no hot standby)
#     replays and promotes. RTO: from the start of the restore to the promoted server.
#  4. Verify: the marker row is there; count and checksum of the canary rows up to it match;
#     pg_amcheck finds no corruption in any table or btree index of any database.
#  5. Write status/restore-drill.prom (success, RTO, RPO, last success), which the backup metrics
#     server publishes, whatever the outcome; exit non-zero on any failure.
#
# Nothing here writes to the database beyond the canary table and the restore point, or to the
# backup volume beyond the status file. Runs in the PostgreSQL image, as the base backups do.
#
# Environment: PGHOST, PGPORT, PGUSER (platform_backup), PGPASSWORD, BACKUP_ROOT, WAL_SLOT,
# DRILL_DATA (an empty directory on a volume as big as the database); optional PGDATABASE
# (default postgres), DRILL_MAX_RTO_SECONDS (default 2700), DRILL_RPO_TIMEOUT_SECONDS (default
# 300), DRILL_SHARED_BUFFERS (default 128MB), CANARY_RETAIN_DAYS (default 35),
# CANARY_MAX_AGE_SECONDS (default 300: the newest canary row must be younger).
set -euo pipefail

: "${BACKUP_ROOT:?restore-drill.sh: set BACKUP_ROOT to the backup volume}"
: "${WAL_SLOT:?restore-drill.sh: set WAL_SLOT to the replication slot of the WAL stream}"
: "${DRILL_DATA:?restore-drill.sh: set DRILL_DATA to an empty directory on the scratch volume}"
max_rto=${DRILL_MAX_RTO_SECONDS:-2700}
rpo_timeout=${DRILL_RPO_TIMEOUT_SECONDS:-300}
retain_days=${CANARY_RETAIN_DAYS:-35}
canary_max_age=${CANARY_MAX_AGE_SECONDS:-300}
shared_buffers=${DRILL_SHARED_BUFFERS:-128MB}
database=${PGDATABASE:-postgres}
for setting in DRILL_MAX_RTO_SECONDS:"$max_rto" DRILL_RPO_TIMEOUT_SECONDS:"$rpo_timeout" CANARY_RETAIN_DAYS:"$retain_days" CANARY_MAX_AGE_SECONDS:"$canary_max_age"; do
  value=${setting#*:}
  if ! [[ $value =~ ^[0-9]+$ ]] || [ "$value" -lt 1 ]; then
    echo "restore-drill.sh: ${setting%%:*} must be a whole number, 1 or more; got '${value}'" >&2
    exit 1
  fi
done

status_file=$BACKUP_ROOT/status/restore-drill.prom
scripts=$(dirname "$0")
scratch=${TMPDIR:-/tmp}/restore-drill
rto=
rpo=
passed=false

log() { printf '%s restore-drill: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }
fail() {
  printf '%s restore-drill: FAILED: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
  exit 1
}
seconds_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }'; }

# The previous success time survives a failed drill, so RestoreDrillStale can tell how long ago.
last_success=$(sed -n 's/^platform_restore_drill_last_success_timestamp_seconds //p' "$status_file" 2>/dev/null || true)
publish() {
  local success=0
  if [ "$passed" = true ]; then
    success=1
    last_success=$(date +%s)
  fi
  {
    echo '# HELP platform_restore_drill_success Whether the last restore drill passed (1) or failed (0).'
    echo '# TYPE platform_restore_drill_success gauge'
    echo "platform_restore_drill_success ${success}"
    if [ -n "$last_success" ]; then
      echo '# HELP platform_restore_drill_last_success_timestamp_seconds When a restore drill last passed.'
      echo '# TYPE platform_restore_drill_last_success_timestamp_seconds gauge'
      echo "platform_restore_drill_last_success_timestamp_seconds ${last_success}"
    fi
    if [ -n "$rto" ]; then
      echo '# HELP platform_restore_drill_rto_seconds Time from the start of the last drill'"'"'s restore to a promoted server.'
      echo '# TYPE platform_restore_drill_rto_seconds gauge'
      echo "platform_restore_drill_rto_seconds ${rto}"
    fi
    if [ -n "$rpo" ]; then
      echo '# HELP platform_restore_drill_rpo_seconds Time for the last drill'"'"'s restore point to reach the backup volume.'
      echo '# TYPE platform_restore_drill_rpo_seconds gauge'
      echo "platform_restore_drill_rpo_seconds ${rpo}"
    fi
  } >"$status_file.tmp" && mv "$status_file.tmp" "$status_file"
}
finish() {
  local code=$?
  if [ -f "$scratch/postmaster-started" ]; then
    pg_ctl --pgdata="$DRILL_DATA" --mode=immediate --silent stop || true
  fi
  if [ "$code" -ne 0 ]; then passed=false; fi
  publish || log "could not write ${status_file}"
  log "result: $([ "$passed" = true ] && echo passed || echo FAILED); RTO ${rto:-unmeasured}s, RPO ${rpo:-unmeasured}s"
}
mkdir -p "$BACKUP_ROOT/status"
trap finish EXIT

# --- 1. Marker, checksum and restore point in the database --------------------------------------
point="drill-$(date -u +%Y%m%dT%H%M%SZ)"
# One text line per row, in id order; times as microseconds since the epoch, which do not depend
# on the session's TimeZone or DateStyle.
checksum_sql="SELECT count(*), coalesce(md5(string_agg(concat_ws('|', id, (extract(epoch FROM written_at) * 1000000)::bigint, writer, payload), E'\\n' ORDER BY id)), 'none') FROM ops.backup_canary"
log "marking the canary and creating restore point ${point} on ${PGHOST:-local}:${PGPORT:-5432}"
if ! marked=$(psql -X -q -At -F ' ' -v ON_ERROR_STOP=1 -v point="$point" -v retain="$retain_days" -d "$database" 2>&1 <<SQL
BEGIN;
-- Waits for writers in flight and holds off new ones until commit.
LOCK TABLE ops.backup_canary IN EXCLUSIVE MODE;
SELECT coalesce(extract(epoch FROM now() - max(written_at))::bigint, -1) FROM ops.backup_canary WHERE writer <> 'restore-drill';
DELETE FROM ops.backup_canary WHERE written_at < now() - make_interval(days => :retain);
INSERT INTO ops.backup_canary (writer, payload) VALUES ('restore-drill', :'point') RETURNING id;
${checksum_sql};
COMMIT;
SELECT pg_create_restore_point(:'point');
SQL
); then
  fail "could not mark the canary or create the restore point: ${marked}"
fi
# Exactly four lines: canary age, marker id, "count checksum", restore point LSN.
mapfile -t lines <<<"$marked"
[ "${#lines[@]}" -eq 4 ] || fail "unexpected answer from the database: ${marked}"
canary_age=${lines[0]}
marker=${lines[1]}
expected=${lines[2]}
point_lsn=${lines[3]}
point_created=$(date +%s.%N)
log "marker row ${marker}; canary up to it: ${expected% *} rows, checksum ${expected#* }; restore point at ${point_lsn}"
if [ "$canary_age" -lt 0 ]; then
  fail "ops.backup_canary has no rows from the canary writer: is the backup-canary container of the WAL streamer running?"
elif [ "$canary_age" -gt "$canary_max_age" ]; then
  fail "the newest canary row is ${canary_age}s old (limit ${canary_max_age}s): the backup-canary container has stopped writing"
fi

# --- 2. RPO: until the WAL stream has flushed the restore point ---------------------------------
log "waiting for slot ${WAL_SLOT} to confirm ${point_lsn} on the backup volume"
until [ "$(psql -X -At -v ON_ERROR_STOP=1 -v slot="$WAL_SLOT" -v lsn="$point_lsn" -d "$database" <<<"SELECT coalesce(bool_or(restart_lsn >= :'lsn'::pg_lsn), false) FROM pg_replication_slots WHERE slot_name = :'slot';")" = t ]; do
  waited=$(seconds_since "$point_created")
  if [ "${waited%.*}" -ge "$rpo_timeout" ]; then
    fail "the WAL stream has not flushed the restore point after ${rpo_timeout}s: check the postgres-wal-stream pod and slot ${WAL_SLOT}"
  fi
  sleep 0.2
done
rpo=$(seconds_since "$point_created")
log "restore point on the backup volume after ${rpo}s"

# --- 3. Restore into the scratch volume and start a scratch server ------------------------------
restore_started=$(date +%s.%N)
PGDATA=$DRILL_DATA RESTORE_BACKUP=latest RESTORE_TARGET_NAME=$point RESTORE_FORCE=false \
  bash "$scripts/restore-postgres.sh" || fail "restore-postgres.sh could not prepare ${DRILL_DATA} (above)"

# A server reachable only through its own socket, trusting local connections: nothing else in the
# pod or cluster can reach it. Settings on the command line win over the restored
# postgresql.auto.conf.
rm -rf "$scratch"
mkdir -p "$scratch"
chmod 0700 "$scratch"
printf 'local all all trust\n' >"$scratch/pg_hba.conf"
: >"$scratch/pg_ident.conf"
: >"$scratch/postgresql.conf"
elapsed=$(seconds_since "$restore_started")
budget=$((max_rto - ${elapsed%.*}))
[ "$budget" -gt 0 ] || fail "preparing the data directory alone took ${elapsed}s, more than DRILL_MAX_RTO_SECONDS=${max_rto}"
log "starting the scratch server (replays WAL to ${point}, then promotes; at most ${budget}s)"
touch "$scratch/postmaster-started"
if ! pg_ctl --pgdata="$DRILL_DATA" --log="$scratch/server.log" --wait --timeout="$budget" \
  -o "-c config_file=$scratch/postgresql.conf -c hba_file=$scratch/pg_hba.conf -c ident_file=$scratch/pg_ident.conf -c listen_addresses= -c port=5432 -c unix_socket_directories=$scratch -c hot_standby=off -c archive_mode=off -c shared_preload_libraries= -c shared_buffers=$shared_buffers -c max_connections=20 -c max_wal_senders=0 -c max_replication_slots=0 -c wal_level=replica -c logging_collector=off" \
  start >/dev/null; then
  tail -n 20 "$scratch/server.log" >&2 || true
  fail "the scratch server did not start (its log above)"
fi
scratch_sql() { PGHOST=$scratch PGPORT=5432 PGPASSWORD='' psql -X -At -F ' ' -v ON_ERROR_STOP=1 -U "$1" -d "$database"; }
# pg_ctl returns once the server runs; without hot standby it takes connections only after the
# replay has reached the restore point and the server has promoted.
deadline=$(($(date +%s) + budget))
until [ "$(scratch_sql "$PGUSER" <<<"SELECT pg_is_in_recovery();" 2>/dev/null)" = f ]; do
  if [ ! -f "$DRILL_DATA/postmaster.pid" ]; then
    tail -n 20 "$scratch/server.log" >&2 || true
    fail "the scratch server stopped during recovery (its log above)"
  fi
  [ "$(date +%s)" -lt "$deadline" ] || fail "the scratch server did not finish recovery within ${budget}s"
  sleep 0.5
done
rto=$(seconds_since "$restore_started")
log "scratch server promoted after ${rto}s"

# --- 4. Verify -----------------------------------------------------------------------------------
superuser=$(scratch_sql "$PGUSER" <<<"SELECT rolname FROM pg_roles WHERE oid = 10;")
marker_found=$(scratch_sql "$superuser" <<<"SELECT count(*) FROM ops.backup_canary WHERE id = ${marker} AND writer = 'restore-drill' AND payload = '${point}';")
[ "$marker_found" = 1 ] || fail "the restored copy lacks marker row ${marker}: recovery stopped before the restore point"
restored=$(scratch_sql "$superuser" <<<"${checksum_sql} WHERE id <= ${marker};")
if [ "$restored" != "$expected" ]; then
  fail "canary rows differ: database ${expected% *} rows (checksum ${expected#* }), restored copy ${restored% *} rows (checksum ${restored#* })"
fi
log "canary rows match: ${restored% *} rows, checksum ${restored#* }"

# Heap pages, every btree index, and that each index holds every heap row, in every database.
# Event triggers stay quiet while amcheck is installed into the scratch copy.
log "pg_amcheck on every database of the restored copy"
if ! report=$(PGHOST=$scratch PGPORT=5432 PGPASSWORD='' PGOPTIONS='-c session_replication_role=replica' \
  pg_amcheck --username="$superuser" --all --install-missing --heapallindexed --no-password 2>&1); then
  fail "pg_amcheck found corruption or could not run: ${report}"
fi

if awk -v r="$rto" -v m="$max_rto" 'BEGIN { exit !(r > m) }'; then
  fail "the restore took ${rto}s, more than DRILL_MAX_RTO_SECONDS=${max_rto}"
fi
passed=true
log "restore drill passed: backup restored to ${point} in ${rto}s, RPO ${rpo}s, ${restored% *} canary rows and checksum identical, pg_amcheck clean"
