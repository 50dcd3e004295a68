// Environment settings of the Supabase services: replicas, resources and autoscaling of each,
// and the product settings they need (site URL, sign-up, mail, the Storage backend, pools).
import { z } from 'zod';
import { checkDisruption, Resources, Storage, wholeNumber, workloadShape } from './fields';
import { crossField } from './follow-on';

/** Horizontal autoscaling on CPU; when set, the HPA owns the replica count. */
export const Autoscaling = z
  .strictObject({
    minReplicas: wholeNumber('pods', 1),
    maxReplicas: wholeNumber('pods', 1),
    /** Average CPU use, in percent of the request, the HPA aims for. @default 70 */
    targetCpuPercent: wholeNumber('percent', 10).max(100, { error: 'must be at most 100' }).default(70),
  })
  .superRefine(
    crossField((a, ctx) => {
      if (a.maxReplicas < a.minReplicas) {
        ctx.addIssue({ code: 'custom', path: ['maxReplicas'], message: `${a.maxReplicas} is below minReplicas ${a.minReplicas}: raise maxReplicas` });
      }
    }),
  );
export type Autoscaling = z.infer<typeof Autoscaling>;

/** A stateless service: replicas (or autoscaling), resources, disruption budget. */
export const StatelessService = z
  .strictObject({
    ...workloadShape,
    /** @default no HPA: `replicas` pods */
    autoscaling: Autoscaling.optional(),
  })
  .superRefine(checkDisruption)
  .superRefine(
    crossField((w, ctx) => {
      if (w.autoscaling && w.replicas !== w.autoscaling.minReplicas) {
        ctx.addIssue({
          code: 'custom',
          path: ['replicas'],
          message: `is ${w.replicas} but autoscaling.minReplicas is ${w.autoscaling.minReplicas}: with autoscaling the HPA owns the count; set replicas to minReplicas`,
        });
      }
    }),
  );
export type StatelessService = z.infer<typeof StatelessService>;

const HttpsUrl = z.url({ protocol: /^https?$/, error: 'must be a URL such as "https://app.example.com"' });

/** Where Storage keeps objects. */
const StorageBackend = z.discriminatedUnion(
  'kind',
  [
    /** A volume in the Storage pod, which imgproxy shares as a sidecar (dev). */
    z.strictObject({ kind: z.literal('file'), size: Storage }),
    /** An S3-compatible bucket; credentials in the supabase-s3 Secret. */
    z.strictObject({
      kind: z.literal('s3'),
      bucket: z.string().min(3, { error: 'must name the bucket' }),
      region: z.string().min(1, { error: 'must name the region, e.g. "eu-central-1"' }),
      /** @default the AWS endpoint of the region */
      endpoint: HttpsUrl.optional(),
      /** Path-style URLs, for MinIO and most non-AWS stores. @default false */
      forcePathStyle: z.boolean().default(false),
    }),
  ],
  { error: 'must have kind "file" (dev) or "s3"' },
);

const Smtp = z.strictObject({
  host: z.string().min(1),
  port: wholeNumber('port', 1).max(65535),
  adminEmail: z.email({ error: 'must be an email address' }),
  senderName: z.string().min(1),
});

export const SupabaseConfig = z
  .strictObject({
    /** Where users land after signing in; GoTrue's GOTRUE_SITE_URL. */
    siteUrl: HttpsUrl,
    /** Other URLs sign-in may redirect to. @default none */
    redirectUrls: z.array(HttpsUrl).default([]),
    /** @default false */
    disableSignup: z.boolean().default(false),
    /** Confirm email addresses without sending mail (dev only). @default false */
    mailerAutoconfirm: z.boolean().default(false),
    /** The mail relay; its user and password are in the supabase-smtp Secret. @default none (dev) */
    smtp: Smtp.optional(),
    storageBackend: StorageBackend,
    /** Largest upload Storage accepts, bytes (Kong allows the same). @default 52428800 (50 MiB) */
    fileSizeLimitBytes: wholeNumber('bytes', 1).default(52_428_800),
    /** PostgREST's connection pool per pod (PGRST_DB_POOL). @default 10 */
    restDbPool: wholeNumber('connections', 1).default(10),
    /** Auth's connection pool per pod (GOTRUE_DB_MAX_POOL_SIZE; upstream's default is unlimited). @default 10 */
    authDbPool: wholeNumber('connections', 1).default(10),
    /** Storage's connection pool per pod (DATABASE_MAX_CONNECTIONS). @default 10 */
    storageDbPool: wholeNumber('connections', 1).default(10),
    /** Realtime's own pool per pod (DB_POOL_SIZE). @default 5 */
    realtimeDbPool: wholeNumber('connections', 1).default(5),
    /** Run Studio (behind the gateway's basic-auth route). */
    studioEnabled: z.boolean(),
    auth: StatelessService,
    rest: StatelessService,
    realtime: StatelessService,
    storage: StatelessService,
    /** imgproxy runs beside Storage in the same pod. */
    imgproxy: Resources,
    meta: StatelessService,
    studio: StatelessService,
  })
  .superRefine(
    crossField((c, ctx) => {
      if (c.storageBackend.kind === 'file' && (c.storage.replicas > 1 || c.storage.autoscaling)) {
        ctx.addIssue({
          code: 'custom',
          path: ['storage', 'replicas'],
          message:
            'the file backend keeps objects on one ReadWriteOnce volume, so Storage can run only one pod: set replicas 1 without autoscaling, or use an S3 backend',
        });
      }
      if (c.smtp === undefined && !c.mailerAutoconfirm) {
        ctx.addIssue({
          code: 'custom',
          path: ['smtp'],
          message: 'is required unless mailerAutoconfirm is true: GoTrue must be able to send confirmation mail',
        });
      }
    }),
  );
export type SupabaseConfig = z.infer<typeof SupabaseConfig>;
