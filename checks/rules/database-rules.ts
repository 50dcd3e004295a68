// The database's promises, checked on the synthesised CloudNativePG Cluster: production survives
// losing a machine without losing an acknowledged commit (three instances on separate nodes,
// quorum synchronous replication that blocks rather than degrades, quorum failover); every
// environment serves TLS only and keeps the operator's superuser off the network; environments
// with an object store archive WAL and schedule base backups.
import type { K8sObject } from '../objects';
import { type Rule, v } from './rule';

interface ClusterSpec {
  instances?: number;
  enableSuperuserAccess?: boolean;
  affinity?: { enablePodAntiAffinity?: boolean; podAntiAffinityType?: string; topologyKey?: string };
  topologySpreadConstraints?: { topologyKey?: string; whenUnsatisfiable?: string }[];
  postgresql?: { pg_hba?: string[]; synchronous?: { method?: string; number?: number; dataDurability?: string; failoverQuorum?: boolean } };
  plugins?: { name?: string; isWALArchiver?: boolean }[];
}

const isCluster = (obj: K8sObject) => obj.kind === 'Cluster' && obj.apiVersion === 'postgresql.cnpg.io/v1';
/** A Cluster bootstrapped from a backup: a restore or a drill, not the platform database. */
const isRecovery = (obj: K8sObject) => !!(obj.spec as { bootstrap?: { recovery?: unknown } } | undefined)?.bootstrap?.recovery;
const environmentOf = (obj: K8sObject) => obj.metadata.labels?.['app.kubernetes.io/instance'];
const archives = (spec: ClusterSpec) => (spec.plugins ?? []).some((p) => p.isWALArchiver);

export const DATABASE_RULES: readonly Rule[] = [
  {
    id: 'database-ha',
    description:
      'production PostgreSQL: at least 3 instances, required anti-affinity per node, zone spread, quorum synchronous replication with required durability and quorum failover',
    refs: ['issue 14', 'CloudNativePG replication.md, failover.md'],
    check: (obj) => {
      if (!isCluster(obj) || isRecovery(obj) || environmentOf(obj) !== 'production') return [];
      const spec = obj.spec as ClusterSpec;
      const out: ReturnType<typeof v>[] = [];
      if ((spec.instances ?? 1) < 3) out.push(v('spec.instances', `${spec.instances ?? 1}: production needs at least 3 instances`));
      const a = spec.affinity ?? {};
      if (a.enablePodAntiAffinity === false || a.podAntiAffinityType !== 'required' || a.topologyKey !== 'kubernetes.io/hostname') {
        out.push(v('spec.affinity', 'must require anti-affinity per node (podAntiAffinityType "required", topologyKey kubernetes.io/hostname)'));
      }
      if (!(spec.topologySpreadConstraints ?? []).some((t) => t.topologyKey === 'topology.kubernetes.io/zone' && t.whenUnsatisfiable === 'DoNotSchedule')) {
        out.push(v('spec.topologySpreadConstraints', 'must spread the instances over zones (DoNotSchedule)'));
      }
      const sync = spec.postgresql?.synchronous;
      if (!sync || sync.method !== 'any' || (sync.number ?? 0) < 1 || sync.dataDurability !== 'required' || sync.failoverQuorum !== true) {
        out.push(
          v('spec.postgresql.synchronous', 'must be quorum synchronous replication: method "any", number >= 1, dataDurability "required", failoverQuorum true'),
        );
      }
      return out;
    },
  },
  {
    id: 'database-access',
    description:
      "PostgreSQL: TLS only (no pg_hba line that admits a connection without it), no superuser access for the operator's postgres, no remote postgres login",
    refs: ['issue 14', 'CloudNativePG security.md'],
    check: (obj) => {
      if (!isCluster(obj)) return [];
      const spec = obj.spec as ClusterSpec;
      const out: ReturnType<typeof v>[] = [];
      if (spec.enableSuperuserAccess !== false) out.push(v('spec.enableSuperuserAccess', 'must be false: postgres gets no password and no remote login'));
      const hba = (spec.postgresql?.pg_hba ?? []).map((l) => l.trim().split(/\s+/));
      hba.forEach((cols, i) => {
        if (cols.at(-1) === 'reject') return;
        if (cols[0] !== 'hostssl') out.push(v(`spec.postgresql.pg_hba.${i}`, `"${cols.join(' ')}" admits connections without TLS: use hostssl`));
        if ((cols[2] ?? '').split(',').includes('postgres')) out.push(v(`spec.postgresql.pg_hba.${i}`, 'admits postgres from the network'));
      });
      const last = hba.at(-1)?.join(' ');
      if (last !== 'host all all all reject')
        out.push(v('spec.postgresql.pg_hba', 'must end with "host all all all reject" so the operator\'s password catch-all is never reached'));
      return out;
    },
  },
  {
    id: 'database-backups',
    description:
      'PostgreSQL outside dev: WAL archived to an object store and a scheduled base backup of the Cluster; a recovery Cluster never archives (it would write into the store it recovers from)',
    refs: ['issue 14', 'Barman Cloud Plugin usage.md'],
    check: (obj, ctx) => {
      if (!isCluster(obj)) return [];
      const spec = obj.spec as ClusterSpec;
      if (isRecovery(obj))
        return archives(spec) ? [v('spec.plugins', 'a recovery Cluster must not archive WAL: it would write into the store it recovers from')] : [];
      if (environmentOf(obj) === 'dev') return [];
      const out: ReturnType<typeof v>[] = [];
      if (!archives(spec)) out.push(v('spec.plugins', 'must archive WAL through the Barman Cloud Plugin (isWALArchiver)'));
      const scheduled = ctx.objects.some(
        (o) =>
          o.kind === 'ScheduledBackup' &&
          o.metadata.namespace === obj.metadata.namespace &&
          (o.spec as { cluster?: { name?: string } }).cluster?.name === obj.metadata.name,
      );
      if (!scheduled) out.push(v('(object)', 'no ScheduledBackup names this Cluster'));
      return out;
    },
  },
];
