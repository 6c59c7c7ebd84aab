// node-redis against `kvbench serve` over RESP, on its default settings:
// every answer checked against the data file.
//
// Usage: node node_redis.mjs PORT DATA_FILE
// Prints one JSON line: what was checked, how many times.

import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { createClient, RESP_TYPES } from 'redis';

const [port, path] = process.argv.slice(2);
// A client that never finishes connecting (node-redis 6 against a server
// refusing RESP3 reconnects forever) must fail the check, not hang it.
setTimeout(() => { console.error('node-redis: no answer within 30 s'); process.exit(2); }, 30_000).unref();

function records(file) {
  const found = new Map();
  let start = 0;
  const bytes = readFileSync(file);
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    let line = bytes.subarray(start, end);
    start = end + 1;
    if (line.length && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    const sep = line.findIndex((b) => b === 0x20 || b === 0x09);
    if (sep <= 0) continue;
    const key = line.subarray(0, sep).toString('latin1');
    if (!found.has(key)) found.set(key, Buffer.from(line.subarray(sep + 1)));
  }
  return found;
}

const data = records(path);
const keys = [...data.keys()].sort();
const misses = [];
while (misses.length < 50) {
  const key = randomUUID();
  if (!data.has(key)) misses.push(key);
}
const impossible = ['a b', 'tab\tkey', '', 'k'.repeat(2000)];
const version = createRequire(import.meta.url)('redis/package.json').version;
const summary = { client: 'node-redis', version, settings: 'default' };

// Bytes as latin1 text (one character per byte), so a value read as bytes
// and one read as a string of ASCII compare alike.
const text = (v) => (Buffer.isBuffer(v) ? v.toString('latin1') : Array.isArray(v) ? v.map(text) : v);
const short = (v) => JSON.stringify(text(v)).slice(0, 300);

function expect(operation, got, want, what) {
  if (JSON.stringify(text(got)) !== JSON.stringify(text(want))) {
    console.error(`node-redis: ${operation} ${short(what)}: got ${short(got)}, want ${short(want)}`);
    process.exit(1);
  }
  summary[operation] = (summary[operation] ?? 0) + 1;
}

const client = createClient({ url: `redis://127.0.0.1:${port}` });
client.on('error', (err) => { console.error(`node-redis: ${err}`); });
await client.connect();
// Values as bytes, so binary values compare exactly (keys are sent as latin1 bytes).
const bin = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
const key = (k) => Buffer.from(k, 'latin1');
const want = (k) => data.get(k) ?? null;

const hello = await client.sendCommand(['HELLO']);
summary.proto = hello.proto ?? hello.get?.('proto') ?? (Array.isArray(hello) ? hello[hello.indexOf('proto') + 1] : undefined);
for (const k of keys) expect('get', await bin.get(key(k)), want(k), k);
for (const k of [...misses, ...impossible]) expect('miss', await bin.get(key(k)), null, k);
for (let i = 0; i < keys.length; i += 40) {
  const batch = [...keys.slice(i, i + 40), ...misses.slice(0, 2), ...impossible.slice(0, 2)];
  expect('mget', await bin.mGet(batch.map(key)), batch.map(want), batch[0]);
}
expect('exists', await client.exists([keys[0], keys[1], misses[0], impossible[0]]), 2, keys[0]);
const batch = [...keys.slice(0, 100), ...misses.slice(0, 5)];
// Commands issued together are pipelined on the socket (node-redis's auto-pipelining).
expect('pipeline', await Promise.all(batch.map((k) => bin.get(key(k)))), batch.map(want), batch[0]);
// A transaction's replies come back as strings (the type mapping does not
// reach them): the batch's values are ASCII.
const multi = client.multi();
for (const k of batch) multi.get(key(k));
expect('transaction', await multi.exec(), batch.map(want), batch[0]);
for (const k of keys.filter((k) => !data.get(k).every((b) => b < 0x80))) expect('binary', await bin.get(key(k)), want(k), k);
expect('dbsize', await client.dbSize(), data.size, 'DBSIZE');
await client.quit();
console.log(JSON.stringify(summary));
