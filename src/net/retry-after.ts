/**
 * `Retry-After` (RFC 9110 §10.2.3) as whole seconds from `now`: delta-seconds, or an HTTP date (a past one is 0).
 * Anything else, and a delta of more than six digits (eleven days and more: no server means it), is undefined.
 */
const DELTA_SECONDS = /^\d{1,6}$/;
/** All three HTTP-date forms begin with a day name; `Date.parse` alone would take "1.5" or "5 days" for dates. */
const HTTP_DATE = /^[A-Za-z]{3}/;

export function retryAfterSeconds(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (DELTA_SECONDS.test(text)) return Number(text);
  if (!HTTP_DATE.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}
