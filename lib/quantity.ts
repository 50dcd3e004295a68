// Kubernetes resource quantities ("500m", "1.5", "512Mi", "1e3"): parsing to numbers so that
// the environment model can compare limits with requests and sum requests against quotas.
// Grammar: k8s.io/apimachinery/pkg/api/resource (signed decimal, then a binary-SI suffix,
// a decimal-SI suffix or a decimal exponent).

const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

/** The value of a quantity in base units (cores, bytes), or undefined if it is malformed. */
export function parseQuantity(text: string): number | undefined {
  const match = QUANTITY.exec(text);
  if (!match) return undefined;
  const [, digits, suffix = ''] = match;
  const value = Number(digits);
  if (suffix in BINARY) return value * BINARY[suffix]!;
  if (suffix in DECIMAL) return value * DECIMAL[suffix]!;
  return value * 10 ** Number(suffix.slice(1));
}

/** True for a well-formed, non-negative quantity. */
export function isQuantity(text: string): boolean {
  const value = parseQuantity(text);
  return value !== undefined && value >= 0;
}

/** The value of a quantity known to be well formed; throws otherwise (a bug, not bad input). */
export function quantity(text: string): number {
  const value = parseQuantity(text);
  if (value === undefined) throw new Error(`internal: "${text}" is not a Kubernetes quantity`);
  return value;
}

/** Formats cores as a CPU quantity: whole cores as "2", otherwise millicores ("1500m"). */
export function formatCpu(cores: number): string {
  const millis = Math.ceil(cores * 1000 - 1e-6);
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

/** Formats bytes as a binary quantity, in the largest unit that keeps it whole ("3Gi", "1536Mi"). */
export function formatBytes(bytes: number): string {
  const whole = Math.ceil(bytes - 1e-6);
  for (const unit of ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki'] as const) {
    if (whole % BINARY[unit]! === 0) return `${whole / BINARY[unit]!}${unit}`;
  }
  return String(whole);
}
