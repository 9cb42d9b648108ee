import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Manifest, parseManifest } from './manifest.ts';

const good: Manifest = {
  format: 'lligall-backup',
  version: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  database: {
    kind: 'pglite',
    serverVersion: '18.0',
    migrations: ['0001-core'],
    tables: [
      {
        name: 'tenants',
        columns: ['id'],
        rows: 1,
        file: 'db/tenants.jsonl',
        size: 10,
        sha256: 'a'.repeat(64),
      },
    ],
    sequences: [{ name: 's', lastValue: '12', isCalled: true }],
  },
  blobs: [{ sha256: 'b'.repeat(64), size: 3 }],
  files: [{ path: 'files/checkpoints/x/1.json', size: 2, sha256: 'c'.repeat(64) }],
};

test('a well-formed manifest parses', () => {
  assert.deepEqual(parseManifest(JSON.stringify(good)), good);
});

test('malformed manifests are refused with VALIDATION_FAILED', () => {
  const bad: unknown[] = [
    'not json',
    { ...good, format: 'tar' },
    { ...good, version: 2 },
    { ...good, database: { ...good.database, kind: 'mysql' } },
    { ...good, database: { ...good.database, tables: [{ ...good.database.tables[0], file: '../x' }] } },
    { ...good, database: { ...good.database, tables: [{ ...good.database.tables[0], rows: -1 }] } },
    { ...good, database: { ...good.database, tables: [good.database.tables[0], good.database.tables[0]] } },
    {
      ...good,
      database: { ...good.database, sequences: [{ name: 's', lastValue: '1; drop', isCalled: true }] },
    },
    { ...good, blobs: [{ sha256: 'xyz', size: 1 }] },
    { ...good, files: [{ path: 'x', size: 1.5, sha256: 'c'.repeat(64) }] },
  ];
  for (const b of bad) {
    assert.throws(() => parseManifest(typeof b === 'string' ? b : JSON.stringify(b)), {
      code: 'VALIDATION_FAILED',
    });
  }
});
