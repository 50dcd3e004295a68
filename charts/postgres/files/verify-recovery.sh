#!/usr/bin/env bash
# verify-recovery.sh: after a recovery cluster (bootstrapped from the object store by the Barman
# Cloud Plugin) has promoted, decides whether the restore reached what the WAL archive holds. A
# damaged archive must never pass as a restore: PostgreSQL ends archive recovery, and promotes, at
# the first segment it cannot fetch or the first record that fails its checks, exactly as at the
# real end of the WAL, and says nothing more than "redo done".
#
# Inputs (environment):
#   PGHOST, PGPORT, PGUSER, PGDATABASE, ...  libpq settings of the RECOVERED server, as a superuser
#                        (pg_read_file of pg_wal/<timeline>.history)
#   RECOVERY_TARGET      latest | an RFC 3339 time (2026-01-31T12:00:00Z) | an LSN (0/5000060)
#   WAL_LISTING          a file, one archived object name per line, as `rclone lsf -R` of
#                        <destinationPath>/<serverName>/wals prints them (any leading folders are
#                        ignored): segments (000000010000000000000003, with .gz, .bz2, .snappy, .xz,
#                        .lz4 or .zst), .partial, .history and .backup files. Needed for latest.
#   BACKUP_START_WAL     the base backup's begin_wal (barman-cloud-backup-show). Needed for latest.
#   NEWEST_SEGMENT_FILE  the newest archived segment of the listing, downloaded and decompressed
#                        (barman-cloud-wal-restore does both), for pg_waldump. Needed for latest:
#                        without it a damaged newest segment cannot be told from the end of the
#                        WAL, so its absence is a problem.
#   PSQL, PG_WALDUMP     optional: the programs (default: psql, pg_waldump from PATH)
#
# How it decides (the switch point is where recovery ended: the last line of the new timeline's
# history file, "<timeline recovered from> <LSN> <reason>"):
#   latest: the reason is "no recovery target specified"; the archive holds every segment from
#     BACKUP_START_WAL to its newest segment along the timelines recovered through (a missing or
#     deleted segment is named); no archived timeline lies between the one recovered from and the
#     new one; the switch point is at or past the start of the newest archived segment; and
#     pg_waldump reads that segment to a clean end (its end, an XLOG SWITCH,
#     a record continuing into the next, unarchived segment, or a zeroed tail) and not to a
#     damaged record (checksum, magic number, prev-link, ...), and the switch point is at or past
#     the end of its last valid record.
#   a time: the reason is "before <time>" (PostgreSQL stopped at the first transaction committed
#     after the target, so it read past the target; not the end of the WAL) with that time not
#     earlier than the target, or "after <time>", and the last replayed transaction is not later
#     than the target.
#   an LSN: the reason is "before/after LSN ..." and the switch point is at or past the target.
#   For a target, a given WAL_LISTING is also checked for gaps up to the switch point.
# Prints what was reached and what the archive holds. Exit status: 0 the restore is complete,
# 1 it is not (every problem is printed, with LSNs and segment names), 2 the inputs are wrong.
set -euo pipefail

PSQL=${PSQL:-psql}
PG_WALDUMP=${PG_WALDUMP:-pg_waldump}
RECOVERY_TARGET=${RECOVERY_TARGET:-}
WAL_LISTING=${WAL_LISTING:-}
BACKUP_START_WAL=${BACKUP_START_WAL:-}
NEWEST_SEGMENT_FILE=${NEWEST_SEGMENT_FILE:-}

say() { printf 'verify-recovery: %s\n' "$*"; }
usage() {
  printf 'verify-recovery: %s\n' "$*" >&2
  exit 2
}
problems=0
problem() {
  problems=$((problems + 1))
  printf 'verify-recovery: PROBLEM: %s\n' "$*" >&2
}
die() {
  printf 'verify-recovery: FAILED: %s\n' "$*" >&2
  exit 1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- inputs ------------------------------------------------------------------------------------
HEX8='[0-9A-F]{8}'
LSN_RE='^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$'
TIME_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$'
if [[ $RECOVERY_TARGET == latest ]]; then
  mode=latest
elif [[ $RECOVERY_TARGET =~ $LSN_RE ]]; then
  mode=lsn
elif [[ $RECOVERY_TARGET =~ $TIME_RE ]]; then
  mode='time'
else
  usage "RECOVERY_TARGET must be latest, an RFC 3339 time (with its offset) or an LSN X/Y; got '${RECOVERY_TARGET}'"
fi
if [[ $mode == latest ]]; then
  [[ -n $WAL_LISTING ]] || usage "RECOVERY_TARGET=latest needs WAL_LISTING (the archive's object names)"
  [[ -n $BACKUP_START_WAL ]] || usage "RECOVERY_TARGET=latest needs BACKUP_START_WAL (the base backup's begin_wal)"
fi
if [[ -n $WAL_LISTING && ! -r $WAL_LISTING ]]; then usage "WAL_LISTING $WAL_LISTING is not a readable file"; fi
if [[ -n $BACKUP_START_WAL && ! $BACKUP_START_WAL =~ ^${HEX8}${HEX8}${HEX8}$ ]]; then
  usage "BACKUP_START_WAL must be a WAL segment name (24 hexadecimal digits), got '$BACKUP_START_WAL'"
fi
if [[ -n $NEWEST_SEGMENT_FILE && ! -r $NEWEST_SEGMENT_FILE ]]; then usage "NEWEST_SEGMENT_FILE $NEWEST_SEGMENT_FILE is not a readable file"; fi

# --- LSN and segment arithmetic (bash integers are 64 bits) -------------------------------------
lsn_int() {
  local hi=${1%/*} lo=${1#*/}
  echo $(((16#$hi << 32) | 16#$lo))
}
lsn_text() { printf '%X/%X' $(($1 >> 32)) $(($1 & 0xFFFFFFFF)); }

# --- the recovered server ----------------------------------------------------------------------
q() {
  local out
  if ! out=$("$PSQL" -X -A -t -q -v ON_ERROR_STOP=1 -c "$1" 2>&1); then
    die "cannot query the recovered server (PGHOST=${PGHOST:-} PGPORT=${PGPORT:-}): $out"
  fi
  printf '%s' "$out"
}
# (Each query on its own assignment: a failed query then ends the script, set -e.)
in_recovery=$(q 'SELECT pg_is_in_recovery()')
[[ $in_recovery == f ]] || die "the server is still in recovery: it has not promoted, nothing to verify yet"
seg_size=$(q "SELECT pg_size_bytes(current_setting('wal_segment_size'))")
segs_per_id=$((0x100000000 / seg_size))
current_tli_hex=$(q 'SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)')
current_tli=$((16#$current_tli_hex))
last_replay=$(q "SELECT coalesce(pg_last_xact_replay_timestamp()::text, 'none')")

# The name of segment number $2 on timeline $1 (into variable $3, without a subshell: the loops
# below run once per archived segment).
seg_name_to() { printf -v "$3" '%08X%08X%08X' "$1" $(($2 / segs_per_id)) $(($2 % segs_per_id)); }
seg_name() {
  local name
  seg_name_to "$1" "$2" name
  echo "$name"
}

[[ $current_tli -gt 1 ]] || die "the server is on timeline 1: it was not promoted out of an archive recovery (no timeline history to read)"
history=$(q "SELECT pg_read_file('pg_wal/${current_tli_hex}.history')")

# The timelines recovered through: path_tli[i] ran from path_begin[i] to path_end[i]; the last one
# is the timeline recovered from, and its end is the switch point (where recovery ended).
path_tli=()
path_begin=()
path_end=()
reason=
begin=0
while IFS= read -r line; do
  [[ -z ${line//[[:space:]]/} || $line == \#* ]] && continue
  if [[ ! $line =~ ^[[:space:]]*([0-9]+)[[:space:]]+([0-9A-Fa-f]+/[0-9A-Fa-f]+)[[:space:]]*(.*)$ ]]; then
    die "cannot read the history file pg_wal/${current_tli_hex}.history, line: $line"
  fi
  path_tli+=("${BASH_REMATCH[1]}")
  path_begin+=("$begin")
  end=$(lsn_int "${BASH_REMATCH[2]}")
  path_end+=("$end")
  reason=${BASH_REMATCH[3]}
  begin=$end
done <<<"$history"
n=${#path_tli[@]}
[[ $n -gt 0 ]] || die "the history file pg_wal/${current_tli_hex}.history is empty"
from_tli=${path_tli[n - 1]}
switch=${path_end[n - 1]}
switch_text=$(lsn_text "$switch")
switch_seg=$(seg_name "$from_tli" $(((switch > 0 ? switch - 1 : 0) / seg_size)))
say "recovered server: timeline $current_tli, recovered from timeline $from_tli; recovery ended at $switch_text (in $switch_seg): \"$reason\"; last replayed transaction: $last_replay"
if [[ $n -gt 1 && $switch -lt ${path_begin[n - 1]} ]]; then
  problem "recovery ended at $switch_text, before timeline $from_tli began at $(lsn_text "${path_begin[n - 1]}"): it stopped on an older timeline"
fi

# The timeline recovery reads segment number $1 from (the newest one of the path that had begun;
# PostgreSQL's XLogFileReadAnyTLI), and whether timeline $2 holds segment $1 on the path.
tli_for_seg() {
  local i
  for ((i = n - 1; i >= 0; i--)); do
    if [[ $((path_begin[i] / seg_size)) -le $1 ]]; then
      echo "${path_tli[i]}"
      return
    fi
  done
  echo "${path_tli[0]}"
}
on_path() {
  local i
  for ((i = 0; i < n; i++)); do
    [[ ${path_tli[i]} -eq $2 ]] || continue
    [[ $((path_begin[i] / seg_size)) -le $1 ]] || return 1
    [[ $i -eq $((n - 1)) || $1 -le $(((path_end[i] - 1) / seg_size)) ]] && return 0
    return 1
  done
  return 1
}

# --- the archive -------------------------------------------------------------------------------
declare -A have=()
newest_segno=-1
newest=
segments=0
off_path=0
partials=()
histories=()
backups=()
others=0
if [[ -n $WAL_LISTING ]]; then
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%$'\r'}
    [[ -z $line || $line == */ ]] && continue
    base=${line##*/}
    base=${base%.gz}
    base=${base%.bz2}
    base=${base%.snappy}
    base=${base%.xz}
    base=${base%.lz4}
    base=${base%.zst}
    if [[ $base =~ ^${HEX8}${HEX8}${HEX8}$ ]]; then
      [[ -n ${have[$base]:-} ]] && continue
      have[$base]=1
      segments=$((segments + 1))
      tli=$((16#${base:0:8}))
      segno=$((16#${base:8:8} * segs_per_id + 16#${base:16:8}))
      if on_path "$segno" "$tli"; then
        if [[ $segno -gt $newest_segno ]]; then
          newest_segno=$segno
          newest=$base
        fi
      else
        off_path=$((off_path + 1))
      fi
    elif [[ $base =~ ^${HEX8}${HEX8}${HEX8}\.partial$ ]]; then
      partials+=("$base")
    elif [[ $base =~ ^(${HEX8})\.history$ ]]; then
      histories+=("$base")
    elif [[ $base =~ ^${HEX8}${HEX8}${HEX8}\.${HEX8}\.backup$ ]]; then
      backups+=("$base")
    else
      others=$((others + 1))
    fi
  done <"$WAL_LISTING"
  say "archive listing: $segments segments ($off_path on timelines or past switch points that recovery does not read), ${#histories[@]} .history, ${#backups[@]} .backup, ${#partials[@]} .partial, $others other names"
  [[ ${#partials[@]} -eq 0 ]] || say "partial segments (never restored; the old timeline's end at a promotion): ${partials[*]}"
fi

# Every segment from $1 to $2 (numbers) in the archive, along the path; gaps are problems.
check_contiguous() {
  local from=$1 to=$2 s tli name present gap_start=-1 gaps=0 missing=0
  for ((s = from; s <= to + 1; s++)); do
    present=0
    if [[ $s -le $to ]]; then
      for tli in "${path_tli[@]}"; do
        seg_name_to "$tli" "$s" name
        if [[ -n ${have[$name]:-} ]] && on_path "$s" "$tli"; then
          present=1
          break
        fi
      done
    else
      present=1
    fi
    if [[ $present -eq 0 && $gap_start -lt 0 ]]; then
      gap_start=$s
    elif [[ $present -eq 1 && $gap_start -ge 0 ]]; then
      local count=$((s - gap_start)) first last
      first=$(seg_name "$(tli_for_seg "$gap_start")" "$gap_start")
      last=$(seg_name "$(tli_for_seg $((s - 1)))" $((s - 1)))
      gaps=$((gaps + 1))
      missing=$((missing + count))
      if [[ $gaps -le 20 ]]; then
        if [[ $count -eq 1 ]]; then
          problem "the archive is missing segment $first (WAL $(lsn_text $((gap_start * seg_size))) to $(lsn_text $((s * seg_size)))): recovery cannot read past it"
        else
          problem "the archive is missing $count segments $first .. $last (WAL $(lsn_text $((gap_start * seg_size))) to $(lsn_text $((s * seg_size)))): recovery cannot read past them"
        fi
      fi
      gap_start=-1
    fi
  done
  [[ $gaps -le 20 ]] || problem "... $gaps gaps in all, $missing segments missing"
  return 0
}

start_segno=
if [[ -n $BACKUP_START_WAL ]]; then
  start_tli=$((16#${BACKUP_START_WAL:0:8}))
  start_segno=$((16#${BACKUP_START_WAL:8:8} * segs_per_id + 16#${BACKUP_START_WAL:16:8}))
  if ! on_path "$start_segno" "$start_tli"; then
    problem "the base backup's begin_wal $BACKUP_START_WAL is not on the timelines recovered through (${path_tli[*]}): the restore did not start from that backup"
  elif [[ -n $WAL_LISTING && -z ${have[$BACKUP_START_WAL]:-} ]]; then
    problem "the archive does not hold the base backup's begin_wal $BACKUP_START_WAL"
  fi
fi

# --- latest ------------------------------------------------------------------------------------
check_latest() {
  if [[ $reason != "no recovery target specified" ]]; then
    problem "recovery stopped at a target (\"$reason\"), not at the end of the archive"
  fi
  local h
  for h in "${histories[@]}"; do
    local t=$((16#${h:0:8}))
    if [[ $t -gt $from_tli && $t -lt $current_tli ]]; then
      problem "the archive holds timeline $t ($h), newer than timeline $from_tli that recovery followed: the latest timeline was not recovered"
    fi
  done
  if [[ $newest_segno -lt 0 ]]; then
    problem "the archive listing holds no segment on the timelines recovered through (${path_tli[*]})"
    return
  fi
  local newest_start=$((newest_segno * seg_size))
  say "archive holds: from the backup start $BACKUP_START_WAL to the newest segment $newest (starts at $(lsn_text "$newest_start"), ends at $(lsn_text $((newest_start + seg_size))))"
  if [[ $start_segno -gt $newest_segno ]]; then
    problem "the base backup's begin_wal $BACKUP_START_WAL is newer than the archive's newest segment $newest"
  else
    check_contiguous "$start_segno" "$newest_segno"
  fi
  if [[ $switch -lt $newest_start ]]; then
    local behind=$((newest_segno - (switch > 0 ? switch - 1 : 0) / seg_size))
    problem "recovery ended at $switch_text in $switch_seg, before the newest archived segment $newest (starts at $(lsn_text "$newest_start")): $behind archived segment(s) were not replayed"
  fi
  if [[ -z $NEWEST_SEGMENT_FILE ]]; then
    # A damaged or half-uploaded newest segment ends recovery at its start, exactly where a
    # segment ending in an XLOG SWITCH does: without its content the check cannot tell.
    problem "no NEWEST_SEGMENT_FILE: the content of the newest archived segment $newest was not checked, and damage in it looks like the end of the WAL. Download it (barman-cloud-wal-restore, or list-archive.sh) and set NEWEST_SEGMENT_FILE"
    return
  fi
  check_newest_segment "$newest_start"
}

# pg_waldump over the newest segment (alone, under its archived name): where its valid WAL ends,
# and whether it ends cleanly.
check_newest_segment() {
  local newest_start=$1 size dir=$work/newest
  size=$(wc -c <"$NEWEST_SEGMENT_FILE")
  if [[ $size -ne $seg_size ]]; then
    problem "NEWEST_SEGMENT_FILE $NEWEST_SEGMENT_FILE is $size bytes, a segment is $seg_size (still compressed, or truncated?)"
    return
  fi
  mkdir -p "$dir"
  cp "$NEWEST_SEGMENT_FILE" "$dir/$newest"
  command -v "$PG_WALDUMP" >/dev/null || die "NEWEST_SEGMENT_FILE given but $PG_WALDUMP is not found"
  local rc=0
  "$PG_WALDUMP" --path="$dir" "$newest" >"$work/waldump.out" 2>"$work/waldump.err" || rc=$?
  local last error
  last=$(grep '^rmgr: ' "$work/waldump.out" | tail -n 1 || true)
  error=$(grep -E 'pg_waldump: (error|fatal|FATAL)' "$work/waldump.err" | tail -n 1 || true)
  local last_lsn='' last_len=0 valid_end clean=''
  if [[ $last =~ lsn:\ ([0-9A-F]+/[0-9A-F]+) ]]; then last_lsn=${BASH_REMATCH[1]}; fi
  if [[ $last =~ len\ \(rec/tot\):\ *[0-9]+/\ *([0-9]+) ]]; then last_len=${BASH_REMATCH[1]}; fi
  if [[ $rc -eq 0 ]]; then
    if [[ -z $last_lsn ]]; then
      problem "pg_waldump found no record in $newest"
      return
    fi
    if [[ $last == *'desc: SWITCH'* ]]; then
      valid_end=$((newest_start + seg_size))
      clean="an XLOG SWITCH record at $last_lsn: the rest of the segment is unused"
    else
      # At least the end of the last record (page headers it crosses come on top): a record
      # continuing into the next segment, which is not archived, is not printed.
      valid_end=$(($(lsn_int "$last_lsn") + last_len))
      clean="the end of the segment; its last complete record is at $last_lsn"
    fi
  elif [[ $error =~ invalid\ record\ length\ at\ ([0-9A-F]+/[0-9A-F]+):\ wanted\ [0-9]+,\ got\ 0$ ]]; then
    local at offset nonzero
    at=$(lsn_int "${BASH_REMATCH[1]}")
    offset=$((at - newest_start))
    nonzero=$(tail -c +$((offset + 1)) "$dir/$newest" | tr -d '\000' | wc -c)
    if [[ $nonzero -ne 0 ]]; then
      problem "$newest has zeroed bytes at ${BASH_REMATCH[1]} followed by $nonzero non-zero bytes: a hole in the WAL, not its end (pg_waldump: ${error#*pg_waldump: })"
      return
    fi
    valid_end=$at
    clean="a zeroed tail from ${BASH_REMATCH[1]}"
  else
    problem "the newest archived segment $newest is damaged: pg_waldump stops at a bad record instead of a clean end (${error#*pg_waldump: }; last valid record ${last_lsn:-none}). Recovery treats such a record as the end of the WAL"
    return
  fi
  say "newest segment $newest: valid WAL ends at $(lsn_text "$valid_end") ($clean)"
  # (Before the newest segment's start: reported already.)
  if [[ $switch -lt $valid_end && $switch -ge $newest_start ]]; then
    problem "recovery ended at $switch_text, before the end of the valid WAL of the newest archived segment $newest at $(lsn_text "$valid_end")"
  fi
}

# --- a time or an LSN --------------------------------------------------------------------------
check_target() {
  if [[ $mode == time ]]; then
    # PostgreSQL writes "before <commit time>" of the first transaction past the target (or
    # "after <commit time>" of one exactly at it, recovery_target_inclusive): WAL beyond the
    # target was read, so the target was reached.
    if [[ ! $reason =~ ^(before|after)\ ([0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9:.]+([+-][0-9:]+)?)$ ]]; then
      problem "the target time $RECOVERY_TARGET was not reached: recovery ended with \"$reason\" at $switch_text"
    else
      local side=${BASH_REMATCH[1]} stop=${BASH_REMATCH[2]} past replayed=t
      past=$(q "SELECT '$stop'::timestamptz >= '$RECOVERY_TARGET'::timestamptz")
      if [[ $side == before && $past != t ]]; then
        problem "recovery stopped before a transaction of $stop, earlier than the target time $RECOVERY_TARGET"
      fi
      [[ $last_replay == none ]] || replayed=$(q "SELECT '$last_replay'::timestamptz <= '$RECOVERY_TARGET'::timestamptz")
      if [[ $replayed != t ]]; then
        problem "the last replayed transaction ($last_replay) is later than the target time $RECOVERY_TARGET"
      fi
    fi
  else
    local target
    target=$(lsn_int "$RECOVERY_TARGET")
    if [[ ! $reason =~ ^(before|after)\ LSN\ [0-9A-F]+/[0-9A-F]+$ ]]; then
      problem "the target LSN $RECOVERY_TARGET was not reached: recovery ended with \"$reason\" at $switch_text"
    elif [[ $switch -lt $target ]]; then
      problem "recovery ended at $switch_text, before the target LSN $(lsn_text "$target")"
    fi
  fi
  if [[ -n $WAL_LISTING && -n $start_segno ]]; then
    local last_needed=$(((switch > 0 ? switch - 1 : 0) / seg_size))
    if [[ $newest_segno -ge 0 ]]; then
      say "archive holds: up to $newest (ends at $(lsn_text $(((newest_segno + 1) * seg_size))))"
    fi
    [[ $start_segno -gt $last_needed ]] || check_contiguous "$start_segno" "$last_needed"
  fi
  [[ -z $NEWEST_SEGMENT_FILE ]] || say "NEWEST_SEGMENT_FILE is not used for a target"
}

if [[ $mode == latest ]]; then
  check_latest
else
  check_target
fi

if [[ $problems -gt 0 ]]; then
  if [[ $mode == latest ]]; then
    die "$problems problem(s): the restore to latest did not reach what the archive holds (it reached $switch_text on timeline $from_tli)"
  fi
  die "$problems problem(s): the restore to $RECOVERY_TARGET did not reach its target (it reached $switch_text on timeline $from_tli)"
fi
say "OK: the restore to $RECOVERY_TARGET reached $switch_text on timeline $from_tli (\"$reason\")"
