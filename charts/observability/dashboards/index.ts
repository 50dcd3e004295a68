// The platform's Grafana dashboards, built with grafana-foundation-sdk (no hand-written JSON).
// The observability chart writes each one into the dashboards ConfigMap as `<uid>.json`.
import { gatewayApi } from './gateway-api';
import type { DashboardContext, DashboardFile } from './panels';
import { platformOverview } from './platform-overview';
import { postgres } from './postgres';
import { redis } from './redis';
import { releases } from './releases';

export type { DashboardContext, DashboardFile } from './panels';

/** Every dashboard of one environment, in the order a reader drills down. */
export function dashboards(ctx: DashboardContext): DashboardFile[] {
  return [platformOverview, gatewayApi, postgres, redis, releases].map((build) => build(ctx));
}
