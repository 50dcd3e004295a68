#!/bin/sh
# Lists PostgreSQL's WAL archive in the object store and fetches its newest segment, for
# verify-recovery.sh: a restore is complete only if it reached what the archive holds. Runs in
# the rclone image (POSIX sh, busybox gunzip) before the check.
#
# Environment: ARCHIVE (rclone path of <destinationPath>/<serverName>/wals, e.g. "store:bucket/production/postgres/wals"),
# WORK (a folder shared with the check); the remote "store" is configured by RCLONE_CONFIG_STORE_*
# variables (credentials from the Secret postgres-object-store).
# Writes: $WORK/wal-listing (every archived object, one per line) and $WORK/newest/<segment>
# (the newest segment, decompressed).
set -eu

: "${ARCHIVE:?}" "${WORK:?}"
# --fast-list: one recursive listing (also what S3-compatible stores answer most reliably).
rclone lsf -R --fast-list --files-only "$ARCHIVE" >"$WORK/wal-listing.tmp"
mv "$WORK/wal-listing.tmp" "$WORK/wal-listing"
echo "list-archive: $(wc -l <"$WORK/wal-listing") objects under $ARCHIVE"

# Segment names sort by timeline, then position: the last one is the newest.
newest=$(sed 's#.*/##' "$WORK/wal-listing" | grep -E '^[0-9A-F]{24}(\.gz)?$' | sort | tail -n 1 || true)
if [ -z "$newest" ]; then
  echo "list-archive: no WAL segment (plain or .gz) under $ARCHIVE: nothing was archived there, or the ObjectStore compresses with another method" >&2
  exit 1
fi
path=$(grep -E "(^|/)${newest}\$" "$WORK/wal-listing" | head -n 1)
segment=${newest%.gz}
mkdir -p "$WORK/newest"
rclone copyto "$ARCHIVE/$path" "$WORK/newest/$newest"
if [ "$newest" != "$segment" ]; then
  gunzip -f "$WORK/newest/$newest"
fi
echo "list-archive: newest segment $segment fetched"
