// `current_time`: what time it is, from the node's clock, in UTC or an IANA time zone. Models do
// not know the date; this is the cheapest way for them to stop guessing.
//
// Settings (config.current_time): { timezone?: string } — the zone used when the call names none.
import { isoAt } from '../../../runtime/clock.js';
import { AuroraError } from '../../../runtime/errors.js';
import { compileValidator } from '../../../runtime/validation.js';
import type { Tool } from './tool.js';

export const CURRENT_TIME = 'current_time';

const SETTINGS = compileValidator<{ timezone?: string }>(
  { type: 'object', properties: { timezone: { type: 'string' } }, additionalProperties: false },
  `config.${CURRENT_TIME}`,
);

// Formatters are costly to build, so each zone name keeps its own; names are case-insensitive, so
// the cache is bounded rather than trusted to stay small.
const formatters = new Map<string, Intl.DateTimeFormat>();
const MAX_FORMATTERS = 1024;

export function currentTimeTool(): Tool {
  return {
    spec: {
      name: CURRENT_TIME,
      description:
        'The current date and time. Returns JSON: iso (local time with UTC offset), utc, timezone and weekday.',
      parameters: {
        type: 'object',
        properties: {
          timezone: {
            type: 'string',
            maxLength: 64,
            description: 'IANA time zone name such as "Europe/Paris" or "America/New_York"; default UTC.',
          },
        },
        additionalProperties: false,
      },
    },

    // async so every failure, the synchronous ones included, arrives as a rejection.
    async run(args, ctx) {
      const settings = SETTINGS(ctx.settings ?? {});
      if (!settings.ok) throw new AuroraError('invalid_request', settings.message);
      const requested = typeof args.timezone === 'string' ? args.timezone : undefined;
      const zone = requested ?? settings.value.timezone ?? 'UTC';
      const formatter = formatterFor(zone);
      if (!formatter) {
        const where = requested !== undefined ? 'timezone' : `config.${CURRENT_TIME}.timezone`;
        throw new AuroraError('invalid_request', `${where}: "${zone}" is not an IANA time zone name`);
      }
      return JSON.stringify(describeInstant(ctx.clock.now(), zone, formatter));
    },
  };
}

function formatterFor(zone: string): Intl.DateTimeFormat | null {
  const known = formatters.get(zone);
  if (known) return known;
  let formatter: Intl.DateTimeFormat;
  try {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      fractionalSecondDigits: 3,
      weekday: 'long',
      timeZoneName: 'longOffset',
    });
  } catch {
    return null;
  }
  if (formatters.size >= MAX_FORMATTERS) formatters.clear();
  formatters.set(zone, formatter);
  return formatter;
}

export interface TimeDescription {
  iso: string;
  utc: string;
  timezone: string;
  weekday: string;
}

function describeInstant(ms: number, zone: string, formatter: Intl.DateTimeFormat): TimeDescription {
  const part: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const p of formatter.formatToParts(ms)) part[p.type] = p.value;
  // longOffset reads "GMT+05:45", or bare "GMT" at offset zero.
  const offset = (part.timeZoneName ?? 'GMT').replace(/^GMT/, '') || '+00:00';
  const year = (part.year ?? '').padStart(4, '0');
  const iso = `${year}-${part.month}-${part.day}T${part.hour}:${part.minute}:${part.second}.${part.fractionalSecond}${offset}`;
  return {
    iso,
    utc: isoAt(ms),
    timezone: zoneName(zone, formatter),
    weekday: part.weekday ?? '',
  };
}

/**
 * The zone as asked, in its canonical spelling ("europe/paris" → "Europe/Paris"). ICU's canonical
 * form may be a retired alias ("Asia/Kathmandu" → "Asia/Katmandu"), so only the case is taken from it.
 */
function zoneName(zone: string, formatter: Intl.DateTimeFormat): string {
  const resolved = formatter.resolvedOptions().timeZone;
  return resolved.toLowerCase() === zone.toLowerCase() ? resolved : zone;
}
