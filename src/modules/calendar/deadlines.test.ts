import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppError } from '#platform/errors.ts';
import { loadMunicipalities } from '#modules/tenancy/province.ts';
import { entityLocalLayer, type PlaceData, placeCalendar, placeLabel, regionOf } from './calendar.model.ts';
import { readCalendarSeed } from './calendar.seed.ts';
import { addMonthsClamped, formatMadrid, madridDateOf } from './civil-date.ts';
import {
  combineCalendars,
  dayDeadline,
  dayStatus,
  effectiveRegistryTime,
  extendDeadline,
  extendHourDeadline,
  type HolidayCalendar,
  hourDeadline,
  maxExtension,
  urgentDeadline,
} from './deadlines.ts';

// Real 2026 data, read from data/seed as the product reads it: the Catalan calendar (BOE-A-2025-21667)
// and the local holidays of the DOGC orders EMT/208/2025 and EMT/3/2026.
const seed = readCalendarSeed();
const municipalities = new Map(loadMunicipalities().map((m) => [m.ine, m]));

const LLEIDA = '25120';
const ABELLA = '25001'; // Abella de la Conca
const SEU = '25203'; // La Seu d'Urgell
const VALL_DE_BOI = '25043'; // La Vall de Boí: no local days in the DOGC order (status=omitted)
const LES = '25121'; // Les, in the Val d'Aran

function placeData(ine: string): PlaceData {
  const m = municipalities.get(ine);
  assert.ok(m, `municipality ${ine} in data/seed`);
  return {
    place: placeLabel(m.name, ine),
    ine,
    region: regionOf(ine, m.comarca),
    regionalDays: seed.regionalDays,
    regionalYears: seed.regionalYears.map((y) => ({ ...y, note: null })),
    localDays: seed.localDays
      .filter((d) => d.ine === ine)
      .map((d) => ({ date: d.date, name: d.name, scope: 'local' as const })),
    localYears: seed.localYears.filter((y) => y.ine === ine),
  };
}
const place = (ine: string): HolidayCalendar => placeCalendar(placeData(ine));
const lleida = place(LLEIDA);
const abella = place(ABELLA);
const seu = place(SEU);

const localDays = (ine: string) =>
  seed.localDays
    .filter((d) => d.ine === ine)
    .map((d) => d.date)
    .sort();
const skipped = (r: { nonBusinessDaysSkipped: { date: string }[] }) =>
  r.nonBusinessDaysSkipped.map((s) => s.date);

function assertIncomplete(fn: () => unknown, year: number, placeName: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AppError);
    assert.equal(e.code, 'CALENDAR_INCOMPLETE');
    assert.equal(e.status, 422);
    assert.equal(e.details?.year, year);
    assert.match(String(e.details?.place), placeName);
    assert.match(e.message, new RegExp(String(year)));
    return true;
  });
}

describe('the 2026 data the tests rely on', () => {
  it('art. 30.2: the shipped calendar has Easter 2026 (Good Friday 3 April, Easter Monday 6 April) and the local days of Lleida, Abella de la Conca and La Seu d’Urgell', () => {
    const easter = seed.regionalDays.filter((d) => d.date === '2026-04-03' || d.date === '2026-04-06');
    assert.deepEqual(
      easter.map((d) => [d.date, d.scope]),
      [
        ['2026-04-03', 'national'],
        ['2026-04-06', 'catalonia'],
      ],
    );
    assert.deepEqual(localDays(LLEIDA), ['2026-05-11', '2026-09-29']);
    assert.deepEqual(localDays(ABELLA), ['2026-05-25', '2026-10-02']);
    assert.deepEqual(localDays(SEU), ['2026-01-20', '2026-07-07']);
    assert.deepEqual(localDays(VALL_DE_BOI), []);
  });
});

describe('business days (LPACAP art. 30.2, 30.3)', () => {
  it('art. 30.2/30.3: counting starts the day after and skips Good Friday, the weekend and Easter Monday in Lleida', () => {
    const r = dayDeadline(lleida, '2026-04-01', 5, 'business_days');
    assert.equal(r.end, '2026-04-10');
    assert.deepEqual(skipped(r), ['2026-04-03', '2026-04-04', '2026-04-05', '2026-04-06']);
    assert.deepEqual(
      r.nonBusinessDaysSkipped[0]!.reasons.map((x) => x.scope),
      ['national'],
      'Good Friday is a national holiday',
    );
    assert.equal(formatMadrid(r.endsAt), '2026-04-11T00:00:00+02:00', 'ends at 24:00 of the last day');
  });

  it('art. 30.3: a notification on a Saturday starts counting on Sunday, which is not counted', () => {
    const r = dayDeadline(abella, '2026-03-07', 1, 'business_days');
    assert.equal(r.end, '2026-03-09');
  });

  it('art. 30.2: a local holiday is non-business only in its municipality (Lleida 11 May, not Abella de la Conca)', () => {
    const inLleida = dayDeadline(lleida, '2026-05-04', 10, 'business_days');
    const inAbella = dayDeadline(abella, '2026-05-04', 10, 'business_days');
    assert.equal(inLleida.end, '2026-05-19');
    assert.equal(inAbella.end, '2026-05-18');
    const may11 = inLleida.nonBusinessDaysSkipped.find((s) => s.date === '2026-05-11');
    assert.deepEqual(may11?.reasons, [{ name: 'Festa local', scope: 'local', place: 'Lleida (INE 25120)' }]);
    assert.ok(!skipped(inAbella).includes('2026-05-11'));
  });

  it('art. 30.2: La Seu d’Urgell’s local day of 20 January is skipped', () => {
    assert.equal(dayDeadline(seu, '2026-01-16', 2, 'business_days').end, '2026-01-21');
    assert.equal(dayDeadline(lleida, '2026-01-16', 2, 'business_days').end, '2026-01-20');
  });

  it('art. 30.2: Saturdays and Sundays are non-business even where the holidays of the year are not known', () => {
    assert.equal(dayStatus(lleida, '2027-01-02').business, false);
    assertIncomplete(() => dayStatus(lleida, '2027-01-04'), 2027, /Lleida/);
  });
});

describe('calendar days, months and years (LPACAP art. 30.2, 30.4, 30.5)', () => {
  it('art. 30.2: in calendar days every day counts, weekends and holidays included', () => {
    const r = dayDeadline(lleida, '2026-04-01', 10, 'calendar_days');
    assert.equal(r.end, '2026-04-13', 'day 10 is Saturday 11 April: moved to Monday 13 (art. 30.5)');
    assert.equal(r.nominalEnd, '2026-04-11');
    assert.deepEqual(skipped(r), ['2026-04-11', '2026-04-12']);
    assert.equal(dayDeadline(lleida, '2026-04-01', 9, 'calendar_days').end, '2026-04-10');
  });

  it('art. 30.5: a last day on a local holiday moves to the next business day (Abella de la Conca, 25 May)', () => {
    const r = dayDeadline(abella, '2026-05-15', 10, 'calendar_days');
    assert.equal(r.nominalEnd, '2026-05-25');
    assert.equal(r.end, '2026-05-26');
    assert.deepEqual(skipped(r), ['2026-05-25']);
    assert.equal(
      dayDeadline(lleida, '2026-05-15', 10, 'calendar_days').end,
      '2026-05-25',
      'a business day in Lleida',
    );
  });

  it('art. 30.5: a last day on La Seu d’Urgell’s local holiday of 7 July moves to 8 July', () => {
    assert.equal(dayDeadline(seu, '2026-06-27', 10, 'calendar_days').end, '2026-07-08');
  });

  it('art. 30.4: 31 January + 1 month ends on 28 February 2026 (clamped), a Saturday, so art. 30.5 moves it to 2 March', () => {
    assert.equal(addMonthsClamped('2026-01-31', 1), '2026-02-28');
    const r = dayDeadline(lleida, '2026-01-31', 1, 'months');
    assert.equal(r.nominalEnd, '2026-02-28');
    assert.equal(r.end, '2026-03-02');
    assert.deepEqual(skipped(r), ['2026-02-28', '2026-03-01']);
  });

  it('art. 30.4: a month ends on the same-numbered day (31 March + 1 month = 30 April, a business day)', () => {
    const r = dayDeadline(abella, '2026-03-31', 1, 'months');
    assert.equal(r.end, '2026-04-30');
    assert.deepEqual(skipped(r), []);
  });

  it('art. 30.4/30.5: one month from 29 August ends on 29 September, Lleida’s local holiday, so on 30 September', () => {
    const r = dayDeadline(lleida, '2026-08-29', 1, 'months');
    assert.equal(r.nominalEnd, '2026-09-29');
    assert.equal(r.end, '2026-09-30');
    assert.equal(dayDeadline(abella, '2026-08-29', 1, 'months').end, '2026-09-29');
  });

  it('art. 30.4/30.5: a year from 11 May 2025 ends on Lleida’s local holiday of 11 May 2026, so on 12 May', () => {
    const r = dayDeadline(lleida, '2025-05-11', 1, 'years');
    assert.equal(r.nominalEnd, '2026-05-11');
    assert.equal(r.end, '2026-05-12');
  });

  it('art. 30.4: two years from 29 February 2024 end on 28 February 2026 (clamped), moved to 2 March (art. 30.5)', () => {
    const r = dayDeadline(seu, '2024-02-29', 2, 'years');
    assert.equal(r.nominalEnd, '2026-02-28');
    assert.equal(r.end, '2026-03-02');
  });
});

describe('the interested party’s municipality (LPACAP art. 30.6)', () => {
  it('art. 30.6: for a party living in La Seu d’Urgell, its local holiday of 7 July is non-business for a Lleida body too', () => {
    const alone = dayDeadline(lleida, '2026-07-01', 5, 'business_days');
    const both = dayDeadline(combineCalendars(lleida, seu), '2026-07-01', 5, 'business_days');
    assert.equal(alone.end, '2026-07-08');
    assert.equal(both.end, '2026-07-09');
    const jul7 = both.nonBusinessDaysSkipped.find((s) => s.date === '2026-07-07');
    assert.equal(jul7?.reasons[0]?.place, `${municipalities.get(SEU)!.name} (INE 25203)`);
  });

  it('art. 30.6: the body’s holiday counts for a party living elsewhere (Lleida 29 September, party in Abella de la Conca)', () => {
    const r = dayDeadline(combineCalendars(lleida, abella), '2026-09-28', 1, 'business_days');
    assert.equal(r.end, '2026-09-30');
    assert.equal(dayDeadline(abella, '2026-09-28', 1, 'business_days').end, '2026-09-29');
  });

  it('art. 30.6/30.5: a last day on the party’s local holiday (Abella de la Conca, 2 October) moves for a Lleida body', () => {
    const r = dayDeadline(combineCalendars(lleida, abella), '2026-09-02', 1, 'months');
    assert.equal(r.nominalEnd, '2026-10-02');
    assert.equal(r.end, '2026-10-05');
    assert.equal(dayDeadline(lleida, '2026-09-02', 1, 'months').end, '2026-10-02');
  });
});

describe('hours (LPACAP art. 30.1)', () => {
  const at = (s: string) => new Date(s);

  it('art. 30.1: 24 hours from Friday 18:30 skip the weekend and end on Monday 18:30', () => {
    const r = hourDeadline(lleida, at('2026-04-17T18:30:00+02:00'), 24);
    assert.equal(formatMadrid(r.endAt), '2026-04-20T18:30:00+02:00');
    assert.deepEqual(skipped(r), ['2026-04-18', '2026-04-19']);
  });

  it('art. 30.1: 24 hours from Maundy Thursday 20:00 skip Good Friday, the weekend and Easter Monday', () => {
    const r = hourDeadline(lleida, at('2026-04-02T20:00:00+02:00'), 24);
    assert.equal(formatMadrid(r.endAt), '2026-04-07T20:00:00+02:00');
    assert.deepEqual(skipped(r), ['2026-04-03', '2026-04-04', '2026-04-05', '2026-04-06']);
  });

  it('art. 30.1: counted minute by minute, every hour of a business day (not office hours), including the night', () => {
    const r = hourDeadline(lleida, at('2026-03-10T23:15:00+01:00'), 1.5);
    assert.equal(formatMadrid(r.endAt), '2026-03-11T00:45:00+01:00');
  });

  it('art. 30.1: a notification on a non-business day counts from 00:00 of the next business day', () => {
    const r = hourDeadline(seu, at('2026-01-20T09:00:00+01:00'), 2);
    assert.equal(formatMadrid(r.endAt), '2026-01-21T02:00:00+01:00', '20 January is La Seu’s local holiday');
  });

  it('art. 30.1: at most 24 hours; a longer deadline is refused and must be stated in days', () => {
    assert.throws(
      () => hourDeadline(lleida, at('2026-03-10T10:00:00+01:00'), 25),
      (e: unknown) => e instanceof AppError && e.code === 'VALIDATION_FAILED' && /in days/.test(e.message),
    );
    assert.throws(() => hourDeadline(lleida, at('2026-03-10T10:00:00+01:00'), 0), AppError);
  });
});

describe('extension (LPACAP art. 32)', () => {
  it('art. 32.1: at most half of the original deadline, counted on from its last day', () => {
    const original = dayDeadline(lleida, '2026-05-04', 10, 'business_days');
    assert.equal(original.end, '2026-05-19');
    assert.deepEqual(maxExtension(original), { amount: 5, unit: 'business_days' });
    const r = extendDeadline(lleida, original, { amount: 5, decidedOn: '2026-05-15' });
    assert.equal(r.end, '2026-05-26');
    assert.equal(r.original.end, '2026-05-19');
    assert.throws(
      () => extendDeadline(lleida, original, { amount: 6, decidedOn: '2026-05-15' }),
      (e: unknown) => e instanceof AppError && e.details?.rule === 'art. 32.1' && e.details?.max === 5,
    );
  });

  it('art. 32.1: half of an odd deadline is rounded down (15 days: at most 7)', () => {
    assert.deepEqual(maxExtension({ amount: 15, unit: 'business_days' }), {
      amount: 7,
      unit: 'business_days',
    });
    assert.deepEqual(maxExtension({ amount: 5, unit: 'hours' }), { amount: 2.5, unit: 'hours' });
  });

  it('art. 32.1: a one-month deadline may be extended by at most half of the days it spans (31 January: 14 days)', () => {
    const original = dayDeadline(abella, '2026-01-31', 1, 'months');
    const r = extendDeadline(abella, original, {
      amount: 14,
      unit: 'calendar_days',
      decidedOn: '2026-02-20',
    });
    assert.equal(r.end, '2026-03-16');
    assert.throws(
      () => extendDeadline(abella, original, { amount: 15, unit: 'calendar_days', decidedOn: '2026-02-20' }),
      AppError,
    );
  });

  it('art. 32.3: an extension decided after the deadline ended is refused', () => {
    const original = dayDeadline(lleida, '2026-05-04', 10, 'business_days');
    assert.throws(
      () => extendDeadline(lleida, original, { amount: 2, decidedOn: '2026-05-20' }),
      (e: unknown) => e instanceof AppError && e.details?.rule === 'art. 32.3',
    );
    assert.equal(extendDeadline(lleida, original, { amount: 2, decidedOn: '2026-05-19' }).end, '2026-05-21');
  });

  it('art. 32.1: a deadline in hours is extended by at most half, from the moment it would have ended', () => {
    const original = hourDeadline(lleida, new Date('2026-04-17T18:30:00+02:00'), 24);
    const r = extendHourDeadline(lleida, original, {
      hours: 12,
      decidedAt: new Date('2026-04-20T10:00:00+02:00'),
    });
    assert.equal(formatMadrid(r.endAt), '2026-04-21T06:30:00+02:00');
    assert.throws(() =>
      extendHourDeadline(lleida, original, { hours: 13, decidedAt: new Date('2026-04-20T10:00:00+02:00') }),
    );
  });
});

describe('urgency (LPACAP art. 33.1)', () => {
  it('art. 33.1: the procedure’s deadlines are halved (odd days rounded up)', () => {
    assert.deepEqual(urgentDeadline({ amount: 10, unit: 'business_days' }, 'procedure'), {
      amount: 5,
      unit: 'business_days',
    });
    assert.deepEqual(urgentDeadline({ amount: 15, unit: 'business_days' }, 'procedure'), {
      amount: 8,
      unit: 'business_days',
    });
    assert.deepEqual(urgentDeadline({ amount: 2, unit: 'years' }, 'procedure'), {
      amount: 12,
      unit: 'months',
    });
    assert.deepEqual(urgentDeadline({ amount: 5, unit: 'hours' }, 'procedure'), {
      amount: 2.5,
      unit: 'hours',
    });
    const halved = urgentDeadline({ amount: 10, unit: 'business_days' }, 'procedure');
    assert.equal(dayDeadline(lleida, '2026-05-04', halved.amount, 'business_days').end, '2026-05-12');
  });

  it('art. 33.1: an odd number of months is halved in calendar days from the start (1 month from 31 January: 14 days)', () => {
    assert.deepEqual(urgentDeadline({ amount: 1, unit: 'months' }, 'procedure', '2026-01-31'), {
      amount: 14,
      unit: 'calendar_days',
    });
    assert.throws(() => urgentDeadline({ amount: 3, unit: 'months' }, 'procedure'), AppError);
  });

  it('art. 33.1: deadlines for filing requests and appeals are not halved', () => {
    assert.deepEqual(urgentDeadline({ amount: 1, unit: 'months' }, 'appeal'), { amount: 1, unit: 'months' });
    assert.deepEqual(urgentDeadline({ amount: 15, unit: 'business_days' }, 'filing_request'), {
      amount: 15,
      unit: 'business_days',
    });
  });
});

describe('a missing calendar is an error, never a guess (LPACAP art. 30.2, DOMAIN: Deadlines)', () => {
  it('art. 30.2: a municipality whose 2026 local days were not published (La Vall de Boí) raises CALENDAR_INCOMPLETE', () => {
    assertIncomplete(
      () => dayDeadline(place(VALL_DE_BOI), '2026-03-02', 5, 'business_days'),
      2026,
      /Vall de Bo/,
    );
  });

  it('art. 30.6: a party living in a municipality without local days makes the deadline incomplete too', () => {
    assertIncomplete(
      () => dayDeadline(combineCalendars(lleida, place(VALL_DE_BOI)), '2026-03-02', 5, 'business_days'),
      2026,
      /Vall de Bo/,
    );
  });

  it('art. 30.2: a deadline reaching 2027, a year with no data, raises CALENDAR_INCOMPLETE naming 2027 and Lleida', () => {
    assertIncomplete(() => dayDeadline(lleida, '2026-12-20', 10, 'business_days'), 2027, /Lleida/);
  });

  it('art. 30.2: 2025 has the Catalan holidays but no local days: a 2025 deadline is incomplete', () => {
    assertIncomplete(() => dayDeadline(abella, '2025-03-03', 3, 'business_days'), 2025, /Abella/);
  });

  it('art. 30.2: in the Val d’Aran the regional substitution (17 June) is not in the data, so Les is incomplete until an operator enters it', () => {
    assertIncomplete(() => dayDeadline(place(LES), '2026-03-02', 5, 'business_days'), 2026, /Les/);
  });

  it('art. 30.2: once an operator enters the Val d’Aran substitution and marks the year, 17 June is non-business there', () => {
    const d = placeData(LES);
    const replaced = '2026-12-26'; // for the test only: which day Aran replaces is data an operator enters
    const withAran = placeCalendar({
      ...d,
      regionalDays: [
        ...d.regionalDays,
        { date: '2026-06-17', scope: 'aran', name: "Festa d'Aran", nonBusiness: true },
        { date: replaced, scope: 'aran', name: 'Sant Esteve (substituted)', nonBusiness: false },
      ],
      regionalYears: [...d.regionalYears, { year: 2026, scope: 'aran', complete: true, note: null }],
    });
    assert.equal(dayDeadline(withAran, '2026-06-16', 1, 'business_days').end, '2026-06-18');
    assert.deepEqual(withAran.holidaysOn(replaced), []);
    assert.deepEqual(lleida.holidaysOn('2026-06-17'), [], 'not in the rest of Catalonia');
  });
});

describe('an entity’s own local days (LPACAP art. 30.2; DOMAIN: an EMD uses its municipality’s days unless it has its own)', () => {
  const base = {
    days: seed.localDays.filter((d) => d.ine === LLEIDA),
    years: seed.localYears.filter((y) => y.ine === LLEIDA),
  };
  const at = (n: number) => n;

  it('art. 30.2: an EMD takes its parent municipality’s local days when it has none of its own', () => {
    const layer = entityLocalLayer({ isEmd: true, base, rows: [], declaredYears: [] });
    const cal = placeCalendar({ ...placeData(LLEIDA), ...layer });
    assert.equal(dayStatus(cal, '2026-05-11').business, false);
  });

  it('art. 30.2: an EMD’s own days replace the parent’s, and the year is incomplete until declared complete', () => {
    const rows = [{ date: '2026-06-15', action: 'add' as const, name: 'Festa major', createdAt: at(1) }];
    const own = entityLocalLayer({ isEmd: true, base, rows, declaredYears: [] });
    assertIncomplete(
      () => dayStatus(placeCalendar({ ...placeData(LLEIDA), ...own }), '2026-06-16'),
      2026,
      /Lleida/,
    );
    const declared = entityLocalLayer({
      isEmd: true,
      base,
      rows,
      declaredYears: [{ year: 2026, complete: true }],
    });
    const cal = placeCalendar({ ...placeData(LLEIDA), ...declared });
    assert.equal(dayStatus(cal, '2026-06-15').business, false);
    assert.equal(dayStatus(cal, '2026-05-11').business, true, 'the parent’s day no longer applies');
  });

  it('art. 30.2: a municipality’s correction removes a local day; the latest correction for a date wins', () => {
    const rows = [
      { date: '2026-09-29', action: 'remove' as const, name: null, createdAt: at(1) },
      { date: '2026-05-11', action: 'remove' as const, name: null, createdAt: at(2) },
      { date: '2026-05-11', action: 'add' as const, name: 'Sant Anastasi', createdAt: at(3) },
    ];
    const layer = entityLocalLayer({ isEmd: false, base, rows, declaredYears: [] });
    const cal = placeCalendar({ ...placeData(LLEIDA), ...layer });
    assert.equal(dayStatus(cal, '2026-09-29').business, true);
    const may11 = cal.holidaysOn('2026-05-11');
    assert.ok(Array.isArray(may11));
    assert.deepEqual(
      may11.map((h) => [h.name, h.scope]),
      [['Sant Anastasi', 'entity']],
    );
  });
});

describe('registry times (LPACAP art. 31.2.b)', () => {
  it('art. 31.2.b: a filing on Sunday 5 April 2026 at 10:00 in Lleida counts from 00:00 of Tuesday 7 April (6 April is Easter Monday)', () => {
    const presented = new Date('2026-04-05T10:00:00+02:00');
    const effective = effectiveRegistryTime(presented, lleida);
    assert.equal(formatMadrid(effective), '2026-04-07T00:00:00+02:00');
    assert.equal(effective.toISOString(), '2026-04-06T22:00:00.000Z');
    assert.ok(effective.getTime() <= new Date('2026-04-07T00:00:00+02:00').getTime(), 'ranks before 7 April');
  });

  it('art. 31.2.b: a filing on a business day keeps its time, even at night', () => {
    const presented = new Date('2026-04-07T23:59:59.500+02:00');
    assert.equal(effectiveRegistryTime(presented, lleida).getTime(), presented.getTime());
  });

  it('art. 31.2.b: a filing on a local holiday of the seat (Lleida, 11 May) counts from 00:00 of 12 May', () => {
    const effective = effectiveRegistryTime(new Date('2026-05-11T12:00:00+02:00'), lleida);
    assert.equal(formatMadrid(effective), '2026-05-12T00:00:00+02:00');
  });

  it('art. 31.2.b: the day is Europe/Madrid’s: 23:30 UTC on Sunday is 00:30 on Monday there and keeps its time', () => {
    const monday = new Date('2026-03-08T23:30:00Z'); // 00:30 on Monday 9 March in Madrid
    assert.equal(madridDateOf(monday), '2026-03-09');
    assert.equal(effectiveRegistryTime(monday, lleida).getTime(), monday.getTime());
    const winter = effectiveRegistryTime(new Date('2026-03-07T12:00:00Z'), lleida);
    assert.equal(formatMadrid(winter), '2026-03-09T00:00:00+01:00');
  });
});
