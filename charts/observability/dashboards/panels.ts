// The few panel shapes every platform dashboard is made of, so that each dashboard file reads as
// a list of questions and the PromQL that answers them. Every query names its datasource by the
// provisioned UID: a dashboard then renders the same in every Grafana, with no datasource picker
// for a reader to get wrong.
import {
  type DataSourceRef,
  BigValueColorMode,
  BigValueGraphMode,
  BigValueTextMode,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  SortOrder,
  TooltipDisplayMode,
  VisibilityMode,
  VizLegendOptionsBuilder,
  VizTooltipOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import {
  AnnotationQueryBuilder,
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  MappingType,
  QueryVariableBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  type ValueMapping,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import * as units from '@grafana/grafana-foundation-sdk/units';
import type { SloConfig } from '../../../environments/slos';

/** What a dashboard needs to know about its environment. */
export interface DashboardContext {
  /** The environment's namespaces, by concern (prefixed where environments share a cluster). */
  readonly namespaces: { readonly supabase: string; readonly app: string; readonly observability: string };
  /** UIDs of the provisioned Grafana datasources. */
  readonly datasources: { readonly prometheus: string; readonly loki: string; readonly tempo: string };
  /** The environment's service-level objectives (the SLO dashboard). @default DEFAULT_SLOS (the schema's defaults) */
  readonly slos?: SloConfig;
}

/** One dashboard as Grafana's file provisioning reads it. */
export interface DashboardFile {
  readonly uid: string;
  readonly title: string;
  /** `<uid>.json`, the key in the dashboards ConfigMap. */
  readonly file: string;
  /** The bare dashboard model (file provisioning, not the App-Platform envelope). */
  readonly json: object;
}

export interface Query {
  readonly expr: string;
  /** Grafana legend template such as "{{pod}}". */
  readonly legend?: string;
}

interface PanelOptions {
  readonly title: string;
  /** Shown as the panel's (i) tooltip: what a reader should conclude from it. */
  readonly description: string;
  readonly queries: readonly Query[];
  /** A Grafana unit id, from '@grafana/grafana-foundation-sdk/units'. */
  readonly unit?: string;
  /** Grid columns out of 24; a row of panels must add up to 24 for the builder's layout. */
  readonly width?: number;
  readonly height?: number;
}

/** A PromQL selector: exact matches, then raw matchers such as `code=~"5.."`. */
export function sel(labels: Record<string, string>, ...matchers: string[]): string {
  return `{${[...Object.entries(labels).map(([k, v]) => `${k}="${v}"`), ...matchers].join(',')}}`;
}

/** Colour steps from the lowest value up: [[null, 'green'], [0.8, 'orange'], [0.95, 'red']]. */
export function thresholds(steps: readonly [number | null, string][]): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps.map(([value, color]) => ({ value, color })));
}

/** Value-to-text mapping for 0/1 gauges where 0 is the bad state, such as `pg_up`. */
export function okMapping(zero: string, one: string): ValueMapping[] {
  return [{ type: MappingType.ValueToText, options: { '0': { text: zero, color: 'red', index: 0 }, '1': { text: one, color: 'green', index: 1 } } }];
}

/** Panel builders bound to one Prometheus datasource. */
export class PromPanels {
  private readonly datasource: DataSourceRef;

  constructor(uid: string) {
    this.datasource = { type: 'prometheus', uid };
  }

  timeseries(o: PanelOptions & { readonly min?: number; readonly max?: number }): timeseries.PanelBuilder {
    // The SDK's default hides the legend, and a multi-series panel without one is unreadable.
    const panel = this.common(new timeseries.PanelBuilder(), o)
      .legend(new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom))
      .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending))
      .fillOpacity(10)
      .showPoints(VisibilityMode.Never);
    if (o.min !== undefined) panel.min(o.min);
    if (o.max !== undefined) panel.max(o.max);
    return panel;
  }

  /** The last value, big, coloured by thresholds or mappings. */
  stat(
    o: PanelOptions & {
      readonly thresholds?: ThresholdsConfigBuilder;
      readonly mappings?: ValueMapping[];
      /** Shown when the query returns nothing, for queries where nothing means none. */
      readonly noValue?: string;
      /** Ask for the value now only (an instant query): for expensive queries over long ranges such as 30d. @default a range query */
      readonly instant?: boolean;
    },
  ): stat.PanelBuilder {
    const panel = this.common(new stat.PanelBuilder(), { width: 6, height: 4, ...o }, o.instant ? (q) => q.instant() : undefined)
      .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
      .colorMode(BigValueColorMode.Background)
      .graphMode(BigValueGraphMode.Area)
      .textMode(BigValueTextMode.Auto);
    if (o.thresholds) panel.thresholds(o.thresholds);
    if (o.mappings) panel.mappings(o.mappings);
    if (o.noValue !== undefined) panel.noValue(o.noValue);
    return panel;
  }

  /**
   * How many there are of something that should be none (failed Jobs, Applications out of sync):
   * 0 when the query finds nothing, green at 0 and `color` from 1 (red for broken, orange for a
   * look, blue for a notice).
   */
  countExpectingNone({ color, ...o }: PanelOptions & { readonly color: 'red' | 'orange' | 'blue' }): stat.PanelBuilder {
    return this.stat({
      ...o,
      noValue: '0',
      thresholds: thresholds([
        [null, 'green'],
        [1, color],
      ]),
    });
  }

  /** How many there are of something that should be at least one (pods, instances up): 0 when the query finds nothing, red at 0 and green from 1. */
  countExpectingSome(o: PanelOptions): stat.PanelBuilder {
    return this.stat({
      ...o,
      noValue: '0',
      thresholds: thresholds([
        [null, 'red'],
        [1, 'green'],
      ]),
    });
  }

  /**
   * The share of responses that are server errors, `errors` over `all` (two rates): 0 rather than
   * nothing while there are no errors. Green below 1%, orange to 5%, red from 5%.
   */
  errorShare({ errors, all, ...o }: Omit<PanelOptions, 'queries' | 'unit'> & { readonly errors: string; readonly all: string }): stat.PanelBuilder {
    return this.stat({
      ...o,
      queries: [{ expr: `(${errors} or vector(0)) / ${all}` }],
      unit: units.PercentUnit,
      thresholds: thresholds([
        [null, 'green'],
        [0.01, 'orange'],
        [0.05, 'red'],
      ]),
    });
  }

  /** One row per series of an instant query, its labels as columns (Time and Value hidden). */
  table(o: PanelOptions): table.PanelBuilder {
    return this.common(new table.PanelBuilder(), o, (q) => q.instant().format(PromQueryFormat.Table)).withTransformation({
      id: 'organize',
      options: { excludeByName: { Time: true, Value: true } },
    });
  }

  /**
   * A multi-value variable over the values of one label, "All" by default. Panels match it with
   * `label=~"$name"`; "All" sends `.+`, not every value, so queries stay short.
   */
  labelValues(name: string, label: string, series: string, labelName: string): QueryVariableBuilder {
    const query = `label_values(${series}, ${labelName})`;
    return new QueryVariableBuilder(name)
      .label(label)
      .datasource(this.datasource)
      .query(query)
      .definition(query)
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .sort(VariableSort.AlphabeticalAsc)
      .multi(true)
      .includeAll(true)
      .allValue('.+')
      .current({ text: 'All', value: '$__all' });
  }

  private common<P extends timeseries.PanelBuilder | stat.PanelBuilder | table.PanelBuilder>(
    panel: P,
    o: PanelOptions,
    shape: (q: DataqueryBuilder) => DataqueryBuilder = (q) => q.range(),
  ): P {
    panel
      .title(o.title)
      .description(o.description)
      .datasource(this.datasource)
      .span(o.width ?? 12)
      .height(o.height ?? 8)
      .targets(
        o.queries.map((q, i) => {
          const query = shape(
            new DataqueryBuilder()
              .datasource(this.datasource)
              .refId(String.fromCharCode(65 + i))
              .expr(q.expr),
          );
          return q.legend === undefined ? query : query.legendFormat(q.legend);
        }),
      );
    if (o.unit !== undefined) panel.unit(o.unit);
    return panel;
  }
}

/** Tag of every platform dashboard; the dashboards' link menu lists them by it. */
const PLATFORM_TAG = 'supabase-platform';

/**
 * A dashboard with the platform's defaults: read-only (it is provisioned), UTC, shared crosshair,
 * and a menu of the other platform dashboards that keeps the time range.
 */
export function platformDashboard(uid: string, title: string, description: string, tags: readonly string[]): DashboardBuilder {
  return (
    new DashboardBuilder(title)
      .uid(uid)
      .description(description)
      .tags([PLATFORM_TAG, ...tags])
      .link(new DashboardLinkBuilder('Platform dashboards').type(DashboardLinkType.Dashboards).tags([PLATFORM_TAG]).asDropdown(true).keepTime(true))
      .readonly()
      .timezone('utc')
      .time({ from: 'now-6h', to: 'now' })
      .refresh('1m')
      .tooltip(DashboardCursorSync.Crosshair)
      // Grafana's own default entry (alert state and manual annotations), as Grafana exports it.
      .annotation(
        new AnnotationQueryBuilder()
          .name('Annotations & Alerts')
          .builtIn(1)
          .type('dashboard')
          .datasource({ type: 'grafana', uid: '-- Grafana --' })
          .enable(true)
          .hide(true)
          .iconColor('rgba(0, 211, 255, 1)'),
      )
      // An empty variable list rather than none: Grafana reads `templating.list` unconditionally.
      .variables([])
  );
}

/** The provisioning file of a built dashboard. */
export function dashboardFile(builder: DashboardBuilder): DashboardFile {
  const json = builder.build();
  // The SDK gives every row id 0 and other panels none, which Grafana repairs anew on each load;
  // numbered here, in order, each panel has one id in the file for links such as "view panel".
  let id = 0;
  for (const panel of json.panels ?? []) {
    panel.id = ++id;
    for (const inner of 'panels' in panel ? panel.panels : []) inner.id = ++id;
  }
  const { uid, title } = json;
  if (!uid || !title) throw new Error(`every dashboard needs a uid and a title (got uid "${uid}", title "${title}")`);
  return { uid, title, file: `${uid}.json`, json };
}
