'use strict';
// Starts the real robinscreen server binary with the demo dataset and
// screens against it. ROBINSCREEN_BIN names the binary (test.sh builds it).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { connect, screenContact, screenBatch, errorInfo, grpc } = require('../client');

const BIN = process.env.ROBINSCREEN_BIN;
let server;
let client;
let dataDir;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

before(async () => {
  assert.ok(BIN, 'set ROBINSCREEN_BIN to the robinscreen binary (clients/node/test.sh does)');
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'robinscreen-node-'));
  const addr = `127.0.0.1:${await freePort()}`;
  server = spawn(BIN, ['serve', '--demo', '--data', dataDir, '--listen', addr], { stdio: ['ignore', 'inherit', 'pipe'] });
  let log = '';
  server.stderr.on('data', (d) => { log += d; });
  client = connect(addr);
  // Wait until the server answers (it loads the demo dataset first).
  const until = Date.now() + 30000;
  await new Promise((resolve, reject) => {
    client.waitForReady(until, (err) => (err ? reject(new Error(`server not ready: ${err.message}\n${log}`)) : resolve()));
  });
});

after(() => {
  if (client) client.close();
  if (server) server.kill('SIGTERM');
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

test('a listed person is blocked (ScreenContact)', async () => {
  const r = await screenContact(client, {
    channel: 'CHANNEL_POST',
    contact: { ref: 'one', name: 'Søren Testesen', address: 'Fiktivvej 12, 2. tv, 2100 København Ø' },
  });
  assert.equal(r.ref, 'one');
  assert.equal(r.decision, 'DECISION_BLOCK');
  assert.deepEqual(r.reasons, ['REASON_ROBINSON_LIST']);
  assert.ok(r.datasets.some((d) => d.kind === 'robinson'), 'the result names the Robinson dataset');
});

test('an unlisted person with name and address is allowed by post', async () => {
  const r = await screenContact(client, {
    channel: 'CHANNEL_POST',
    contact: { ref: 'two', name: 'Ole Nysen', address: 'Nyvej 5', postalCode: '2100' },
  });
  assert.equal(r.decision, 'DECISION_ALLOW');
  assert.deepEqual(r.reasons, []);
});

test('a streamed batch keeps order across chunks', async () => {
  const contacts = [];
  for (let i = 0; i < 2500; i++) {
    contacts.push(i % 5 === 0
      ? { ref: String(i), name: 'Søren Testesen', address: 'Fiktivvej 12, 2. tv', postalCode: '2100' }
      : { ref: String(i), name: `Ole Nysen${i}`, address: `Nyvej ${(i % 90) + 1}, 2100 København Ø` });
  }
  const results = await screenBatch(client, { channel: 'CHANNEL_POST', contacts, chunkSize: 400 });
  assert.equal(results.length, contacts.length);
  results.forEach((r, i) => {
    assert.equal(r.ref, String(i));
    if (i % 5 === 0) {
      assert.equal(r.decision, 'DECISION_BLOCK');
      assert.deepEqual(r.reasons, ['REASON_ROBINSON_LIST']);
    } else {
      assert.equal(r.decision, 'DECISION_ALLOW', `row ${i}`);
    }
  });
});

test('a request error carries ErrorInfo', async () => {
  await assert.rejects(
    screenContact(client, { channel: 'CHANNEL_UNSPECIFIED', contact: { name: 'Ole Nysen' } }),
    (err) => {
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
      assert.deepEqual(errorInfo(err), { reason: 'INVALID_REQUEST', domain: 'robinscreen.v1' });
      return true;
    },
  );
});
