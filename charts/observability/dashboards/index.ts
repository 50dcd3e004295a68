// The platform's Grafana dashboards, built with grafana-foundation-sdk (no hand-written JSON).
// The observability chart writes each one into the dashboards ConfigMap as `<uid>.json`.
import { auth } from './auth';
import { backups } from './backups';
import { gatewayApi } from './gateway-api';
import { operators } from './operators';
import type { DashboardContext, DashboardFile } from './panels';
import { platformOverview } from './platform-overview';
import { postgres } from './postgres';
import { realtime } from './realtime';
import { redis } from './redis';
import { releases } from './releases';
import { sloDashboard } from './slos';
import { storage } from './storage';

export type { DashboardContext, DashboardFile } from './panels';

/** Every dashboard of one environment, in the order a reader drills down. */
export function dashboards(ctx: DashboardContext): DashboardFile[] {
  return [platformOverview, sloDashboard, gatewayApi, postgres, redis, backups, auth, realtime, storage, releases, operators].map((build) => build(ctx));
}
