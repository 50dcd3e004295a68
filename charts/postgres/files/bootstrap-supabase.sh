#!/usr/bin/env bash
# bootstrap-supabase.sh: applies the Supabase image's own database migrations to a CloudNativePG
# cluster, once. Under CNPG the image's entrypoint never runs, so neither does its
# /docker-entrypoint-initdb.d/migrate.sh; this Job (same image) does what migrate.sh does:
#
#   1. init-scripts/*.sql, in C-locale glob order, as role postgres;
#   2. migrations/*.sql, in C-locale glob order, as role supabase_admin;
#   3. the platform's own init SQL (PLATFORM_INIT_SQL), as supabase_admin.
#
# (migrate.sh's other steps are not wanted here: it creates role postgres, which CNPG's initdb
# already made; it sets supabase_admin's password, which the operator owns; and it resets
# pg_stat_statements, which is cosmetic.)
#
# Connection: libpq's environment (PGHOST = the read-write Service, PGUSER = supabase_admin, a
# superuser; PGSSLMODE, PGSSLROOTCERT, PGPASSWORD ...). There is no remote login for postgres, so
# files the image runs as postgres run under SET SESSION AUTHORIZATION postgres: the objects they
# create are owned by postgres, and current_user/session_user are postgres, as upstream.
#
# Each file runs with ON_ERROR_STOP in ONE transaction together with its row in the marker table
# platform.supabase_bootstrap (phase, file, sha256, run_as, status, note, image_tag,
# recorded_at): a file is either applied and recorded, or neither. A failure stops the script
# (exit 1) naming the file and psql's error; a re-run skips the recorded files and continues with
# the first unrecorded one. After the platform SQL the row (phase 'complete', file 'complete')
# records IMAGE_TAG; a run that finds it exits 0 without writing anything.
#
# Role postgres stays a superuser: the CNPG operator and instance manager connect as postgres
# over the local socket and need it. The image's migrations/*demote-postgres* file (which runs
# ALTER ROLE postgres NOSUPERUSER) is recorded as skipped, not run, and every file's transaction
# ends with a check that postgres is still a superuser, so a file that demotes it anyway is rolled
# back and named; the check runs once more after everything.
#
# Managed roles: the operator creates MANAGED_ROLES (spec.managed.roles) before this Job runs, so
# an image file's unconditional "CREATE USER authenticator ..." fails with 42710 "role already
# exists". When that happens for a role in MANAGED_ROLES, the script re-runs the file in one
# transaction that first drops the role, so the file creates it exactly as upstream does (its
# attributes, memberships and grants), and then checks that the file did create it again; the
# operator then re-applies the password and attributes of its spec on its next reconcile (the
# role's catalog row changed). The drop is refused, with the list, when the role owns anything or
# holds any privilege or policy entry in any database (pg_shdepend), when it is a superuser, or
# when it is the connected role: dropping would lose something there, and DROP ROLE only succeeds
# for a role nothing depends on anyway. A role that already exists but is not in MANAGED_ROLES is
# never dropped. The drop is decided from the error rather than by parsing the file, so
# conditional creations (IF NOT EXISTS ... CREATE USER) keep the operator's role untouched.
# Until the operator reconciles, a recreated role has no password (it cannot log in).
#
# Files marked "-- migrate:up transaction:false" (dbmate's marker for SQL that cannot run in a
# transaction block), and files with their own top-level BEGIN; / COMMIT; / ROLLBACK; (which would
# end the wrapping transaction early), run without the wrapping transaction and are recorded after
# they succeed; a failure may leave such a file partly applied, and the log says so. None of the
# image's files is like that today. PLATFORM_INIT_SQL wraps itself in BEGIN/COMMIT and is
# idempotent, so it runs without a wrapping transaction on every run until the complete marker is
# written. The script writes no files (a read-only root filesystem is fine).
#
# Environment:
#   PG* (libpq)               connection as supabase_admin, see above
#   IMAGE_TAG                 required: the image tag, recorded in the marker
#   PLATFORM_INIT_SQL         required: path of the platform's init SQL file
#   MIGRATIONS_DIR            default /docker-entrypoint-initdb.d (init-scripts/, migrations/)
#   MANAGED_ROLES             space-separated roles the operator manages (may be empty)
#   BOOTSTRAP_WAIT_SECONDS    default 600: how long to wait for a writable primary
set -euo pipefail
export LC_ALL=C # glob order as the image's migrate.sh (/bin/sh) sees it, and plain messages

readonly PROG=bootstrap-supabase
readonly MARKER=platform.supabase_bootstrap
readonly DEMOTE_PATTERN='*demote-postgres*'
readonly DEMOTE_REASON='not run: role postgres must stay SUPERUSER, the CloudNativePG operator connects as postgres over the local socket'

MIGRATIONS_DIR=${MIGRATIONS_DIR:-/docker-entrypoint-initdb.d}
MANAGED_ROLES=${MANAGED_ROLES:-}
BOOTSTRAP_WAIT_SECONDS=${BOOTSTRAP_WAIT_SECONDS:-600}
export PGAPPNAME=${PGAPPNAME:-$PROG}

log() { printf '%s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$PROG" "$*"; }
die() {
  log "ERROR: $*" >&2
  exit 1
}

# A SQL string literal (standard_conforming_strings is on since PostgreSQL 9.1).
lit() { printf "'%s'" "${1//\'/\'\'}"; }

PSQL=(psql -X -q --no-password -v ON_ERROR_STOP=1)
# One value (or rows) of a query, unaligned.
query() { "${PSQL[@]}" -At -c "$1"; }

[[ -n ${IMAGE_TAG:-} ]] || die "IMAGE_TAG is not set"
[[ -n ${PLATFORM_INIT_SQL:-} ]] || die "PLATFORM_INIT_SQL is not set"
[[ -r $PLATFORM_INIT_SQL ]] || die "PLATFORM_INIT_SQL=$PLATFORM_INIT_SQL is not a readable file"
[[ $BOOTSTRAP_WAIT_SECONDS =~ ^[0-9]+$ ]] || die "BOOTSTRAP_WAIT_SECONDS=$BOOTSTRAP_WAIT_SECONDS is not a number of seconds"
for role in $MANAGED_ROLES; do
  [[ $role =~ ^[a-z_][a-z0-9_]*$ ]] || die "MANAGED_ROLES: '$role' is not a plain lower-case role name"
done
for dir in init-scripts migrations; do
  [[ -d $MIGRATIONS_DIR/$dir ]] || die "$MIGRATIONS_DIR/$dir is not a directory (MIGRATIONS_DIR must be laid out as the image's /docker-entrypoint-initdb.d)"
done

is_managed() {
  local role
  for role in $MANAGED_ROLES; do [[ $role == "$1" ]] && return 0; done
  return 1
}

# 1. A primary that accepts connections and writes.
wait_for_primary() {
  local deadline=$((SECONDS + BOOTSTRAP_WAIT_SECONDS)) state
  while :; do
    state=$(PGCONNECT_TIMEOUT=5 query 'SELECT pg_is_in_recovery()' 2>&1) || true
    [[ $state == f ]] && return 0
    if ((SECONDS >= deadline)); then
      die "${PGHOST:-the server}:${PGPORT:-5432} did not accept connections as a primary (not in recovery) within ${BOOTSTRAP_WAIT_SECONDS} s; last answer: ${state:-none}"
    fi
    log "waiting for ${PGHOST:-the server}:${PGPORT:-5432} to accept connections and leave recovery (${state%%$'\n'*})"
    sleep 2
  done
}

# phase/file -> "status sha256" of the files recorded when this run started.
declare -A RECORDED=()
load_recorded() {
  local rows key value
  rows=$(query "SELECT phase || '/' || file || chr(9) || status || ' ' || coalesce(sha256, '') FROM $MARKER")
  while IFS=$'\t' read -r key value; do
    if [[ -n $key ]]; then RECORDED[$key]=$value; fi
  done <<<"$rows"
}

# A literal, or NULL for an empty string.
lit_or_null() { if [[ -n $1 ]]; then lit "$1"; else echo NULL; fi; }

# SQL that inserts a file's marker row.
marker_insert() { # phase file sha256 run_as status note
  printf 'INSERT INTO %s (phase, file, sha256, run_as, status, note, image_tag) VALUES (%s, %s, %s, %s, %s, %s, %s)' \
    "$MARKER" "$(lit "$1")" "$(lit "$2")" "$(lit "$3")" "$(lit "$4")" "$(lit "$5")" "$(lit_or_null "$6")" "$(lit "$IMAGE_TAG")"
}

# SQL that fails the transaction when postgres is no longer a superuser (after `what`).
postgres_superuser_check() {
  printf "DO \$check\$ BEGIN IF NOT coalesce((SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = 'postgres'), false) THEN RAISE EXCEPTION 'role postgres is not a superuser after %%; the CloudNativePG operator needs it: this file must not demote postgres', %s; END IF; END \$check\$" "$(lit "$1")"
}

# Why `role` must not be dropped, or nothing when it may be.
drop_refusal() {
  local role=$1 literal
  literal=$(lit "$role")
  if ! is_managed "$role"; then
    echo "it is not in MANAGED_ROLES ($MANAGED_ROLES), so it was not created by the operator for this bootstrap"
    return
  fi
  if [[ $(query "SELECT rolsuper OR rolname = current_user OR rolname = 'postgres' FROM pg_catalog.pg_roles WHERE rolname = $literal") == t ]]; then
    echo "it is a superuser, postgres, or the role this Job connects as"
    return
  fi
  query "SELECT CASE d.deptype WHEN 'o' THEN 'owns ' WHEN 'a' THEN 'holds privileges on ' WHEN 'r' THEN 'is named in ' ELSE 'depends (' || d.deptype::text || ') on ' END
      || CASE WHEN d.dbid IN (0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()))
              THEN coalesce(pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid), d.classid::regclass::text || ' ' || d.objid)
              ELSE d.classid::regclass::text || ' ' || d.objid || ' in database ' || coalesce((SELECT datname FROM pg_catalog.pg_database WHERE oid = d.dbid), d.dbid::text) END
    FROM pg_catalog.pg_shdepend d JOIN pg_catalog.pg_authid a ON d.refclassid = 'pg_catalog.pg_authid'::regclass AND d.refobjid = a.oid
    WHERE a.rolname = $literal ORDER BY 1" | paste -sd ';' | sed 's/;/; /g'
}

# Runs psql with the arguments; its standard output passes through, its standard error is kept
# in PSQL_ERR. Returns psql's status.
PSQL_ERR=''
psql_keeping_errors() {
  local status=0
  { PSQL_ERR=$("${PSQL[@]}" "$@" 2>&1 1>&3 3>&-) || status=$?; } 3>&1
  return "$status"
}
show_psql_output() { [[ -z $PSQL_ERR ]] || printf '%s\n' "$PSQL_ERR" | sed 's/^/  psql: /'; }

# Runs one image file (phase, path, run_as) in its own transaction with its marker row.
apply_file() {
  local phase=$1 path=$2 run_as=$3
  local name sum state transactional=1 why_not='' attempt role refusal note
  local -a dropped=() args
  name=$(basename "$path")
  sum=$(sha256sum "$path" | cut -d' ' -f1)

  state=${RECORDED[$phase/$name]:-}
  if [[ -n $state ]]; then
    if [[ $state == applied* && ${state#applied } != "$sum" ]]; then
      log "WARNING: $phase/$name was applied with sha256 ${state#applied }, the file now has $sum; it is not run again"
    fi
    log "skip $phase/$name: already ${state%% *}"
    return 0
  fi

  # shellcheck disable=SC2053 # the pattern is a glob on purpose
  if [[ $name == $DEMOTE_PATTERN ]]; then
    "${PSQL[@]}" -c "$(marker_insert "$phase" "$name" "$sum" "$run_as" skipped "$DEMOTE_REASON")"
    log "skipped $phase/$name: $DEMOTE_REASON"
    return 0
  fi

  if grep -Eiq -- '--[[:space:]]*migrate:up.*transaction:[[:space:]]*false' "$path"; then
    transactional=0 why_not='it is marked transaction:false'
  elif grep -Eiq '^[[:space:]]*(begin|commit|rollback|start[[:space:]]+transaction)[[:space:]]*;' "$path"; then
    transactional=0 why_not='it has its own BEGIN/COMMIT'
  fi

  for ((attempt = 0; ; attempt++)); do
    note=''
    ((${#dropped[@]} == 0)) || note="dropped managed role(s) ${dropped[*]} (created by the operator, nothing depended on them) so that this file creates them as upstream does"
    args=(-v VERBOSITY=verbose -c "SET lc_messages TO 'C'")
    if ((transactional)); then
      args=(--single-transaction "${args[@]}" -c "$(marker_insert "$phase" "$name" "$sum" "$run_as" applied "$note")")
      for role in "${dropped[@]}"; do args+=(-c "DROP ROLE \"$role\""); done
    fi
    [[ $run_as == supabase_admin ]] || args+=(-c "SET SESSION AUTHORIZATION \"$run_as\"")
    args+=(-f "$path" -c 'RESET SESSION AUTHORIZATION')
    if ((transactional)); then
      args+=(-c "$(postgres_superuser_check "$phase/$name")")
      for role in "${dropped[@]}"; do
        args+=(-c "DO \$check\$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = $(lit "$role")) THEN RAISE EXCEPTION 'managed role % was dropped for %, which did not create it again', $(lit "$role"), $(lit "$phase/$name"); END IF; END \$check\$")
      done
    fi

    log "applying $phase/$name as $run_as (sha256 $sum)${dropped[*]:+, dropping managed role(s) ${dropped[*]} first}${why_not:+, without a wrapping transaction because $why_not}"
    if psql_keeping_errors "${args[@]}"; then
      show_psql_output
      if ((!transactional)); then
        "${PSQL[@]}" -c "$(postgres_superuser_check "$phase/$name")" -c "$(marker_insert "$phase" "$name" "$sum" "$run_as" applied "run without a wrapping transaction: $why_not")" ||
          die "$phase/$name ran (without a wrapping transaction) but then demoted postgres or could not be recorded (psql's error above). The bootstrap is not complete."
      fi
      log "applied $phase/$name as $run_as"
      return 0
    fi

    # "role X already exists" (42710) from a role the operator created: drop it and run again.
    role=''
    if ((transactional)) && [[ $PSQL_ERR =~ ERROR:\ +42710:\ role\ \"([^\"]+)\"\ already\ exists ]]; then
      role=${BASH_REMATCH[1]}
    fi
    if [[ -n $role && " ${dropped[*]} " != *" $role "* ]] && ((attempt <= $(wc -w <<<"$MANAGED_ROLES"))); then
      refusal=$(drop_refusal "$role") || die "could not find out what depends on role $role (psql's error above)"
      if [[ -z $refusal ]]; then
        log "$phase/$name creates role $role, which the operator already created; running it again after dropping $role in the same transaction"
        dropped+=("$role")
        continue
      fi
      show_psql_output >&2
      die "$phase/$name creates role $role, which already exists; refusing to drop it because $refusal. Nothing of this file was applied; the bootstrap is not complete."
    fi
    show_psql_output >&2
    if ((transactional)); then
      die "$phase/$name failed as $run_as (psql's error above); its transaction was rolled back and it is not recorded. The bootstrap is not complete: fix the cause and run the Job again, it continues with this file."
    fi
    die "$phase/$name failed as $run_as (psql's error above); it ran without a wrapping transaction ($why_not) and may be partly applied, and it is not recorded. The bootstrap is not complete: repair the database and run the Job again, it runs this file again."
  done
}

wait_for_primary

if [[ $(query "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user") != t ]]; then
  die "connected as $(query 'SELECT current_user'), which is not a superuser; set PGUSER=supabase_admin"
fi
[[ $(query "SELECT count(*) FROM pg_catalog.pg_roles WHERE rolname = 'postgres'") == 1 ]] || die "role postgres does not exist"

# 2. Done already? (read-only: a completed bootstrap writes nothing)
if [[ $(query "SELECT to_regclass('$MARKER') IS NOT NULL") == t ]]; then
  done_tag=$(query "SELECT image_tag FROM $MARKER WHERE phase = 'complete'")
  if [[ -n $done_tag ]]; then
    log "already complete (bootstrapped with image $done_tag); nothing to do"
    [[ $done_tag == "$IMAGE_TAG" ]] || log "NOTE: this Job runs image $IMAGE_TAG; the migrations of a newer image are not applied by this bootstrap"
    exit 0
  fi
fi

"${PSQL[@]}" -c "SET client_min_messages TO warning" -c "CREATE SCHEMA IF NOT EXISTS platform" -c "REVOKE ALL ON SCHEMA platform FROM PUBLIC" -c "CREATE TABLE IF NOT EXISTS $MARKER (
  phase text NOT NULL CHECK (phase IN ('init-scripts', 'migrations', 'platform', 'complete')),
  file text NOT NULL,
  sha256 text,
  run_as name,
  status text NOT NULL CHECK (status IN ('applied', 'skipped', 'complete')),
  note text,
  image_tag text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (phase, file))" -c "COMMENT ON TABLE $MARKER IS 'Files of the Supabase image applied by bootstrap-supabase.sh (the CNPG bootstrap Job); the row phase=complete ends it'"
load_recorded
log "bootstrapping from $MIGRATIONS_DIR (image $IMAGE_TAG) as $(query 'SELECT current_user'); managed roles: ${MANAGED_ROLES:-none}"

# 3. The image's files, as the image's migrate.sh orders them.
shopt -s nullglob
init_scripts=("$MIGRATIONS_DIR"/init-scripts/*.sql)
migrations=("$MIGRATIONS_DIR"/migrations/*.sql)
shopt -u nullglob
((${#init_scripts[@]} > 0)) || die "no $MIGRATIONS_DIR/init-scripts/*.sql"
((${#migrations[@]} > 0)) || die "no $MIGRATIONS_DIR/migrations/*.sql"
for file in "${init_scripts[@]}"; do apply_file init-scripts "$file" postgres; done
for file in "${migrations[@]}"; do apply_file migrations "$file" supabase_admin; done

# The platform's SQL: its own transaction, idempotent, run until the bootstrap completes.
platform_name=$(basename "$PLATFORM_INIT_SQL")
platform_sum=$(sha256sum "$PLATFORM_INIT_SQL" | cut -d' ' -f1)
log "applying platform/$platform_name as supabase_admin (sha256 $platform_sum)"
if ! psql_keeping_errors -v VERBOSITY=verbose -f "$PLATFORM_INIT_SQL"; then
  show_psql_output >&2
  die "platform/$platform_name failed (psql's error above). The bootstrap is not complete: fix it and run the Job again."
fi
show_psql_output
"${PSQL[@]}" -c "$(marker_insert platform "$platform_name" "$platform_sum" supabase_admin applied '') ON CONFLICT (phase, file) DO UPDATE SET sha256 = excluded.sha256, image_tag = excluded.image_tag, recorded_at = now()"
log "applied platform/$platform_name as supabase_admin"

# 4. postgres is still a superuser, then the marker.
if [[ $(query "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = 'postgres'") != t ]]; then
  die "role postgres is NOT a superuser after the bootstrap (platform/$platform_name?); the CloudNativePG operator needs it. Restore it with ALTER ROLE postgres SUPERUSER; the bootstrap is not complete."
fi
"${PSQL[@]}" -c "INSERT INTO $MARKER (phase, file, status, image_tag) VALUES ('complete', 'complete', 'complete', $(lit "$IMAGE_TAG"))"
log "complete: image $IMAGE_TAG; role postgres is a superuser; see $MARKER"
