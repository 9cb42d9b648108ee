import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { type Extract, extractDue, LocalOutboxSender } from './extracts.service.ts';

describe('decree extracts: the 6-day limit (LBRL art. 56.1)', () => {
  it('ends at 24:00 Europe/Madrid of the sixth day after the decree’s Madrid date', () => {
    // 10:00 in Madrid (CET) on 12 January → 19 January 00:00 CET.
    assert.equal(extractDue(new Date('2027-01-12T09:00:00Z')).toISOString(), '2027-01-18T23:00:00.000Z');
    // 23:30 on 31 December in Madrid is still 31 December (22:30 UTC): due 7 January 00:00 CET.
    assert.equal(extractDue(new Date('2026-12-31T22:30:00Z')).toISOString(), '2027-01-06T23:00:00.000Z');
    // 00:30 on 1 January in Madrid (23:30 UTC the day before) is a decree of 1 January.
    assert.equal(extractDue(new Date('2026-12-31T23:30:00Z')).toISOString(), '2027-01-07T23:00:00.000Z');
  });

  it('counts across the change to summer time (the limit is midnight CEST)', () => {
    // 26 March 2026 (CET) + 6 days → 1 April 24:00 = 2 April 00:00 CEST (22:00 UTC on 1 April).
    assert.equal(extractDue(new Date('2026-03-26T11:00:00Z')).toISOString(), '2026-04-01T22:00:00.000Z');
  });
});

describe('decree extracts: the local outbox sender', () => {
  const extract: Extract = {
    recipient: 'GENCAT',
    entity: { dir3: 'L01250019', name: 'Ajuntament de Prova' },
    number: '2026/000017',
    date: '2026-03-02T09:00:00.000Z',
    position: "L'alcaldessa",
    summary: 'Aprovar la llicència d’obres menors',
  };

  it('writes one JSON file per decree and recipient; the same extract gets the same acknowledgement', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lligall-outbox-'));
    try {
      const sut = new LocalOutboxSender(dir);
      const a = await sut.send(extract);
      const file = path.join(dir, 'L01250019', '2026', '2026-000017-GENCAT.json');
      const written = JSON.parse(fs.readFileSync(file, 'utf8'));
      assert.deepEqual(written, { ackId: a.ackId, extract });
      const again = await sut.send(extract);
      assert.equal(again.ackId, a.ackId);
      const other = await sut.send({ ...extract, recipient: 'AGE' });
      assert.notEqual(other.ackId, a.ackId);
      assert.deepEqual(fs.readdirSync(path.dirname(file)).sort(), [
        '2026-000017-AGE.json',
        '2026-000017-GENCAT.json',
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails when the outbox cannot be written, leaving no file behind', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lligall-outbox-'));
    try {
      fs.writeFileSync(path.join(dir, 'L01250019'), 'a file where a directory goes');
      await assert.rejects(new LocalOutboxSender(dir).send(extract), /ENOTDIR|EEXIST/);
      assert.deepEqual(fs.readdirSync(dir), ['L01250019']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
