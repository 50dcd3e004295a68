// The environment model: the shipped environments parse, and each kind of bad input stops
// with one message that names the field path and says what to do.
import { describe, expect, it } from 'vitest';
import { dev } from '../../environments/dev';
import { production } from '../../environments/production';
import { staging } from '../../environments/staging';
import { EnvironmentError, parseEnvironment } from '../../environments/schema';
import { quantity } from '../../lib/quantity';

// Bad cases mutate a copy of a shipped environment into shapes its type forbids.
type Env = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const clone = (x: unknown): Env => structuredClone(x);

function failure(input: unknown): string {
  try {
    parseEnvironment(input);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvironmentError);
    return (error as Error).message;
  }
  throw new Error('expected the environment to be rejected');
}

/** The lines of a refusal that name a field: one per mistake. */
const listedFields = (message: string): string[] => message.split('\n').filter((l) => l.startsWith('  - '));

describe('shipped environments', () => {
  it.each([dev, staging, production])('$name parses', (env) => {
    expect(parseEnvironment(env).name).toBe(env.name);
  });

  it('dev fits a laptop: namespace quotas cap all requests at 4 CPU and 8 GiB', () => {
    const env = parseEnvironment(dev);
    const quotas = Object.values(env.namespaces).map((n) => n.quota.requests);
    expect(quotas.reduce((t, q) => t + quantity(q.cpu), 0)).toBeLessThanOrEqual(4);
    expect(quotas.reduce((t, q) => t + quantity(q.memory), 0)).toBeLessThanOrEqual(8 * 2 ** 30);
  });
});

interface BadCase {
  what: string;
  base: typeof dev | typeof staging;
  breakIt: (env: Env) => void;
  /** The message must contain each of these. */
  says: string[];
  /** How many fields the message lists: one per mistake. @default 1 */
  lines?: number;
}

const CASES: BadCase[] = [
  { what: 'negative replicas', base: staging, breakIt: (e) => (e.app.worker.replicas = -1), says: ['app.worker.replicas', 'must be 0 or more', 'got -1'] },
  {
    what: 'more Redis instances than nodes',
    base: staging,
    breakIt: (e) => (e.nodes = 2),
    says: ['components.redis.replicas', '3 instances need 3 nodes, one each, but nodes is 2'],
  },
  {
    what: 'two Redis instances',
    base: staging,
    breakIt: (e) => (e.components.redis.replicas = 2),
    says: ['components.redis.replicas', 'must be 1 (one instance, no failover) or 3 or 5'],
  },
  {
    what: 'a Redis quorum above the Sentinels',
    base: staging,
    breakIt: (e) => (e.components.redis.sentinel = { quorum: 4 }),
    says: ['components.redis.sentinel.quorum', '4 is more than the 3 Sentinels'],
  },
  {
    what: 'min-replicas-to-write that one lost replica would breach',
    base: staging,
    breakIt: (e) => (e.components.redis.minReplicasToWrite = 2),
    says: ['components.redis.minReplicasToWrite', 'set at most 1'],
  },
  {
    what: 'local images outside dev',
    base: staging,
    breakIt: (e) => (e.app.localImages = true),
    says: ['app.localImages', "is for dev's local builds; staging pulls its images from the registry by digest"],
  },
  {
    what: 'a Prometheus pair on one node',
    base: dev,
    breakIt: (e) => (e.observability.prometheus.replicas = 2),
    says: ['observability.prometheus.replicas', '2 instances need 2 nodes, one each, but nodes is 1'],
  },
  {
    what: 'three Prometheus servers',
    base: staging,
    breakIt: (e) => (e.observability.prometheus.replicas = 3 as 2),
    says: ['observability.prometheus.replicas', 'must be 1 or 2'],
  },
  { what: 'fractional instances', base: dev, breakIt: (e) => (e.components.postgres.instances = 1.5), says: ['components.postgres.instances', 'whole number'] },
  {
    what: 'a limit below its request',
    base: staging,
    breakIt: (e) => (e.components.postgres.resources.limits.memory = '1Gi'),
    says: ['components.postgres.resources.limits.memory', 'limit 1Gi is below the request 2Gi', 'raise limits.memory or lower requests.memory'],
  },
  {
    what: 'a malformed quantity',
    base: dev,
    breakIt: (e) => (e.components.redis.resources.requests.memory = '128MB'),
    says: ['components.redis.resources.requests.memory', '"128MB" is not a Kubernetes quantity', 'write it like "512Mi"'],
  },
  {
    what: 'a malformed storage size',
    base: staging,
    breakIt: (e) => (e.storage.sizes.postgres = 'fifty'),
    says: ['storage.sizes.postgres', 'is not a Kubernetes quantity'],
  },
  { what: 'a missing domain in staging', base: staging, breakIt: (e) => delete e.domain, says: ['domain', 'is required for staging', 'public DNS name'] },
  {
    what: 'a missing domain in production',
    base: staging,
    breakIt: (e) => {
      e.name = 'production';
      delete e.domain;
    },
    says: ['Environment "production"', 'domain: is required for production'],
    // Two mistakes: no domain, and staging's Let's Encrypt issuer.
    lines: 2,
  },
  { what: 'a malformed domain', base: staging, breakIt: (e) => (e.domain = 'https://defi.example.com'), says: ['domain', 'must be a DNS name'] },
  {
    what: 'a PDB that blocks every eviction',
    base: staging,
    breakIt: (e) => (e.components.redis.disruption = { minAvailable: 3 }),
    says: ['components.redis.disruption.minAvailable', 'blocks every eviction', 'set it below 3 or use maxUnavailable: 1'],
  },
  {
    what: 'a PDB on a Redis count that is not allowed (the count is the mistake)',
    base: staging,
    breakIt: (e) => {
      e.components.redis.replicas = 2;
      e.components.redis.disruption = { minAvailable: 2 };
    },
    says: ['components.redis.replicas', 'must be 1 (one instance, no failover) or 3 or 5'],
  },
  {
    what: 'maxUnavailable 0',
    base: staging,
    breakIt: (e) => (e.components.redis.disruption = { maxUnavailable: 0 }),
    says: ['components.redis.disruption', 'must be 1 or more'],
  },
  {
    what: 'a misspelled field',
    base: dev,
    breakIt: (e) => (e.components.postgres.replicsa = 1),
    says: ['components.postgres', 'unknown field(s) replicsa', 'fix the spelling'],
  },
  {
    what: "a latency threshold between Kong's buckets",
    base: staging,
    breakIt: (e) => (e.observability.slos.apiLatency.thresholdMs = 300),
    says: [
      'observability.slos.apiLatency.thresholdMs',
      "300 ms is not a bucket bound of Kong's latency histogram",
      'use one of 25, 50, 80, 100, 250, 400, 700, 1000',
    ],
  },
  {
    what: 'an objective below the range',
    base: staging,
    breakIt: (e) => (e.observability.slos.apiAvailability.objective = 90),
    says: ['observability.slos.apiAvailability.objective', 'must be 95 or more'],
  },
  {
    what: 'an objective given as a ratio',
    base: staging,
    breakIt: (e) => (e.observability.slos.authAvailability.objective = 0.999),
    says: ['observability.slos.authAvailability.objective', 'must be 95 or more (a percentage such as 99.9)'],
  },
  {
    what: 'an objective with no room for a budget',
    base: staging,
    breakIt: (e) => (e.observability.slos.realtimeConnections.objective = 99.999),
    says: ['observability.slos.realtimeConnections.objective', 'must be 99.99 or less'],
  },
  {
    what: 'an SLO window in weeks',
    base: staging,
    breakIt: (e) => (e.observability.slos.apiAvailability.window = '4w'),
    says: ['observability.slos.apiAvailability.window', 'must be whole days such as "30d"'],
  },
  {
    what: 'an SLO window shorter than a week',
    base: staging,
    breakIt: (e) => (e.observability.slos.apiAvailability.window = '3d'),
    says: ['observability.slos.apiAvailability.window', '3d is out of range: use 7d to 90d'],
  },
  {
    what: 'an SLO window longer than Prometheus keeps data',
    base: dev,
    breakIt: (e) => (e.observability.slos.apiLatency.window = '30d'),
    says: [
      'observability.slos.apiLatency.window',
      '30d is longer than Prometheus keeps data (observability.prometheus.retention 7d)',
      'shorten the window or raise the retention',
    ],
  },
  {
    what: 'a misspelled SLO',
    base: dev,
    breakIt: (e) => (e.observability.slos.apiAvailabilty = { objective: 99 }),
    says: ['observability.slos', 'unknown field(s) apiAvailabilty'],
  },
  { what: 'CLI secrets outside dev', base: staging, breakIt: (e) => (e.secrets = { source: 'cli' }), says: ['secrets.source', '"cli" is for dev only'] },
  { what: 'an unknown environment name', base: dev, breakIt: (e) => (e.name = 'qa'), says: ['name', 'must be one of dev, staging, production'] },
  { what: 'a bad namespace prefix', base: dev, breakIt: (e) => (e.namespacePrefix = 'Team_A'), says: ['namespacePrefix', 'ending in "-"'] },
  {
    what: 'components that do not fit the namespace quota',
    base: dev,
    breakIt: (e) => (e.namespaces.supabase.quota.requests.cpu = '1'),
    says: [
      'namespaces.supabase.quota.requests.cpu: 1 is less than the ',
      ' cores the supabase pods need at their largest',
      'postgres 1 pod ',
      'raise the quota',
    ],
  },
  {
    what: 'a container above the LimitRange max',
    base: staging,
    breakIt: (e) => (e.components.postgres.resources.limits.memory = '64Gi'),
    says: ['components.postgres.resources.limits.memory', "above the supabase namespace's LimitRange max 32Gi"],
  },
  {
    what: 'a LimitRange default above its max',
    base: dev,
    breakIt: (e) => (e.namespaces.app.limitRange = { ...e.namespaces.app.limitRange, max: { cpu: '100m', memory: '32Gi' } }),
    says: ['namespaces.app.limitRange.defaultLimit.cpu', 'above max.cpu 100m'],
  },
  {
    what: 'a WAL volume too small for the WAL',
    base: staging,
    breakIt: (e) => (e.components.postgres.walVolumeSize = '8Gi'),
    says: ['components.postgres.walVolumeSize', 'leaves too little room for WAL', 'at least 10Gi'],
  },
  {
    what: 'a self-signed certificate in production',
    base: staging,
    breakIt: (e) => {
      e.name = 'production';
      e.gateway.tls = { issuer: 'self-signed' };
    },
    says: ['gateway.tls.issuer', '"self-signed" is for dev only'],
  },
  {
    what: "Let's Encrypt staging in production",
    base: staging,
    breakIt: (e) => (e.name = 'production'),
    says: ['gateway.tls.issuer', 'production must use "letsencrypt-production"'],
  },
  {
    what: 'admin routes open to the internet',
    base: staging,
    breakIt: (e) => (e.gateway.adminCidrs = ['0.0.0.0/0']),
    says: ['gateway.adminCidrs', 'must not open the admin routes'],
  },
  {
    what: 'a PROXY protocol range that holds pods',
    base: staging,
    breakIt: (e) => (e.gateway.clientAddress = { mode: 'proxy-protocol', loadBalancerCidrs: ['203.0.113.0/24', '10.8.0.0/16'] }),
    says: ['gateway.clientAddress.loadBalancerCidrs.1', '10.8.0.0/16 overlaps the pod range 10.0.0.0/8', 'set network.podCidrs'],
  },
  {
    what: 'a PROXY protocol without load balancer ranges',
    base: staging,
    breakIt: (e) => (e.gateway.clientAddress = { mode: 'proxy-protocol', loadBalancerCidrs: [] }),
    says: ['gateway.clientAddress.loadBalancerCidrs', 'must list the addresses the load balancer connects from'],
  },
  {
    what: 'two Storage pods on the file backend',
    base: dev,
    breakIt: (e) => (e.supabase.storage.replicas = 2),
    says: ['supabase.storage.replicas', 'can run only one pod'],
  },
  {
    what: 'no mail relay without autoconfirm',
    base: staging,
    breakIt: (e) => delete e.supabase.smtp,
    says: ['supabase.smtp', 'is required unless mailerAutoconfirm'],
  },
  {
    what: 'autoscaling below its minimum',
    base: staging,
    breakIt: (e) => (e.supabase.rest.autoscaling.maxReplicas = 1),
    says: ['supabase.rest.autoscaling.maxReplicas', 'is below minReplicas 2'],
  },
  {
    what: 'replicas that disagree with autoscaling',
    base: staging,
    breakIt: (e) => (e.supabase.rest.replicas = 3),
    says: ['supabase.rest.replicas', 'set replicas to minReplicas'],
  },
  {
    what: 'a site URL that is not a URL',
    base: staging,
    breakIt: (e) => (e.supabase.siteUrl = 'app.example.com'),
    says: ['supabase.siteUrl', 'must be a URL'],
  },
  {
    what: 'more synchronous standbys than standbys',
    base: staging,
    breakIt: (e) => (e.components.postgres.synchronous = { method: 'any', number: 2, dataDurability: 'required' }),
    says: ['components.postgres.synchronous.number', 'need at least 3 instances, not 2'],
  },
  {
    what: 'quorum failover without required durability',
    base: staging,
    breakIt: (e) => (e.components.postgres.synchronous = { method: 'any', number: 1, dataDurability: 'preferred', failoverQuorum: true }),
    says: ['components.postgres.synchronous.failoverQuorum', 'needs method "any" and dataDurability "required"'],
  },
  // One instance conflicts with two other settings, each named once.
  {
    what: 'a read-only pooler without standbys',
    base: staging,
    breakIt: (e) => (e.components.postgres.instances = 1),
    says: ['components.postgres.poolers.ro', 'a read-only pooler needs standbys', 'components.postgres.synchronous.number'],
    lines: 2,
  },
  {
    what: 'a smart shutdown as long as the whole stop',
    base: staging,
    breakIt: (e) => (e.components.postgres.failover = { smartShutdownTimeoutSeconds: 120, stopDelaySeconds: 120 }),
    says: ['components.postgres.failover.smartShutdownTimeoutSeconds', 'must be below stopDelaySeconds 120'],
  },
  {
    what: 'volume-snapshot backups without a WAL archive',
    base: dev,
    breakIt: (e) => (e.backup.postgresSnapshots = { schedule: '0 3 * * *' }),
    says: ['backup.postgresSnapshots', 'need the WAL archive of an objectStore'],
  },
  {
    what: 'too little memory for PostgreSQL',
    base: dev,
    breakIt: (e) =>
      (e.components.postgres.resources = {
        requests: { cpu: '100m', memory: '128Mi', ephemeralStorage: '64Mi' },
        limits: { cpu: '1', memory: '128Mi', ephemeralStorage: '64Mi' },
      }),
    says: ['components.postgres.resources.limits.memory', 'too little for PostgreSQL: give it at least 256Mi'],
  },
  {
    what: 'no connection budget',
    base: dev,
    breakIt: (e) => delete e.components.postgres.tuning.maxConnections,
    says: ['components.postgres.tuning.maxConnections'],
  },
  {
    what: 'an unknown tuning profile',
    base: dev,
    breakIt: (e) => (e.components.postgres.tuning.profile = 'dw'),
    says: ['components.postgres.tuning.profile', 'must be "web" or "oltp"'],
  },
  {
    what: 'Redis allowed to fill all its memory',
    base: staging,
    breakIt: (e) => (e.components.redis.maxmemoryPercent = 100),
    says: ['components.redis.maxmemoryPercent', 'must be at most 90'],
  },
  {
    what: 'an unknown eviction policy',
    base: staging,
    breakIt: (e) => (e.components.redis.maxmemoryPolicy = 'lru'),
    says: ['components.redis.maxmemoryPolicy', 'must be one of noeviction'],
  },
  {
    what: 'a node CIDR without prefix',
    base: dev,
    breakIt: (e) => (e.network = { nodeCidrs: ['10.0.0.0'] }),
    says: ['network.nodeCidrs.0', '"10.0.0.0" has no prefix length: write a CIDR such as "10.0.0.0/8"'],
  },
  {
    what: 'too few api pods for a 10% canary',
    base: dev,
    breakIt: (e) => (e.app.api.replicas = 4),
    says: ['app.api.replicas', 'is 4, but the canary weights traffic by pod count', 'sends 25% of requests', 'at least 10 api pods'],
  },
  {
    what: 'an api autoscaling floor below 10',
    base: staging,
    breakIt: (e) => {
      e.app.api.replicas = 5;
      e.app.api.autoscaling.minReplicas = 5;
    },
    says: ['app.api.autoscaling.minReplicas', 'is 5', 'at least 10 api pods'],
  },
  {
    what: 'a production image without digest',
    base: staging,
    breakIt: (e) => {
      e.name = 'production';
      e.gateway.tls.issuer = 'letsencrypt-production';
      e.app.releases.api = 'ghcr.io/example-defi/api:1.2.3';
    },
    says: ['app.releases.api', 'has no digest', 'pinned by @sha256: digest'],
  },
  {
    what: 'an image without tag or digest',
    base: dev,
    breakIt: (e) => (e.app.releases.worker = 'ghcr.io/example-defi/worker'),
    says: ['app.releases.worker', 'neither tag nor digest', 'means "latest"'],
  },
  {
    what: 'the latest tag',
    base: dev,
    breakIt: (e) => (e.app.releases.scheduler = 'ghcr.io/example-defi/scheduler:latest'),
    says: ['app.releases.scheduler', '"latest" is not a version'],
  },
  {
    what: 'a malformed digest',
    base: dev,
    breakIt: (e) => (e.app.releases.api = 'ghcr.io/example-defi/api@sha256:abc'),
    says: ['app.releases.api', 'is not an image reference'],
  },
  {
    what: 'a canary pause without unit',
    base: staging,
    breakIt: (e) => (e.app.canary.steps[0]!.pause = '10'),
    says: ['app.canary.steps.0.pause', 'must be a duration such as "5m"'],
  },
  {
    what: 'a canary step too short to be measured',
    base: staging,
    breakIt: (e) => (e.app.canary.steps[1]!.pause = '90s'),
    says: ['app.canary.steps.1.pause', 'shorter than one measurement of the step', 'at least 3m'],
  },
  {
    what: 'canary weights that do not rise',
    base: staging,
    breakIt: (e) => (e.app.canary.steps[1]!.weight = 10),
    says: ['app.canary.steps.1.weight', '10 is not above the step before (10): the weights must rise'],
  },
  {
    what: 'a canary step at 100%',
    base: staging,
    breakIt: (e) => (e.app.canary.steps[1]!.weight = 100),
    says: ['app.canary.steps.1.weight', 'must be below 100: the release ends at 100% after the last step by itself'],
  },
  { what: 'a canary without steps', base: staging, breakIt: (e) => (e.app.canary.steps = []), says: ['app.canary.steps', 'must list at least one step'] },
  {
    what: 'an error ratio given in percent',
    base: staging,
    breakIt: (e) => (e.app.canary.analysis.maxErrorRatio = 1),
    says: ['app.canary.analysis.maxErrorRatio', 'must be below 1 (a ratio, 0.01 = 1%)'],
  },
  {
    what: 'an RPC endpoint over plain HTTP',
    base: staging,
    breakIt: (e) => (e.app.rpcEndpoints = ['http://rpc.example.com']),
    says: ['app.rpcEndpoints.0', 'must be an https:// URL'],
  },
  {
    what: 'a backup volume smaller than two Redis snapshots',
    base: staging,
    breakIt: (e) => (e.backup.volumeSize = '6Gi'),
    says: ['backup.volumeSize', 'cannot hold two snapshots of the 5Gi Redis volume', 'at least twice storage.sizes.redis'],
  },
  {
    what: 'a base-backup schedule that is not cron',
    base: dev,
    breakIt: (e) => (e.backup.baseBackup.schedule = 'daily'),
    says: ['backup.baseBackup.schedule', '"daily" has 1 field: write five fields (minute hour day-of-month month day-of-week)'],
  },
  {
    what: 'keeping archived backups for no days',
    base: staging,
    breakIt: (e) => (e.backup.objectStore!.retentionDays = 0),
    says: ['backup.objectStore.retentionDays', 'must be 1 or more'],
  },
  {
    what: 'a signing repository given as a URL',
    base: staging,
    breakIt: (e) => (e.app.signing.repository = 'https://github.com/example-defi/supabase-platform'),
    says: ['app.signing.repository', 'owner/name', 'not a URL'],
  },
  {
    what: 'a signing repository named ..',
    base: staging,
    breakIt: (e) => (e.app.signing.repository = 'example-defi/..'),
    says: ['app.signing.repository', 'owner/name'],
  },
  { what: 'a drill with no time limit', base: staging, breakIt: (e) => (e.backup.drill.maxRtoMinutes = 0), says: ['backup.drill.maxRtoMinutes'] },
  {
    what: 'more volume claims than the quota allows',
    base: dev,
    breakIt: (e) => (e.namespaces.supabase.quota.persistentVolumeClaims = 2),
    says: ['namespaces.supabase.quota.persistentVolumeClaims', '2 is less than the 5 volume claims the supabase pods need', 'postgres 1 pod 2 volume claims'],
  },
  // Cron schedules as Kubernetes reads them (lib/cron.ts; more cases in cron.test.ts).
  {
    what: 'a cron minute out of range',
    base: staging,
    breakIt: (e) => (e.backup.redis.schedule = '61 * * * *'),
    says: ['backup.redis.schedule', '"61 * * * *" is not a valid schedule', 'got value 61 expected range 0-59'],
  },
  {
    what: 'a schedule in words',
    base: staging,
    breakIt: (e) => (e.backup.drill.schedule = 'at 2 am every day'),
    says: ['backup.drill.schedule', '"at 2 am every day"', '"at" in the minute field is not a value Kubernetes takes'],
  },
  {
    what: 'a time zone in the schedule',
    base: staging,
    breakIt: (e) => (e.backup.volumeSnapshots.schedule = 'TZ=UTC 0 2 * * *'),
    says: ['backup.volumeSnapshots.schedule', 'Kubernetes refuses TZ= and CRON_TZ= in a schedule'],
  },
  {
    what: 'Sunday as 7',
    base: staging,
    breakIt: (e) => (e.backup.baseBackup.schedule = '0 3 * * 7'),
    says: ['backup.baseBackup.schedule', '7 in the day of week field is above its maximum 6 (Sunday is 0)'],
  },
  {
    what: 'a seconds field',
    base: staging,
    breakIt: (e) => (e.backup.redis.schedule = '0 0 2 * * *'),
    says: ['backup.redis.schedule', 'has 6 fields (Kubernetes has no seconds field)'],
  },
  {
    what: 'a macro Kubernetes does not document',
    base: staging,
    breakIt: (e) => (e.backup.redis.schedule = '@every 1h'),
    says: ['backup.redis.schedule', '@every is not one of the macros Kubernetes documents'],
  },
  // CIDRs and addresses parsed by ipaddr.js.
  {
    what: 'a prefix longer than IPv4 has',
    base: staging,
    breakIt: (e) => (e.gateway.adminCidrs = ['10.0.0.0/33']),
    says: ['gateway.adminCidrs.0', '"10.0.0.0/33": the prefix length must be a whole number from 0 to 32'],
  },
  {
    what: 'an octet above 255',
    base: staging,
    breakIt: (e) => (e.gateway.adminCidrs = ['999.8.0.0/16']),
    says: ['gateway.adminCidrs.0', '999.8.0.0 is not an IPv4 address (four numbers 0-255) or an IPv6 address'],
  },
  {
    what: 'a three-part IPv4 address',
    base: staging,
    breakIt: (e) => (e.network = { podCidrs: ['10.0.0/8'] }),
    says: ['network.podCidrs.0', 'is not an IPv4 address'],
  },
  {
    what: 'an IPv6 prefix above 128',
    base: staging,
    breakIt: (e) => (e.gateway.clientAddress = { mode: 'proxy-protocol', loadBalancerCidrs: ['2001:db8::/129'] }),
    says: ['gateway.clientAddress.loadBalancerCidrs.0', 'the prefix length must be a whole number from 0 to 128'],
  },
  {
    what: 'a malformed IPv6 address',
    base: staging,
    breakIt: (e) => (e.gateway.adminCidrs = ['2001:db8::g/64']),
    says: ['gateway.adminCidrs.0', 'is not an IPv4 address (four numbers 0-255) or an IPv6 address'],
  },
  {
    what: 'address bits beyond the prefix',
    base: staging,
    breakIt: (e) => (e.gateway.adminCidrs = ['10.8.1.0/16']),
    says: ['gateway.adminCidrs.0', 'has address bits set beyond the /16 prefix: write 10.8.0.0/16'],
  },
  // CORS outside dev.
  {
    what: 'CORS open to every site in production',
    base: staging,
    breakIt: (e) => {
      e.name = 'production';
      e.gateway.tls.issuer = 'letsencrypt-production';
      e.gateway.corsOrigins = ['*'];
    },
    says: ['gateway.corsOrigins.0', '"*" lets every web site call the production API from a browser'],
  },
  {
    what: 'CORS open to every site in staging by default',
    base: staging,
    breakIt: (e) => delete e.gateway.corsOrigins,
    says: ['gateway.corsOrigins.0', '"*" lets every web site call the staging API'],
  },
  {
    what: 'a plain-http CORS origin in staging',
    base: staging,
    breakIt: (e) => (e.gateway.corsOrigins = ['http://app.staging.defi.example.com']),
    says: ['gateway.corsOrigins.0', 'is plain http', 'use the https:// origin in staging'],
  },
  {
    what: 'a CORS origin with a path',
    base: dev,
    breakIt: (e) => (e.gateway.corsOrigins = ['https://app.example.com/']),
    says: ['gateway.corsOrigins.0', 'write "https://app.example.com" (no path'],
  },
  {
    what: 'a CORS origin that is not a URL',
    base: dev,
    breakIt: (e) => (e.gateway.corsOrigins = ['app.example.com']),
    says: ['gateway.corsOrigins.0', 'is not an origin'],
  },
  {
    what: 'a staging image without digest',
    base: staging,
    breakIt: (e) => (e.app.releases.worker = 'ghcr.io/example-defi/worker:1.2.3'),
    says: ['app.releases.worker', 'has no digest; staging runs only images pinned by @sha256: digest'],
  },
  // One refusal per mistake: checks that compute with a field that failed stay quiet.
  { what: 'zero nodes (no follow-on per replicated store)', base: staging, breakIt: (e) => (e.nodes = 0), says: ['nodes: must be 1 or more (nodes), got 0'] },
  {
    what: 'max_connections below its minimum (no follow-on connection budgets)',
    base: staging,
    breakIt: (e) => (e.components.postgres.tuning.maxConnections = 10),
    says: ['components.postgres.tuning.maxConnections: must be 20 or more (connections), got 10'],
  },
  {
    what: 'negative api replicas (no follow-on canary check)',
    base: dev,
    breakIt: (e) => (e.app.api.replicas = -1),
    says: ['app.api.replicas: must be 0 or more (pods), got -1'],
  },
  {
    what: 'an autoscaling minimum of zero (no follow-on against replicas)',
    base: staging,
    breakIt: (e) => (e.supabase.rest.autoscaling.minReplicas = 0),
    says: ['supabase.rest.autoscaling.minReplicas: must be 1 or more (pods), got 0'],
  },
  {
    what: 'an SLO window that fails two rules (reported once)',
    base: staging,
    breakIt: (e) => (e.observability.slos.apiAvailability.window = '4w'),
    says: ['observability.slos.apiAvailability.window: must be whole days such as "30d"'],
  },
  {
    what: 'a LimitRange max below its own default (not again per container)',
    base: dev,
    breakIt: (e) => (e.namespaces.app.limitRange = { ...e.namespaces.app.limitRange, max: { cpu: '100m', memory: '32Gi' } }),
    says: ['namespaces.app.limitRange.defaultLimit.cpu', 'above max.cpu 100m'],
  },
  {
    what: 'a container above the LimitRange max (not again in the quota sums)',
    base: staging,
    breakIt: (e) => (e.components.postgres.resources.limits.memory = '64Gi'),
    says: ['components.postgres.resources.limits.memory', "above the supabase namespace's LimitRange max 32Gi"],
  },
  {
    what: 'a storage quota too small, in the unit it is written in, each contributor once',
    base: staging,
    breakIt: (e) => (e.storage.sizes.postgres = '3000Gi'),
    says: [
      'namespaces.supabase.quota.requests.storage: 400Gi is less than the 9085Gi the supabase pods need',
      'postgres 2 pods 6040Gi, restore drill 1 pod 3020Gi, redis 3 pods 15Gi, backup Job 1 pod 10Gi; raise the quota',
    ],
  },
  {
    what: 'a CPU quota in millicores',
    base: dev,
    breakIt: (e) => (e.namespaces.app.quota.requests.cpu = '100m'),
    says: ['namespaces.app.quota.requests.cpu: 100m is less than the ', 'm the app pods need', 'api 13 pods 130m'],
  },
];

describe('bad environments', () => {
  it.each(CASES)('rejects $what with the field path and the fix', ({ base, breakIt, says, lines = 1 }) => {
    const env = clone(base);
    breakIt(env);
    const message = failure(env);
    for (const text of says) expect(message).toContain(text);
    expect(message).not.toMatch(/\n\s+at /); // no stack trace in the message
    // One line per mistake, each naming its field: no follow-on messages, no field twice.
    expect(listedFields(message), message).toHaveLength(lines);
    expect(message).not.toMatch(/\d{10,} bytes/);
  });

  it('lists every problem at once', () => {
    const env = clone(staging);
    env.components.redis.replicas = -1;
    delete env.domain;
    const message = failure(env);
    expect(listedFields(message)).toHaveLength(2);
  });
});
