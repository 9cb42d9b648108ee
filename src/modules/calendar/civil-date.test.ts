import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatMadrid, madridDateOf, madridStartOfDay } from '#modules/calendar/civil-date.ts';

/** The reference: Intl's own reading of the time zone database, for each instant asked. */
const reference = new Intl.DateTimeFormat('sv-SE', {
  timeZone: 'Europe/Madrid',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  timeZoneName: 'longOffset',
  hourCycle: 'h23',
});
const expected = (t: number) => {
  const p = Object.fromEntries(reference.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
  const off = p.timeZoneName === 'GMT' ? '+00:00' : p.timeZoneName!.replace('GMT', '');
  return {
    date: `${p.year}-${p.month}-${p.day}`,
    text: `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}${off}`,
  };
};

describe('Europe/Madrid civil dates and times', () => {
  it('agree with the time zone database around the 2025–2027 clock changes, minute by minute', () => {
    // Last Sundays of March and October: 01:00 UTC, when Spain's clocks change.
    for (const change of [
      '2025-03-30',
      '2025-10-26',
      '2026-03-29',
      '2026-10-25',
      '2027-03-28',
      '2027-10-31',
    ]) {
      const at = Date.parse(`${change}T01:00:00Z`);
      for (let t = at - 3 * 3_600_000; t <= at + 3 * 3_600_000; t += 60_000 - 1) {
        const e = expected(t);
        assert.equal(madridDateOf(new Date(t)), e.date, new Date(t).toISOString());
        assert.equal(formatMadrid(new Date(t)), e.text, new Date(t).toISOString());
      }
    }
  });

  it('agree with it at instants spread over 1950–2060, and 00:00 of each day is the start of that day', () => {
    let t = Date.parse('1950-01-01T00:00:00Z');
    const end = Date.parse('2060-01-01T00:00:00Z');
    while (t < end) {
      const e = expected(t);
      assert.equal(madridDateOf(new Date(t)), e.date, new Date(t).toISOString());
      assert.equal(formatMadrid(new Date(t)), e.text, new Date(t).toISOString());
      const start = madridStartOfDay(e.date).getTime();
      assert.equal(madridDateOf(new Date(start)), e.date);
      assert.notEqual(madridDateOf(new Date(start - 1)), e.date);
      t += 7 * 86_400_000 + 3_607_001; // a week, an hour and a bit: every hour of the day in turn
    }
  });
});
