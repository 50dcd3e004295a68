// Rules about who may do what: API permissions, internet egress, image admission, the edge's
// certificate and TLS, and Kong's own hardening.
import { containersOf, type K8sObject, podTemplate } from '../objects';
import { type Rule, v } from './rule';
import { cidrsOverlap } from '../../lib/cidr';

/** Verbs that let a role grant itself or others more than it has. */
const ESCALATING_VERBS = ['escalate', 'bind', 'impersonate'];
const READ_VERBS = ['get', 'list', 'watch'];
/** What an `except` of an internet ipBlock must leave out: the private ranges and the cloud metadata address. */
const NOT_INTERNET = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.169.254/32'];
const ACME_SERVERS = ['https://acme-v02.api.letsencrypt.org/directory', 'https://acme-staging-v02.api.letsencrypt.org/directory'];

/** Verbs that create or change an object. */
const WRITE_VERBS = ['create', 'update', 'patch'];
/** What people never create or change: Pods, a shell in one, and the workloads Argo CD deploys. */
const PEOPLE_NEVER_WRITE = [
  'pods',
  'pods/exec',
  'pods/attach',
  'pods/ephemeralcontainers',
  'deployments',
  'statefulsets',
  'daemonsets',
  'replicasets',
  'replicationcontrollers',
  'cronjobs',
];
type PolicyRule = { apiGroups?: string[]; resources?: string[]; verbs?: string[]; resourceNames?: string[] };

/** The Kong containers of a workload (those with KONG_PROXY_LISTEN), with their plain env values by name. */
function kongContainers(obj: K8sObject): { path: string; env: Record<string, string | undefined> }[] {
  const t = podTemplate(obj);
  if (!t) return [];
  return containersOf(t)
    .map(({ path, container }) => ({ path, env: Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value])) }))
    .filter(({ env }) => 'KONG_PROXY_LISTEN' in env);
}

export const ACCESS_RULES: readonly Rule[] = [
  {
    id: 'rbac-least-privilege',
    description: 'Roles name their API groups, resources and verbs (no wildcards), never touch Secrets or grant escalation; ClusterRoles only read',
    refs: ['issue 8 identity', 'KSV-0041', 'KSV-0044', 'KSV-0045', 'KSV-0046', 'CKV_K8S_49', 'CKV_K8S_155'],
    check: (obj) => {
      if (obj.kind !== 'Role' && obj.kind !== 'ClusterRole') return [];
      const rules = (obj as unknown as { rules?: PolicyRule[] }).rules ?? [];
      return rules.flatMap((r, i) => {
        const at = `rules.${i}`;
        const out: ReturnType<typeof v>[] = [];
        for (const key of ['apiGroups', 'resources', 'verbs', 'resourceNames'] as const) {
          if ((r[key] ?? []).includes('*')) out.push(v(`${at}.${key}`, 'must not be "*": name exactly what the workload uses'));
        }
        const bad = (r.verbs ?? []).filter((verb) => ESCALATING_VERBS.includes(verb));
        if (bad.length) out.push(v(`${at}.verbs`, `must not grant ${bad.join(', ')} (privilege escalation)`));
        if ((r.resources ?? []).some((res) => res === 'secrets' || res.startsWith('secrets/')))
          out.push(v(`${at}.resources`, 'must not reach Secrets: mount the one Secret the workload needs instead'));
        if (obj.kind === 'ClusterRole') {
          const writes = (r.verbs ?? []).filter((verb) => !READ_VERBS.includes(verb));
          if (writes.length)
            out.push(
              v(`${at}.verbs`, `a ClusterRole may only read (get, list, watch), not ${writes.join(', ')}: write through a Role in the namespaces concerned`),
            );
        }
        return out;
      });
    },
  },

  {
    id: 'internet-egress',
    description: 'egress to the internet names its ports and leaves out the private ranges and the cloud metadata address',
    refs: ['R13'],
    check: (obj) => {
      if (obj.kind !== 'NetworkPolicy') return [];
      const egress = (obj.spec as { egress?: { to?: { ipBlock?: { cidr: string; except?: string[] } }[]; ports?: unknown[] }[] }).egress ?? [];
      return egress.flatMap((rule, i) =>
        (rule.to ?? []).flatMap((peer, j) => {
          const block = peer.ipBlock;
          if (!block || (block.cidr !== '0.0.0.0/0' && block.cidr !== '::/0')) return [];
          const at = `spec.egress.${i}.to.${j}.ipBlock`;
          const out: ReturnType<typeof v>[] = [];
          const missing = block.cidr === '0.0.0.0/0' ? NOT_INTERNET.filter((c) => !(block.except ?? []).includes(c)) : [];
          if (missing.length)
            out.push(
              v(`${at}.except`, `must leave out ${missing.join(', ')}: the internet is not the cluster's private network or the cloud metadata endpoint`),
            );
          if (!rule.ports?.length) out.push(v(`spec.egress.${i}.ports`, 'internet egress must name its ports (SMTP 587, HTTPS 443, ...)'));
          return out;
        }),
      );
    },
  },

  {
    id: 'image-verification',
    description: 'image verification policies check signatures without rewriting pods, require a signature and fail closed',
    refs: ['R22', 'R25'],
    check: (obj) => {
      if (obj.kind !== 'ClusterPolicy' && obj.kind !== 'Policy') return [];
      const spec = obj.spec as {
        failurePolicy?: string;
        rules?: { verifyImages?: { mutateDigest?: boolean; verifyDigest?: boolean; required?: boolean; attestors?: unknown[] }[] }[];
      };
      const out: ReturnType<typeof v>[] = [];
      const verifying = (spec.rules ?? []).some((r) => r.verifyImages?.length);
      if (verifying && spec.failurePolicy !== 'Fail') out.push(v('spec.failurePolicy', 'must be Fail: without Kyverno, pods must not start unchecked'));
      (spec.rules ?? []).forEach((r, i) =>
        (r.verifyImages ?? []).forEach((vi, j) => {
          const at = `spec.rules.${i}.verifyImages.${j}`;
          if (vi.mutateDigest !== false) out.push(v(`${at}.mutateDigest`, 'must be false: rewriting image references puts Argo CD out of sync'));
          if (vi.verifyDigest !== true) out.push(v(`${at}.verifyDigest`, 'must be true (Kyverno default, written out so Argo CD stays in sync)'));
          if (vi.required !== true) out.push(v(`${at}.required`, 'must be true: an image without a signature is refused'));
          if (!vi.attestors?.length) out.push(v(`${at}.attestors`, 'must name who signs the images'));
        }),
      );
      return out;
    },
  },

  {
    id: 'people-start-templates-only',
    description:
      'a group of people that may create Jobs in a namespace is held there by an enforced, fail-closed admission rule on its Jobs; people create no Pods or other workloads',
    refs: ['issue 16 operators', 'Kyverno match subjects'],
    check: (obj, ctx) => {
      if (obj.kind !== 'RoleBinding' && obj.kind !== 'ClusterRoleBinding') return [];
      const binding = obj as unknown as { roleRef: { kind: string; name: string }; subjects?: { kind: string; name: string }[] };
      const groups = (binding.subjects ?? []).filter((s) => s.kind === 'Group').map((s) => s.name);
      const role = ctx.objects.find(
        (o) =>
          o.kind === binding.roleRef.kind &&
          o.metadata.name === binding.roleRef.name &&
          (o.kind === 'ClusterRole' || o.metadata.namespace === obj.metadata.namespace),
      );
      if (!groups.length || !role) return [];
      const rules = (role as unknown as { rules?: PolicyRule[] }).rules ?? [];
      const grants = (resources: string[]) =>
        rules.some((r) => (r.resources ?? []).some((x) => resources.includes(x)) && (r.verbs ?? []).some((verb) => WRITE_VERBS.includes(verb)));
      const out: ReturnType<typeof v>[] = [];
      if (grants(PEOPLE_NEVER_WRITE))
        out.push(
          v(
            'roleRef',
            `${role.kind} ${binding.roleRef.name} lets people create or change Pods or workloads other than Jobs: Argo CD deploys workloads, people start on-demand Jobs`,
          ),
        );
      if (!grants(['jobs'])) return out;
      const ns = obj.metadata.namespace;
      for (const group of groups) {
        const held =
          ns !== undefined &&
          ctx.objects.some((p) => {
            const spec = p.spec as
              | {
                  failurePolicy?: string;
                  background?: boolean;
                  rules?: {
                    validate?: { failureAction?: string };
                    match?: { any?: { resources?: { kinds?: string[]; namespaces?: string[] }; subjects?: { kind: string; name: string }[] }[] };
                  }[];
                }
              | undefined;
            return (
              p.kind === 'ClusterPolicy' &&
              spec?.failurePolicy === 'Fail' &&
              spec.background === false &&
              (spec.rules ?? []).some(
                (r) =>
                  r.validate?.failureAction === 'Enforce' &&
                  (r.match?.any ?? []).some(
                    (m) =>
                      m.resources?.kinds?.includes('Job') &&
                      m.resources.namespaces?.includes(ns) &&
                      m.subjects?.some((s) => s.kind === 'Group' && s.name === group),
                  ),
              )
            );
          });
        if (!held)
          out.push(
            v(
              'subjects',
              `the group ${group} may create Jobs${ns ? ` in ${ns}` : ' everywhere'}, and no enforced, fail-closed ClusterPolicy rule matches its Jobs there: such a Job runs any image, Secret, ServiceAccount and labels of the namespace`,
            ),
          );
      }
      return out;
    },
  },

  {
    id: 'internal-certificates',
    description:
      "certificates of the platform's own CAs (PostgreSQL TLS): leaves live at most 90 days and rotate their key, servers list their DNS names, CAs are marked as such",
    refs: ['R19'],
    check: (obj, ctx) => {
      if (obj.kind !== 'Certificate' || !issuedByCa(obj, ctx.objects)) return [];
      const spec = obj.spec as {
        isCA?: boolean;
        dnsNames?: string[];
        usages?: string[];
        duration?: string;
        privateKey?: { rotationPolicy?: string; algorithm?: string };
      };
      const out: ReturnType<typeof v>[] = [];
      if (spec.privateKey?.algorithm !== 'ECDSA') out.push(v('spec.privateKey.algorithm', 'must be ECDSA'));
      // A CA lives long and keeps its key (every client bundle trusts it); leaves are short-lived.
      if (spec.isCA) return out;
      const hours = Number(/^(\d+)h$/.exec(spec.duration ?? '')?.[1] ?? Number.NaN);
      if (!(hours <= 90 * 24)) out.push(v('spec.duration', 'must be at most 2160h (90 days), written in hours'));
      if (spec.privateKey?.rotationPolicy !== 'Always') out.push(v('spec.privateKey.rotationPolicy', 'must be Always: a renewal gets a new key'));
      if (spec.usages?.includes('server auth') && !spec.dnsNames?.length)
        out.push(v('spec.dnsNames', 'a server certificate must list the host names clients verify'));
      return out;
    },
  },

  {
    id: 'edge-certificates',
    description:
      "certificates list DNS names, rotate their private key and come from a ClusterIssuer; ACME issuers use Let's Encrypt with their own account key",
    refs: ['R19'],
    check: (obj, ctx) => {
      if (obj.kind === 'Certificate' && !issuedByCa(obj, ctx.objects)) {
        const spec = obj.spec as { dnsNames?: string[]; commonName?: string; privateKey?: { rotationPolicy?: string }; issuerRef?: { kind?: string } };
        const out: ReturnType<typeof v>[] = [];
        if (!spec.dnsNames?.length) out.push(v('spec.dnsNames', 'must list the host names'));
        if (spec.commonName) out.push(v('spec.commonName', 'must not be set: browsers read dnsNames only'));
        if (spec.privateKey?.rotationPolicy !== 'Always') out.push(v('spec.privateKey.rotationPolicy', 'must be Always: a renewal gets a new key'));
        if (spec.issuerRef?.kind !== 'ClusterIssuer') out.push(v('spec.issuerRef.kind', 'must be ClusterIssuer'));
        return out;
      }
      if (obj.kind === 'ClusterIssuer') {
        const acme = (obj.spec as { acme?: { server: string; privateKeySecretRef: { name: string } } }).acme;
        if (!acme) return [];
        const out: ReturnType<typeof v>[] = [];
        if (!ACME_SERVERS.includes(acme.server)) out.push(v('spec.acme.server', `must be one of ${ACME_SERVERS.join(', ')}`));
        const shared = ctx.objects.filter(
          (o) =>
            o !== obj &&
            o.kind === 'ClusterIssuer' &&
            (o.spec as { acme?: { privateKeySecretRef: { name: string } } }).acme?.privateKeySecretRef.name === acme.privateKeySecretRef.name,
        );
        if (shared.length)
          out.push(
            v(
              'spec.acme.privateKeySecretRef.name',
              `is shared with ${shared.map((o) => o.metadata.name).join(', ')}: each ACME issuer needs its own account key`,
            ),
          );
        return out;
      }
      return [];
    },
  },

  {
    id: 'kong-edge',
    description: 'Kong serves TLS with the modern cipher suite, hides its version, reports nothing home and keeps its admin API closed',
    refs: ['R20', 'R21'],
    check: (obj) =>
      kongContainers(obj).flatMap(({ path, env }) => {
        const out: ReturnType<typeof v>[] = [];
        const expect = { KONG_SSL_CIPHER_SUITE: 'modern', KONG_HEADERS: 'off', KONG_ANONYMOUS_REPORTS: 'off', KONG_ADMIN_LISTEN: 'off' } as const;
        for (const [name, value] of Object.entries(expect)) if (env[name] !== value) out.push(v(`${path}.env.${name}`, `must be "${value}"`));
        if (!/\bssl\b/.test(env.KONG_PROXY_LISTEN ?? '')) out.push(v(`${path}.env.KONG_PROXY_LISTEN`, 'must include a TLS listener'));
        return out;
      }),
  },
  {
    id: 'trusted-proxies',
    description:
      "Kong believes no forwarded header, and the PROXY protocol only from ranges that hold no pod and no node: nothing inside the cluster can claim another client's address",
    refs: ['issue 16', 'kong.conf trusted_ips, real_ip_header'],
    check: (obj, ctx) =>
      kongContainers(obj).flatMap(({ path, env }) => {
        const out: ReturnType<typeof v>[] = [];
        const header = env.KONG_REAL_IP_HEADER;
        const trusted = (env.KONG_TRUSTED_IPS ?? '')
          .split(',')
          .map((c) => c.trim())
          .filter(Boolean);
        if (header !== undefined && header !== 'proxy_protocol')
          out.push(
            v(`${path}.env.KONG_REAL_IP_HEADER`, `"${header}" is a header any client or pod can write: use the connection's address, or proxy_protocol`),
          );
        if (header === 'proxy_protocol' && !/\bssl\b[^,]*\bproxy_protocol\b/.test(env.KONG_PROXY_LISTEN ?? ''))
          out.push(v(`${path}.env.KONG_PROXY_LISTEN`, 'the TLS listener must require the PROXY protocol when the address comes from it'));
        for (const cidr of trusted) {
          const clash = [...ctx.ranges.pods.map((c) => ['pod', c]), ...ctx.ranges.nodes.map((c) => ['node', c])].find(([, c]) => cidrsOverlap(cidr, c!));
          if (cidr.endsWith('/0') || clash)
            out.push(
              v(
                `${path}.env.KONG_TRUSTED_IPS`,
                `${cidr} ${clash ? `overlaps the ${clash[0]} range ${clash[1]}` : 'is every address'}: a pod or node there could forge any client's address`,
              ),
            );
        }
        return out;
      }),
  },
];

/** A Certificate signed by one of the platform's own CA ClusterIssuers (not the edge's ACME or self-signed issuer), or a CA certificate itself. */
function issuedByCa(obj: K8sObject, objects: readonly K8sObject[]): boolean {
  const spec = obj.spec as { isCA?: boolean; issuerRef?: { name?: string } };
  if (spec.isCA) return true;
  const issuer = objects.find((o) => o.kind === 'ClusterIssuer' && o.metadata.name === spec.issuerRef?.name);
  return !!(issuer?.spec as { ca?: unknown } | undefined)?.ca;
}
