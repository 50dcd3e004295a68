// Storage from the outside in: the requests Kong passes to it (service storage-v1: rate, errors,
// latency, upload and download volume), the image transformations of its imgproxy sidecar, the
// file backend's volume, and its pods. Storage API's own /metrics is not enabled here
// (metrics-catalogue.ts, imgproxy), so Kong is the witness of its requests.
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { STORAGE_FILES_CLAIM } from '../../supabase/storage';
import { JOBS } from '../metrics-catalogue';
import { type DashboardContext, type DashboardFile, PromPanels, dashboardFile, platformDashboard, sel, thresholds } from './panels';
import { withWorkload } from './workload';

/** Kong's service in front of Storage (charts/gateway/kong-config.ts). */
export const STORAGE_KONG_SERVICE = 'storage-v1';

export function storage(ctx: DashboardContext): DashboardFile {
  const p = new PromPanels(ctx.datasources.prometheus);
  const namespace = ctx.namespaces.supabase;
  const kong = (...matchers: string[]) => sel({ namespace, job: JOBS.kong, service: STORAGE_KONG_SERVICE }, ...matchers);
  const requests = (...matchers: string[]) => `sum(rate(kong_http_requests_total${kong(...matchers)}[$__rate_interval]))`;
  const kongQuantile = (q: number, histogram: string) => `histogram_quantile(${q}, sum by (le) (rate(${histogram}_bucket${kong()}[$__rate_interval])))`;
  const img = sel({ namespace, job: JOBS.storage, container: 'imgproxy' });
  const imgQuantile = (q: number, histogram: string) => `histogram_quantile(${q}, sum by (le) (rate(${histogram}_bucket${img}[$__rate_interval])))`;
  const volume = (metric: string) => `max(${metric}${sel({ job: JOBS.kubelet, namespace, persistentvolumeclaim: STORAGE_FILES_CLAIM })})`;

  const dashboard = platformDashboard(
    'storage',
    'Storage',
    "Supabase Storage: its requests as Kong sees them (rate, errors, latency, bytes up and down), image transformations (imgproxy), the file backend's volume, and its pods.",
    ['storage', 'supabase'],
  )
    .withRow(new RowBuilder('Requests (Kong, service storage-v1)'))
    .withPanel(
      p.stat({
        title: 'Requests per second',
        description: 'Requests Kong passed to Storage (uploads, downloads, listings, signed URLs, image transformations), all Kong pods.',
        queries: [{ expr: requests() }],
        unit: units.RequestsPerSecond,
      }),
    )
    .withPanel(
      p.errorShare({
        title: '5xx share',
        description:
          'Share of Storage responses that are server errors, from Storage or from Kong failing to reach it. Healthy: 0. KongHighErrorRate fires above 5%.',
        errors: requests('code=~"5.."'),
        all: requests(),
      }),
    )
    .withPanel(
      p.stat({
        title: 'Latency p95',
        description:
          "Total time of a Storage request through Kong, 95th percentile: includes the client's upload or download, so large files are slow by nature. Compare with the upstream line in the latency panel.",
        queries: [{ expr: kongQuantile(0.95, 'kong_request_latency_ms') }],
        unit: units.Milliseconds,
      }),
    )
    .withPanel(
      p.countExpectingNone({
        title: 'Uploads refused as too large (last hour)',
        description:
          "Requests Kong refused with 413 because the body exceeded the Storage route's size limit (the environment's file size limit plus form overhead). Healthy: 0; a steady count means users try to upload files bigger than the product allows.",
        queries: [{ expr: `sum(increase(kong_http_requests_total${kong('code="413"')}[1h]))` }],
        unit: units.Short,
        color: 'orange',
      }),
    )
    .withPanel(
      p.timeseries({
        title: 'Responses by status code',
        description:
          "Storage responses per second by status. 400/403/404 are the client's (bad token, RLS refused, missing object); 413 is the size limit; 429 Kong's rate limit; 5xx Storage, its database or its bucket failing.",
        queries: [{ expr: `sum by (code) (rate(kong_http_requests_total${kong()}[$__rate_interval]))`, legend: '{{code}}' }],
        unit: units.RequestsPerSecond,
        min: 0,
        width: 8,
      }),
    )
    .withPanel(
      p.timeseries({
        title: 'Latency: total and in Storage',
        description:
          "Percentiles of the total request time through Kong and of the time spent waiting for Storage (upstream). Healthy: upstream p95 well under a second for listings and small objects; a gap between total and upstream is the client's transfer.",
        queries: [
          { expr: kongQuantile(0.5, 'kong_request_latency_ms'), legend: 'total p50' },
          { expr: kongQuantile(0.95, 'kong_request_latency_ms'), legend: 'total p95' },
          { expr: kongQuantile(0.95, 'kong_upstream_latency_ms'), legend: 'upstream p95' },
          { expr: kongQuantile(0.99, 'kong_upstream_latency_ms'), legend: 'upstream p99' },
        ],
        unit: units.Milliseconds,
        min: 0,
        width: 8,
      }),
    )
    .withPanel(
      p.timeseries({
        title: 'Bytes up and down',
        description:
          "Bytes clients send to Storage (ingress: uploads) and receive from it (egress: downloads), through Kong. Follows the product's use; a jump in egress with no new users is worth a look (hot-linked files, a scraper).",
        queries: [{ expr: `sum by (direction) (rate(kong_bandwidth_bytes${kong()}[$__rate_interval]))`, legend: '{{direction}}' }],
        unit: units.BytesPerSecondIEC,
        min: 0,
        width: 8,
      }),
    )
    .withRow(new RowBuilder('Image transformations (imgproxy)'))
    .withPanel(
      p.timeseries({
        title: 'Transformations and errors',
        description:
          "Image transformation requests per second that Storage sent to its imgproxy sidecar, and imgproxy's errors by type (downloading the source, processing, timeouts). Healthy: no errors; download errors mean imgproxy could not read the source from the bucket or volume.",
        queries: [
          { expr: `sum(rate(imgproxy_requests_total${img}[$__rate_interval]))`, legend: 'requests' },
          { expr: `sum by (type) (rate(imgproxy_errors_total${img}[$__rate_interval]))`, legend: 'errors {{type}}' },
        ],
        unit: units.RequestsPerSecond,
        min: 0,
        width: 8,
      }),
    )
    .withPanel(
      p.timeseries({
        title: 'Transformation time p95',
        description:
          '95th percentile of a whole transformation request, and of its two big parts: fetching the source image and processing it. Healthy: well under a second for photos; large sources (IMGPROXY_MAX_SRC_RESOLUTION) take longer.',
        queries: [
          { expr: imgQuantile(0.95, 'imgproxy_request_duration_seconds'), legend: 'request' },
          { expr: imgQuantile(0.95, 'imgproxy_download_duration_seconds'), legend: 'download' },
          { expr: imgQuantile(0.95, 'imgproxy_processing_duration_seconds'), legend: 'processing' },
        ],
        unit: units.Seconds,
        min: 0,
        width: 8,
      }),
    )
    .withPanel(
      p.timeseries({
        title: 'Transformations in progress against workers',
        description:
          'Requests each imgproxy is working on, against its number of workers. Healthy: below the workers; above them requests queue and transformations slow down (more Storage replicas, or more CPU for imgproxy).',
        queries: [
          { expr: `sum by (pod) (imgproxy_requests_in_progress${img})`, legend: '{{pod}} in progress' },
          { expr: `max(imgproxy_workers${img})`, legend: 'workers per pod' },
        ],
        unit: units.Short,
        min: 0,
        width: 8,
      }),
    )
    .withRow(new RowBuilder('Files volume (file backend)'))
    .withPanel(
      p.stat({
        title: 'Files volume used',
        description:
          'Share of the storage-files volume in use, where Storage keeps files on a volume (the file backend). Healthy: below 80%; KubePersistentVolumeFillingUp and KubePersistentVolumeAlmostFull warn before it is full, and a full volume fails every upload. Environments on S3 have no volume.',
        queries: [{ expr: `${volume('kubelet_volume_stats_used_bytes')} / ${volume('kubelet_volume_stats_capacity_bytes')}` }],
        noValue: 'no volume (S3)',
        unit: units.PercentUnit,
        thresholds: thresholds([
          [null, 'green'],
          [0.8, 'orange'],
          [0.9, 'red'],
        ]),
        height: 8,
      }),
    )
    .withPanel(
      p.timeseries({
        title: 'Files volume: used and capacity',
        description: 'Bytes used on the storage-files volume and its size: the growth rate tells when it needs resizing.',
        queries: [
          { expr: volume('kubelet_volume_stats_used_bytes'), legend: 'used' },
          { expr: volume('kubelet_volume_stats_capacity_bytes'), legend: 'capacity' },
        ],
        unit: units.BytesIEC,
        min: 0,
        width: 18,
      }),
    );

  return dashboardFile(withWorkload(dashboard, p, ctx, { deployment: 'storage', containers: ['storage', 'imgproxy'] }));
}
