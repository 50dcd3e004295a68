#!/usr/bin/env bash
# The restore drill's checks, on the scratch recovery Cluster: the restore reached the end of the
# archive (check-recovery.sh), the newest backup canary it holds is recent (the RPO), and every
# table and index reads back (pg_amcheck). Then it records the result, RTO and RPO in the
# platform database (ops.restore_drill_runs, which the metrics and alerts read). Never fails the
# pod: problems go into $WORK/failed, so the last step still deletes the scratch Cluster.
#
# Environment: libpq settings of the scratch Cluster (PGHOST, PGUSER, PGPASSWORD, ...), RECORD_HOST,
# RECORD_USER, RECORD_PASSWORD (the platform database, as platform_backup), MAX_RPO_SECONDS, WORK,
# SCRIPTS.
set -uo pipefail

: "${RECORD_HOST:?}" "${RECORD_USER:?}" "${RECORD_PASSWORD:?}" "${MAX_RPO_SECONDS:?}" "${WORK:?}" "${SCRIPTS:?}"
failed() { echo "drill: $*" | tee -a "$WORK/failed" >&2; }
started=$(cat "$WORK/started" 2>/dev/null || date -u +%s)
rto=$(cat "$WORK/rto" 2>/dev/null || echo 0)
rpo=0

if [[ ! -s $WORK/failed ]]; then
  # The check's own verdict lines go into the recorded detail, not only the pod's log.
  if ! check=$(RECOVERY_TARGET=latest CHECK_WAIT_SECONDS=600 bash "$SCRIPTS/check-recovery.sh" 2>&1); then
    printf '%s\n' "$check"
    failed "the recovery fell short of the archive: $(grep -E 'PROBLEM|FAILED' <<<"$check" | tr '\n' ' ')"
  else
    printf '%s\n' "$check"
  fi
  newest=$(psql -X -At -c "SELECT coalesce(extract(epoch FROM max(written_at))::bigint, 0) FROM ops.backup_canary" 2>&1) || failed "cannot read the canary: $newest"
  if [[ $newest =~ ^[0-9]+$ ]]; then
    if ((newest == 0)); then
      failed "the recovered database holds no canary row"
    else
      rpo=$((started - newest))
      echo "drill: newest recovered canary row written $((rpo))s before the drill started"
      ((rpo <= MAX_RPO_SECONDS)) || failed "RPO ${rpo}s: the newest recovered canary row is older than ${MAX_RPO_SECONDS}s"
    fi
  fi
  pg_amcheck --all --heapallindexed --install-missing --progress 2>&1 | tail -n 20 || failed "pg_amcheck found damage in the recovered database"
fi

detail=''
if [[ -s $WORK/failed ]]; then detail=$(tr '\n' ' ' <"$WORK/failed"); fi
succeeded=true
[[ -n $detail ]] && succeeded=false
echo "drill: succeeded=$succeeded rto=${rto}s rpo=${rpo}s ${detail}"
# Variables reach the statement as quoted literals (psql interpolates them only on standard input).
PGHOST=$RECORD_HOST PGUSER=$RECORD_USER PGPASSWORD=$RECORD_PASSWORD PGAPPNAME=restore-drill \
  psql -X -v ON_ERROR_STOP=1 -q -v started="$started" -v succeeded="$succeeded" -v rto="$rto" -v rpo="$rpo" -v detail="$detail" <<'SQL' ||
INSERT INTO ops.restore_drill_runs (started_at, succeeded, rto_seconds, rpo_seconds, detail)
VALUES (to_timestamp(:'started'), :'succeeded', :'rto', :'rpo', :'detail');
SQL
  failed "could not record the result in the platform database"
exit 0
