import assert from 'node:assert/strict';
import { test } from 'node:test';
import { orderByDependencies } from './catalogue.ts';

const names = (ts: { name: string }[]) => ts.map((t) => t.name);

test('referenced tables come first, ties by name', () => {
  const sut = orderByDependencies([
    { name: 'index_entries', references: ['documents', 'expedients'] },
    { name: 'documents', references: ['tenants', 'documents'] },
    { name: 'expedients', references: ['tenants', 'units'] },
    { name: 'units', references: ['tenants'] },
    { name: 'tenants', references: ['tenants'] },
    { name: 'audit_events', references: [] },
  ]);
  assert.deepEqual(names(sut), [
    'audit_events',
    'tenants',
    'documents',
    'units',
    'expedients',
    'index_entries',
  ]);
});

test('references to tables outside the list are ignored', () => {
  assert.deepEqual(names(orderByDependencies([{ name: 'a', references: ['elsewhere'] }])), ['a']);
});

test('a reference cycle keeps every table, after the others, in name order', () => {
  const sut = orderByDependencies([
    { name: 'b', references: ['a'] },
    { name: 'a', references: ['b'] },
    { name: 'c', references: [] },
  ]);
  assert.deepEqual(names(sut), ['c', 'a', 'b']);
});
