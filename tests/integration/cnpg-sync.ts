// What CloudNativePG 1.30.0 would write into synchronous_standby_names for a Cluster, emulated so
// that the replication tests can run real PostgreSQL servers with the operator's value, and the
// two decisions the operator takes at a failover (may it fail over, and to whom).
//
// Facts, all read at the tag v1.30.0 of github.com/cloudnative-pg/cloudnative-pg
// (commit 4b5e244a7d031f67e025c83c1555e7726ecbbfa1):
//
// - pkg/postgres/replication/replication.go, GetSynchronousStandbyNames: with
//   `.spec.postgresql.synchronous` set, explicitSynchronousStandbyNames (explicit.go) decides;
//   without it, legacySynchronousStandbyNames (legacy.go, from minSyncReplicas/maxSyncReplicas).
// - explicit.go, explicitSynchronousStandbyNames: dataDurability "preferred" ->
//   explicitSynchronousStandbyNamesDataDurabilityPreferred, anything else (also unset) ->
//   ...DataDurabilityRequired.
// - explicit.go, explicitSynchronousStandbyNamesDataDurabilityRequired: the names are
//   getSortedInstanceNames (healthy non-primary instances sorted, then the other non-primary
//   instances sorted, then the primary itself last), cut to maxStandbyNamesFromCluster when set,
//   standbyNamesPre prepended and standbyNamesPost appended; an empty list becomes
//   "<cluster>-placeholder". The number is `number` as is: it never shrinks, so with every
//   standby gone commits wait (docs/src/replication.md, "Required Data Durability":
//   `ANY 1 ("foo-2","foo-3","foo-1")`, then `ANY 1 ("foo-3","foo-2","foo-1")` when foo-2 fails).
// - explicit.go, explicitSynchronousStandbyNamesDataDurabilityPreferred: only healthy non-primary
//   instances (legacy.go, getSortedNonPrimaryHealthyInstanceNames, sorted), cut to
//   maxStandbyNamesFromCluster, number capped to how many remain; none left -> no value at all
//   (synchronous replication off). The CRD forbids standbyNamesPre/Post with "preferred"
//   (api/v1/cluster_types.go, SynchronousReplicaConfiguration XValidation).
// - pkg/postgres/configuration.go, SynchronousStandbyNamesConfig.String: `<METHOD> <n> ("a","b")`,
//   METHOD upper-cased (api/v1/cluster_funcs.go, ToPostgreSQLConfigurationKeyword), each name in
//   double quotes with `"` doubled, joined by "," without spaces; empty list -> "" (IsZero).
//   CreatePostgresqlConfiguration (same file) writes it only when non-empty, together with
//   cnpg.synchronous_standby_names_metadata (the JSON of method/number/standbyNames).
//   synchronous_standby_names is a "fixed" parameter (FixedConfigurationParameters): a user value
//   in .spec.postgresql.parameters is ignored/rejected.
// - synchronous_commit: the operator never sets it for the server (not in CnpgConfigurationSettings
//   defaults or mandatory settings, pkg/postgres/configuration.go), so it is the user's
//   .spec.postgresql.parameters.synchronous_commit or PostgreSQL's default "on". The operator's
//   own connections use synchronous_commit=local (pkg/management/postgres/pool/profiles.go,
//   connectionProfilePostgresql.Enrich) so that it is never stuck behind missing standbys.
//   Its defaults that matter for replication: wal_sender_timeout=5s, wal_receiver_timeout=5s,
//   wal_keep_size=512MB, wal_level=logical, hot_standby on (mandatory).
// - Standbys stream with application_name = their instance name
//   (pkg/management/postgres/conninfo.go, buildPrimaryConnInfo(<cluster>-rw, podName)), and
//   instances are named <cluster>-<serial> (pkg/specs/pods.go, GetInstanceName).
// - Who is promoted: internal/controller/replicas.go, reconcileTargetPrimaryForNonReplicaCluster
//   takes status.Items[0] once every WAL receiver is down (AreWalReceiversDown), the list sorted
//   by pkg/postgres/status.go, PostgresqlStatusList.Less: instances without errors first, then
//   primaries, then the bigger received LSN, then the bigger replayed LSN, then the name. The
//   received LSN is pg_last_wal_receive_lsn(), raised to pg_last_wal_replay_lsn() if that is bigger
//   (pkg/management/postgres/probes.go, fillStatusFromReplica).
// - failoverQuorum (api/v1/cluster_types.go, SynchronousReplicaConfiguration.FailoverQuorum;
//   docs/src/failover.md, "Failover Quorum"): before a failover the operator checks R + W > N
//   (internal/controller/replicas_quorum.go, evaluateQuorumCheckWithStatus), with N the names of
//   the last synchronous_standby_names the primary published in the FailoverQuorum object minus
//   the primary itself (internal/management/controller/instance_sync.go,
//   updateFailoverQuorumObject), W its number, R how many of those names are instances that
//   report status without error and are ready. If the check fails, no failover happens at all.
//   It does not choose the standby: the most advanced one (above) is still the one promoted.
//
// What the emulation simplifies:
// - "healthy" (status.instancesStatus.healthy, i.e. a ready Pod) is given by the caller as the
//   standbys that stream. CloudNativePG's default readiness only asks that a replica has
//   connected to its source once (docs/src/replication.md, "Preferred Data Durability" note), so
//   a standby that stopped streaming may still count as healthy there for a while.
// - The primary is appended (required mode) whenever it is named; the operator appends it when
//   its Pod appears in status.instancesStatus in any state.
// - The legacy path (no `synchronous` stanza) ignores syncReplicaElectionConstraint.
// - The FailoverQuorum object is what the primary last published; a primary that died before
//   publishing a new configuration leaves the old one (or a reset, which blocks failover).
// - The failover itself is also gated by failoverDelay, the two-phase pending marker and the
//   primary Lease (docs/src/failover.md); none of that is modelled here.
export interface CnpgSynchronous {
  readonly method: 'any' | 'first';
  readonly number: number;
  readonly dataDurability?: 'required' | 'preferred';
  readonly maxStandbyNamesFromCluster?: number;
  readonly standbyNamesPre?: readonly string[];
  readonly standbyNamesPost?: readonly string[];
  readonly failoverQuorum?: boolean;
}

/** The part of a postgresql.cnpg.io/v1 Cluster (parsed YAML) that decides synchronous replication. */
export interface CnpgCluster {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: { readonly name?: string };
  readonly spec: {
    readonly instances: number;
    readonly minSyncReplicas?: number;
    readonly maxSyncReplicas?: number;
    readonly postgresql?: {
      readonly synchronous?: CnpgSynchronous;
      readonly parameters?: Readonly<Record<string, string>>;
    };
  };
}

/** What the operator knows about the instances when it renders the configuration. */
export interface InstancesState {
  /** status.currentPrimary: the primary's instance name. */
  readonly primary: string;
  /** Standbys that are healthy (status.instancesStatus.healthy); here: streaming from the primary. */
  readonly streaming: readonly string[];
  /** status.instanceNames; by default <cluster>-1 .. <cluster>-<instances>. */
  readonly instanceNames?: readonly string[];
}

/** pkg/postgres/configuration.go, SynchronousStandbyNamesConfig (also the metadata JSON). */
export interface SyncStandbyNamesConfig {
  readonly method: string;
  readonly number: number;
  readonly standbyNames: readonly string[];
}

/** Go's sort.Strings: byte order (the names are ASCII, where UTF-16 order is the same). */
const goSorted = (names: readonly string[]): string[] => [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

function clusterName(cluster: CnpgCluster): string {
  const name = cluster.metadata.name;
  if (!name) throw new Error('the Cluster has no metadata.name');
  return name;
}

/** The instance (pod) names of a fresh Cluster: pkg/specs/pods.go, GetInstanceName(cluster, serial), serials from 1. */
export function instanceNames(cluster: CnpgCluster): string[] {
  return Array.from({ length: cluster.spec.instances }, (_, i) => `${clusterName(cluster)}-${i + 1}`);
}

/** legacy.go, getSortedNonPrimaryHealthyInstanceNames. */
function sortedNonPrimaryHealthy(state: InstancesState): string[] {
  return goSorted(state.streaming.filter((name) => name !== state.primary));
}

/** explicit.go, getSortedInstanceNames: healthy standbys, then the other standbys, then the primary. */
function sortedInstanceNames(cluster: CnpgCluster, state: InstancesState): string[] {
  const all = state.instanceNames ?? instanceNames(cluster);
  const ready = sortedNonPrimaryHealthy(state);
  const others = goSorted(all.filter((name) => name !== state.primary && !ready.includes(name)));
  return [...ready, ...others, ...(state.primary ? [state.primary] : [])];
}

/** replication.go, GetSynchronousStandbyNames, with explicit.go and legacy.go. */
export function synchronousStandbyNamesConfig(cluster: CnpgCluster, state: InstancesState): SyncStandbyNamesConfig {
  const sync = cluster.spec.postgresql?.synchronous;
  if (!sync) return legacy(cluster, state);
  const method = sync.method.toUpperCase();
  const cap = (names: string[]) =>
    sync.maxStandbyNamesFromCluster !== undefined && names.length > sync.maxStandbyNamesFromCluster ? names.slice(0, sync.maxStandbyNamesFromCluster) : names;

  if (sync.dataDurability === 'preferred') {
    // explicitSynchronousStandbyNamesDataDurabilityPreferred
    const names = cap(sortedNonPrimaryHealthy(state));
    if (names.length === 0) return { method: '', number: 0, standbyNames: [] };
    return { method, number: Math.min(sync.number, names.length), standbyNames: names };
  }

  // explicitSynchronousStandbyNamesDataDurabilityRequired
  let names = [...(sync.standbyNamesPre ?? []), ...cap(sortedInstanceNames(cluster, state)), ...(sync.standbyNamesPost ?? [])];
  if (names.length === 0) names = [`${clusterName(cluster)}-placeholder`];
  return { method, number: sync.number, standbyNames: names };
}

/** legacy.go, legacySynchronousStandbyNames / getSyncReplicasData, without syncReplicaElectionConstraint. */
function legacy(cluster: CnpgCluster, state: InstancesState): SyncStandbyNamesConfig {
  // readyReplicas = healthy pods minus one (the primary, assumed healthy here).
  const readyReplicas = sortedNonPrimaryHealthy(state).length;
  const min = cluster.spec.minSyncReplicas ?? 0;
  let syncReplicas = cluster.spec.maxSyncReplicas ?? 0;
  if (readyReplicas < syncReplicas) syncReplicas = min;
  if (readyReplicas < min) syncReplicas = readyReplicas;
  const electable = sortedNonPrimaryHealthy(state);
  if (electable.length < syncReplicas) syncReplicas = electable.length;
  if (electable.length > 0 && syncReplicas > 0) return { method: 'ANY', number: syncReplicas, standbyNames: electable };
  return { method: '', number: 0, standbyNames: [] };
}

/** configuration.go, SynchronousStandbyNamesConfig.String. */
function renderSynchronousStandbyNames(config: SyncStandbyNamesConfig): string {
  if (config.standbyNames.length === 0) return '';
  const quoted = config.standbyNames.map((name) => `"${name.replaceAll('"', '""')}"`);
  return `${config.method} ${config.number} (${quoted.join(',')})`;
}

/** The synchronous_standby_names value the operator writes ("" = it writes none: asynchronous). */
export function synchronousStandbyNames(cluster: CnpgCluster, state: InstancesState): string {
  return renderSynchronousStandbyNames(synchronousStandbyNamesConfig(cluster, state));
}

/** synchronous_commit on the server: the user's parameter, else PostgreSQL's default; the operator sets none. */
export function synchronousCommit(cluster: CnpgCluster): string {
  const value: unknown = cluster.spec.postgresql?.parameters?.synchronous_commit;
  // A YAML 1.1 reader turns an unquoted `on` into true; PostgreSQL reads both as on.
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (value === undefined) return 'on';
  throw new Error(`synchronous_commit is not a setting: ${JSON.stringify(value)}`);
}

/**
 * replicas_quorum.go, evaluateQuorumCheckWithStatus: may the operator fail over, given the last
 * configuration the primary published and the instances that are ready and report their status?
 */
export function failoverQuorumAllows(
  published: SyncStandbyNamesConfig,
  primary: string,
  promotable: readonly string[],
): { allowed: boolean; r: number; w: number; n: number } {
  // instance_sync.go, updateFailoverQuorumObject: the primary is not in the standby names.
  const nodeSet = new Set(published.standbyNames.filter((name) => name !== primary));
  const w = published.number;
  const r = [...new Set(promotable)].filter((name) => nodeSet.has(name)).length;
  const n = nodeSet.size;
  if (w <= 0 || n === 0) return { allowed: false, r, w, n };
  return { allowed: r + w > n, r, w, n };
}

/** An instance as the operator sees it at a failover (pkg/postgres/status.go, PostgresqlStatus). */
export interface InstanceStatus {
  readonly name: string;
  readonly isPrimary: boolean;
  readonly error?: string;
  /** pg_last_wal_receive_lsn(), '' when NULL. */
  readonly receivedLsn: string;
  /** pg_last_wal_replay_lsn(), '' when NULL. */
  readonly replayLsn: string;
}

/** An LSN "X/Y" as a number; anything unparsable ("" for NULL) as 0, as LSN.Less does (cloudnative-pg/machinery v0.5.0, pkg/types/lsn.go). */
export function lsnValue(lsn: string): bigint {
  const match = /^([0-9A-Fa-f]+)\/([0-9A-Fa-f]+)$/.exec(lsn);
  if (!match) return 0n;
  return (BigInt(`0x${match[1]}`) << 32n) + BigInt(`0x${match[2]}`);
}

/** status.go, PostgresqlStatusList.Less (with probes.go's received >= replayed fix): the order in which the operator elects. */
export function electionOrder(statuses: readonly InstanceStatus[]): InstanceStatus[] {
  const received = (s: InstanceStatus) => {
    const r = lsnValue(s.receivedLsn);
    const p = lsnValue(s.replayLsn);
    return r < p ? p : r;
  };
  return [...statuses].sort((a, b) => {
    if ((a.error === undefined) !== (b.error === undefined)) return a.error === undefined ? -1 : 1;
    if (a.isPrimary && b.isPrimary) return a.name < b.name ? -1 : 1;
    if (a.isPrimary !== b.isPrimary) return a.isPrimary ? -1 : 1;
    const ra = received(a);
    const rb = received(b);
    if (ra !== rb) return ra > rb ? -1 : 1;
    const pa = lsnValue(a.replayLsn);
    const pb = lsnValue(b.replayLsn);
    if (pa !== pb) return pa > pb ? -1 : 1;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
}
