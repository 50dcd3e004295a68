// Client authentication of the Cluster (`spec.postgresql.pg_hba`). CloudNativePG puts its own
// rules first (local peer for the operator, certificates for streaming_replica and the poolers'
// auth user) and a password catch-all for every host after these; the last line here rejects
// everything the earlier ones did not admit, so the catch-all is never reached. First match wins.
import { LOGIN_ROLES } from './roles';

/** The rules, in order: no remote postgres, no replication logins, TLS only, known roles only. */
export function pgHba(): string[] {
  return [
    // The operator's superuser has no password and logs in over the local socket only.
    'hostssl all postgres all reject',
    'hostssl replication all all reject',
    `hostssl all ${Object.keys(LOGIN_ROLES).join(',')} all scram-sha-256`,
    // Anything else, and everything without TLS.
    'host all all all reject',
  ];
}
