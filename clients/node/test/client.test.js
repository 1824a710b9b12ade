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
const {
  connect, screenContact, screenBatch, errorInfo, ErrorReason, retryPolicy, withRetry, grpc,
} = require('../client');

const BIN = process.env.ROBINSCREEN_BIN;
let client;

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

// startServer runs the binary with the demo dataset and extra flags and
// resolves to { server, client, dataDir } once it answers.
async function startServer(extraArgs = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'robinscreen-node-'));
  const addr = `127.0.0.1:${await freePort()}`;
  const proc = spawn(BIN, ['serve', '--demo', '--data', dir, '--listen', addr, ...extraArgs], { stdio: ['ignore', 'inherit', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  const c = connect(addr);
  // Wait until the server answers (it loads the demo dataset first).
  const until = Date.now() + 30000;
  await new Promise((resolve, reject) => {
    c.waitForReady(until, (err) => (err ? reject(new Error(`server not ready: ${err.message}\n${log}`)) : resolve()));
  });
  return { server: proc, client: c, dataDir: dir };
}

// stopServer stops the server and removes its data directory once it has
// exited (removing it under a closing server can keep the server from
// ever finishing its shutdown).
async function stopServer(s) {
  if (!s) return;
  s.client.close();
  if (s.server.exitCode === null && s.server.signalCode === null) {
    const exited = new Promise((resolve) => { s.server.once('exit', resolve); });
    s.server.kill('SIGTERM');
    const timer = setTimeout(() => s.server.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(timer);
  }
  fs.rmSync(s.dataDir, { recursive: true, force: true });
}

let main;
before(async () => {
  assert.ok(BIN, 'set ROBINSCREEN_BIN to the robinscreen binary (clients/node/test.sh does)');
  main = await startServer();
  client = main.client;
});

after(async () => { await stopServer(main); });

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
      const info = errorInfo(err);
      assert.equal(info.reason, 'INVALID_REQUEST');
      assert.equal(info.domain, 'robinscreen.v1');
      assert.equal(info.known, true);
      assert.equal(info.retryDelayMs, null);
      assert.deepEqual(info.metadata, {});
      return true;
    },
  );
});

test('every ErrorReason in errors.proto is known to the client', () => {
  // Read the enum from the proto text, independently of the client's loader.
  const text = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'proto', 'robinscreen', 'v1', 'errors.proto'), 'utf8');
  const declared = {};
  for (const m of text.matchAll(/^\s*ERROR_REASON_([A-Z0-9_]+)\s*=\s*(\d+);/gm)) {
    if (m[2] !== '0') declared[m[1]] = Number(m[2]);
  }
  assert.ok(Object.keys(declared).length >= 17, `only ${Object.keys(declared).length} reasons parsed from errors.proto`);
  assert.deepEqual(ErrorReason, declared);
  for (const name of Object.keys(declared)) {
    assert.ok(['backoff', 'retry-info', 'never'].includes(retryPolicy(name)), `no retry policy for ${name}`);
  }
  assert.equal(retryPolicy('RATE_LIMITED'), 'retry-info');
  assert.equal(retryPolicy('TLS_REQUIRED'), 'never');
  assert.equal(retryPolicy('NOT_A_REASON'), undefined);
});

test('a rate-limited call is retried after the RetryInfo delay', async () => {
  // One request per second, burst one: a call right after another is
  // refused with a RetryInfo of up to a second.
  const limited = await startServer(['--rate-limit', '1', '--rate-burst', '1']);
  try {
    const req = { channel: 'CHANNEL_POST', contact: { ref: 'r', name: 'Ole Nysen', address: 'Nyvej 5', postalCode: '2100' } };
    const takeToken = () => withRetry(() => screenContact(limited.client, req));
    await takeToken();
    // Without retries the refusal comes back with its delay.
    await assert.rejects(withRetry(() => screenContact(limited.client, req), { maxAttempts: 1 }), (err) => {
      assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED);
      const info = errorInfo(err);
      assert.equal(info.reason, 'RATE_LIMITED');
      assert.equal(info.known, true);
      assert.ok(info.retryDelayMs > 0 && info.retryDelayMs <= 1000, `retryDelayMs ${info.retryDelayMs}`);
      assert.equal(String(Math.max(1, Math.floor(info.retryDelayMs))), info.metadata.retry_after_ms);
      assert.equal(err.attempts, 1);
      return true;
    });
    // A deadline before the delay ends rejects at once.
    const t0 = Date.now();
    await assert.rejects(withRetry(() => screenContact(limited.client, req), { deadline: Date.now() + 20 }),
      (err) => errorInfo(err).reason === 'RATE_LIMITED');
    assert.ok(Date.now() - t0 < 500, 'waited although the delay outlasts the deadline');
    // With retries it waits out the delay the server sent and succeeds.
    await takeToken();
    const delays = [];
    const start = Date.now();
    const r = await withRetry(async () => {
      try {
        return await screenContact(limited.client, req);
      } catch (err) {
        delays.push(errorInfo(err).retryDelayMs);
        throw err;
      }
    });
    const elapsed = Date.now() - start;
    assert.equal(r.decision, 'DECISION_ALLOW');
    assert.ok(delays.length >= 1, 'the limit did not refuse the call');
    const waited = delays.reduce((a, b) => a + b, 0);
    assert.ok(elapsed >= waited - 2, `retried after ${elapsed} ms, before the server's delays of ${waited} ms`);
  } finally {
    await stopServer(limited);
  }
});
