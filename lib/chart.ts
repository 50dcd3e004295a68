// The base of every chart: it knows its layer (the dist/<env>/<layer>/ folder it synthesises
// into) and its environment, and it makes object metadata with explicit names and the
// standard labels. Resource-name hashing is off: every object is named on purpose.
import { type ApiObjectMetadata, Chart } from 'cdk8s';
import { type Construct } from 'constructs';
import pkg from '../package.json';
import type { PlatformContext } from './context';
import type { Folder, Layer } from './layers';
import { type LabelSpec, standardLabels } from './labels';
import { assertDnsLabel } from './names';
import type { SecretSpec } from './secrets';

/** The platform's own version, used as the version label of objects that run no image. */
export const PLATFORM_VERSION = pkg.version;

/** What platform.ts gives every chart: where its objects go and the shared platform context. */
export interface ChartProps {
  /** The layer folder this chart's objects are written to (platform.ts assigns it). */
  readonly layer: Folder;
  /** Instance, namespaces, priority classes, storage and secret source, shared by every chart. */
  readonly platform: PlatformContext;
}

/** What an object's metadata needs. */
export interface ObjectSpec extends Omit<LabelSpec, 'instance' | 'version'> {
  /** Explicit object name (never cdk8s's generated one). */
  readonly objectName: string;
  /** Namespace, for namespaced kinds. */
  readonly namespace?: string;
  /** @default the platform version */
  readonly version?: string;
  /** @default none */
  readonly annotations?: Record<string, string>;
  /** Extra labels beyond the standard six. @default none */
  readonly extraLabels?: Record<string, string>;
}

export class PlatformChart extends Chart {
  public readonly layer: Folder;
  /** The shared platform context: namespaces, priority classes, storage, secret source, addresses. */
  public readonly platform: PlatformContext;
  /** The Secrets this chart's workloads read (registered by `provideSecret`); the CLI creates them in dev. */
  public readonly secretSpecs: SecretSpec[] = [];

  constructor(scope: Construct, id: string, props: ChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    this.layer = props.layer;
    this.platform = props.platform;
  }

  /** The environment name (`platform.instance`): the app.kubernetes.io/instance label. */
  public get instance(): string {
    return this.platform.instance;
  }

  /** Metadata with an explicit name, the namespace and the six standard labels. */
  public metadata(spec: ObjectSpec): ApiObjectMetadata {
    return {
      name: assertDnsLabel(spec.objectName, `name of ${spec.name} object`),
      ...(spec.namespace ? { namespace: spec.namespace } : {}),
      labels: { ...standardLabels(this.labelSpec(spec)), ...spec.extraLabels },
      ...(spec.annotations ? { annotations: spec.annotations } : {}),
    };
  }

  /** The label inputs for an object of this chart. */
  public labelSpec(spec: Pick<ObjectSpec, 'name' | 'component' | 'version'>): LabelSpec {
    return { name: spec.name, component: spec.component, instance: this.instance, version: spec.version ?? PLATFORM_VERSION };
  }
}

/** What platform.ts gives an on-demand chart: its own folder, and the layer of what supports it. */
export interface OnDemandChartProps extends ChartProps {
  /** The layer the Jobs' ServiceAccounts, NetworkPolicies and configuration are synced with. */
  readonly supportLayer: Layer;
}

/**
 * A chart of Jobs that run only when an operator asks: the Jobs go to its layer folder (the
 * on-demand folder, dist/<env>/on-demand/, which no Argo CD Application syncs), and everything
 * they need that does nothing by itself (ServiceAccounts, NetworkPolicies, ConfigMaps, Secrets)
 * goes to `support`, synced with `supportLayer`. Starting one is then creating one Job, all an
 * operator may do (charts/security/operator-access-chart.ts).
 */
export class OnDemandChart extends PlatformChart {
  /** Where the Jobs' ServiceAccounts, NetworkPolicies and configuration go. */
  public readonly support: PlatformChart;

  constructor(scope: Construct, id: string, props: OnDemandChartProps) {
    super(scope, id, props);
    this.support = new PlatformChart(scope, `${id}-support`, { layer: props.supportLayer, platform: props.platform });
  }
}
