// Cron schedules as the Kubernetes CronJob controller reads them. Kubernetes validates
// `.spec.schedule` with the standard parser of robfig/cron v3 (cron.ParseStandard): five fields,
// or one of the macros below, and it refuses TZ= and CRON_TZ= in the schedule
// (https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#schedule-syntax,
// https://pkg.go.dev/github.com/robfig/cron/v3#hdr-CRON_Expression_Format).
//
// The fields are parsed by cron-parser (npm), which checks values against each field's bounds,
// ranges, steps, lists and month and weekday names. cron-parser also accepts extensions that
// robfig/cron refuses; this wrapper refuses them before it parses: a seconds field, L, W, #, H,
// and 7 as Sunday. Two refusals go beyond Kubernetes and are deliberate: "@every <duration>"
// (robfig/cron accepts it, the Kubernetes documentation lists only the macros below) and what
// cron-parser refuses although robfig/cron accepts it: a day that never comes ("0 0 30 2 *") and
// a list that names a value twice ("*/5,10").
import { CronExpressionParser } from 'cron-parser';

/** The macros Kubernetes documents for `.spec.schedule`. */
export const CRON_MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'] as const;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** The five fields of robfig/cron's standard parser, with the names each field takes. */
const FIELDS: readonly { readonly name: string; readonly names?: readonly string[]; readonly max: number }[] = [
  { name: 'minute', max: 59 },
  { name: 'hour', max: 23 },
  { name: 'day of month', max: 31 },
  { name: 'month', names: MONTHS, max: 12 },
  { name: 'day of week', names: WEEKDAYS, max: 6 },
];

const EXAMPLE = 'write five fields (minute hour day-of-month month day-of-week) such as "0 2 * * *", or a macro such as "@daily"';

const isDigits = (text: string) => text.length > 0 && [...text].every((c) => c >= '0' && c <= '9');

/** Why one field is outside robfig/cron's grammar (an extension cron-parser would take), or undefined. */
function extensionError(text: string, field: (typeof FIELDS)[number]): string | undefined {
  for (const item of text.split(',')) {
    const [range = '', step, ...more] = item.split('/');
    if (more.length > 0 || (step !== undefined && !isDigits(step)))
      return `"${item}" in the ${field.name} field: a step is one "/" and a whole number, such as "*/15"`;
    const ends = range.split('-');
    for (const end of ends) {
      if ((end === '*' || end === '?') && ends.length === 1) continue;
      if (isDigits(end)) {
        // cron-parser also takes 7 for Sunday; robfig/cron's day of week ends at 6.
        if (field.name === 'day of week' && Number(end) > field.max) return `${end} in the day of week field is above its maximum 6 (Sunday is 0)`;
        continue;
      }
      if (field.names?.includes(end.toLowerCase())) continue;
      const names = field.names ? `, or a name such as ${field.names[0]!.toUpperCase()}` : '';
      return `"${end}" in the ${field.name} field is not a value Kubernetes takes (numbers${names}, "*", ranges "a-b", steps "/n" and lists "a,b")`;
    }
  }
  return undefined;
}

/** Why Kubernetes would refuse `schedule` as a CronJob's `.spec.schedule`, or undefined when it accepts it. */
export function cronScheduleError(schedule: string): string | undefined {
  const text = schedule.trim();
  if (text === '') return `is empty: ${EXAMPLE}`;
  // Kubernetes refuses any schedule that contains "TZ" (apis/batch/validation): the zone is the
  // CronJob's timeZone field.
  if (text.includes('TZ')) return `"${schedule}": Kubernetes refuses TZ= and CRON_TZ= in a schedule (the CronJob's timeZone sets the zone); remove it`;
  if (text.startsWith('@')) {
    if ((CRON_MACROS as readonly string[]).includes(text)) return undefined;
    if (text.startsWith('@every')) return `"${schedule}": @every is not one of the macros Kubernetes documents; use ${CRON_MACROS.join(', ')} or five fields`;
    return `"${schedule}" is not a macro Kubernetes takes: use one of ${CRON_MACROS.join(', ')}, or five fields`;
  }
  const fields = text.split(/\s+/);
  if (fields.length !== 5) {
    const seconds = fields.length === 6 ? ' (Kubernetes has no seconds field)' : '';
    return `"${schedule}" has ${fields.length} field${fields.length === 1 ? '' : 's'}${seconds}: ${EXAMPLE}`;
  }
  for (const [i, field] of FIELDS.entries()) {
    const problem = extensionError(fields[i]!, field);
    if (problem) return `"${schedule}": ${problem}`;
  }
  try {
    CronExpressionParser.parse(fields.join(' '));
  } catch (error) {
    return `"${schedule}" is not a valid schedule: ${(error as Error).message}`;
  }
  return undefined;
}
