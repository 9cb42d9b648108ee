import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyEntryPath } from './archive.ts';

const sha = 'ab'.repeat(32);

test('the layout of a backup is recognised', () => {
  assert.deepEqual(classifyEntryPath('manifest.json', false), { kind: 'manifest' });
  assert.deepEqual(classifyEntryPath('db/audit_events.jsonl', false), {
    kind: 'table',
    name: 'audit_events',
  });
  assert.deepEqual(classifyEntryPath(`blobs/${sha}`, false), { kind: 'blob', sha256: sha });
  assert.deepEqual(classifyEntryPath('files/checkpoints/0190-ab/00000000000000000001.json', false), {
    kind: 'file',
    area: 'checkpoints',
    relative: '0190-ab/00000000000000000001.json',
  });
  assert.deepEqual(classifyEntryPath('db/', true), { kind: 'dir' });
  assert.deepEqual(classifyEntryPath('files/checkpoints/', true), { kind: 'dir' });
});

test('unsafe or unknown paths are refused', () => {
  for (const p of [
    '',
    '/etc/passwd',
    '../x',
    'db/../../x',
    'files/checkpoints/../../x',
    'files/checkpoints/./x',
    'blobs/./x',
    `blobs/${sha.toUpperCase()}`,
    'blobs/abc',
    'db/Audit.jsonl',
    'db/x.json',
    'db/sub/x.jsonl',
    'files/x',
    'files/Bad/x',
    'files/a/.hidden',
    'manifest.json/',
    'other.txt',
    'db\\x.jsonl',
    'files/a/b\u0000c',
    `files/a/${'x'.repeat(1100)}`,
  ]) {
    assert.equal(classifyEntryPath(p, false), null, p);
  }
  for (const p of ['../', 'db/x/', 'blobs/ab/', 'etc/']) assert.equal(classifyEntryPath(p, true), null, p);
});
