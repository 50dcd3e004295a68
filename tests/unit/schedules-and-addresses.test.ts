// Cron schedules and CIDRs are parsed, not pattern-matched: lib/cron.ts accepts exactly the
// schedules the Kubernetes CronJob controller accepts (robfig/cron v3's standard parser, no TZ=)
// on top of cron-parser, and lib/cidr.ts takes IPv4 and IPv6 blocks through ipaddr.js. Each case
// names what Kubernetes does with it.
import { describe, expect, it } from 'vitest';
import { dev } from '../../environments/dev';
import { withSeconds } from '../../environments/backup';
import { parseEnvironment } from '../../environments/schema';
import { cidrError, cidrsOverlap } from '../../lib/cidr';
import { CRON_MACROS, cronScheduleError } from '../../lib/cron';

describe('cron schedules', () => {
  // Accepted by Kubernetes (cron.ParseStandard): five fields with numbers, names, *, ?, ranges,
  // steps and lists, or one of the documented macros.
  const accepted = [
    '0 2 * * *',
    '*/15 * * * *',
    '0 0 1-31/2 * *',
    '5/15 * * * *',
    '0-59/120 * * * *',
    '0 3 * * 0',
    '0 3 * * 0-6',
    '0 3 * * SUN-SAT',
    '0 3 * * mon,wed,fri',
    '0 0 1 jan-dec/3 *',
    '0 0 ? * MON',
    '? 0 * * *',
    '01 02 * * *',
    '  0   2 * * *  ',
    ...CRON_MACROS,
  ];
  it.each(accepted)('accepts %j', (schedule) => {
    expect(cronScheduleError(schedule)).toBeUndefined();
  });

  // Refused by Kubernetes, with what the message says.
  const refused: [string, string][] = [
    ['61 * * * *', 'got value 61 expected range 0-59'],
    ['0 24 * * *', 'got value 24 expected range 0-23'],
    ['0 0 0 * *', 'got value 0 expected range 1-31'],
    ['0 0 32 * *', 'got value 32 expected range 1-31'],
    ['0 0 * 13 *', 'got value 13 expected range 1-12'],
    ['0 0 * * 7', '7 in the day of week field is above its maximum 6 (Sunday is 0)'],
    ['0 0 * * 1-7', '7 in the day of week field is above its maximum 6'],
    ['*/0 * * * *', 'cannot repeat at every 0 time'],
    ['5-2 * * * *', 'Invalid range: 5-2'],
    ['at 2 am every day', '"at" in the minute field is not a value Kubernetes takes'],
    ['0 0 L * *', '"L" in the day of month field is not a value Kubernetes takes'],
    ['0 0 15W * *', '"15W" in the day of month field'],
    ['0 0 * * 5#3', '"5#3" in the day of week field'],
    ['0 0 * * 5L', '"5L" in the day of week field'],
    ['H * * * *', '"H" in the minute field'],
    ['0 0 * mon *', '"mon" in the month field'],
    ['0 0 * * jan', '"jan" in the day of week field'],
    ['0 0 * * monday', '"monday" in the day of week field'],
    ['1//2 * * * *', 'a step is one "/" and a whole number'],
    ['*/x * * * *', 'a step is one "/" and a whole number'],
    ['0 0 0 2 * *', 'has 6 fields (Kubernetes has no seconds field)'],
    ['0 2 * *', 'has 4 fields'],
    ['', 'is empty'],
    ['TZ=UTC 0 2 * * *', 'Kubernetes refuses TZ= and CRON_TZ= in a schedule'],
    ['CRON_TZ=Europe/Berlin 0 2 * * *', 'Kubernetes refuses TZ= and CRON_TZ= in a schedule'],
    ['@reboot', 'is not a macro Kubernetes takes: use one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly'],
    ['@Weekly', 'is not a macro Kubernetes takes'],
    // Accepted by robfig/cron but not documented for CronJobs: refused on purpose.
    ['@every 1h', '@every is not one of the macros Kubernetes documents'],
    // cron-parser refuses what can never run, though robfig/cron would take it.
    ['0 0 30 2 *', 'Invalid explicit day of month definition'],
  ];
  it.each(refused)('refuses %j', (schedule, says) => {
    expect(cronScheduleError(schedule)).toContain(says);
  });

  it('reaches CronJobs through the environment: @weekly is taken, 61 refused', () => {
    const weekly = structuredClone(dev);
    weekly.backup.redis.schedule = '@weekly';
    expect(parseEnvironment(weekly).backup.redis.schedule).toBe('@weekly');
    const broken = structuredClone(dev);
    broken.backup.redis.schedule = '61 * * * *';
    expect(() => parseEnvironment(broken)).toThrow('backup.redis.schedule: "61 * * * *" is not a valid schedule');
  });

  it("gives CloudNativePG's six-field ScheduledBackup a seconds field, and a macro unchanged", () => {
    expect(withSeconds('0 2 * * *')).toBe('0 0 2 * * *');
    expect(withSeconds(' 0  2 * * * ')).toBe('0 0 2 * * *');
    expect(withSeconds('@weekly')).toBe('@weekly');
  });
});

describe('CIDRs', () => {
  it.each(['10.0.0.0/8', '0.0.0.0/0', '192.168.1.7/32', '203.0.113.0/24', '::/0', 'fd00::/8', '2001:db8::/32', '2001:db8::1/128', '::ffff:10.0.0.0/104'])(
    'accepts %s',
    (cidr) => {
      expect(cidrError(cidr)).toBeUndefined();
    },
  );

  it.each([
    ['10.0.0.0/33', 'the prefix length must be a whole number from 0 to 32'],
    ['10.0.0.0/-1', 'the prefix length must be a whole number from 0 to 32'],
    ['10.0.0.0/08', 'the prefix length must be a whole number from 0 to 32'],
    ['10.0.0.0/', 'the prefix length must be a whole number'],
    ['999.8.0.0/16', '999.8.0.0 is not an IPv4 address (four numbers 0-255)'],
    ['10.0.0/8', '10.0.0 is not an IPv4 address'],
    ['010.0.0.0/8', '010.0.0.0 is not an IPv4 address'],
    ['0x0a.0.0.0/8', 'is not an IPv4 address'],
    ['10.0.0.0', 'has no prefix length'],
    ['fd00::/129', 'the prefix length must be a whole number from 0 to 128'],
    ['fd00::g/64', 'is not an IPv4 address (four numbers 0-255) or an IPv6 address'],
    ['fe80::%eth0/64', 'is not an IPv4 address'],
    ['10.1.2.3/8', 'has address bits set beyond the /8 prefix: write 10.0.0.0/8'],
    ['2001:db8::1/32', 'write 2001:db8::/32'],
  ])('refuses %s', (cidr, says) => {
    expect(cidrError(cidr)).toContain(says);
  });

  it('finds overlaps within one family only', () => {
    expect(cidrsOverlap('10.8.0.0/16', '10.0.0.0/8')).toBe(true);
    expect(cidrsOverlap('10.0.0.0/8', '10.8.0.0/16')).toBe(true);
    expect(cidrsOverlap('10.8.0.0/16', '10.9.0.0/16')).toBe(false);
    expect(cidrsOverlap('203.0.113.0/24', '0.0.0.0/0')).toBe(true);
    expect(cidrsOverlap('fd00::/8', 'fd12:3456::/32')).toBe(true);
    expect(cidrsOverlap('fd00::/8', '2001:db8::/32')).toBe(false);
    expect(cidrsOverlap('10.0.0.0/8', '::/0')).toBe(false);
    expect(() => cidrsOverlap('10.0.0.0/33', '10.0.0.0/8')).toThrow('the prefix length must be a whole number from 0 to 32');
  });
});
