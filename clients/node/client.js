'use strict';
// Example Node.js client for robinscreen.v1.ScreeningService.
// Loads the .proto at run time with @grpc/proto-loader (no code generation).
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_ROOT = path.resolve(__dirname, '..', '..', 'proto');
// google/api/annotations.proto and http.proto (the HTTP bindings that
// screening.proto imports) come with the npm package google-proto-files.
const GOOGLE_PROTOS = path.dirname(require.resolve('google-proto-files/package.json'));

function loadService() {
  const def = protoLoader.loadSync('robinscreen/v1/screening.proto', {
    // google/protobuf/timestamp.proto is bundled with proto-loader
    includeDirs: [PROTO_ROOT, GOOGLE_PROTOS],
    keepCase: false, // fields in lowerCamelCase: postalCode, existingCustomer
    enums: String, // enums as their names: 'DECISION_BLOCK'
    longs: String,
    defaults: true,
  });
  return grpc.loadPackageDefinition(def).robinscreen.v1.ScreeningService;
}

// connect returns a ScreeningService client; credentials default to
// plaintext (use grpc.credentials.createSsl(...) for TLS, combined with
// grpc.credentials.createFromMetadataGenerator for a bearer token).
function connect(address, credentials = grpc.credentials.createInsecure()) {
  const Service = loadService();
  return new Service(address, credentials, {
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
  });
}

// screenContact screens one contact and resolves to its ScreeningResult.
function screenContact(client, { channel, purpose = 'PURPOSE_OTHER', contact }, deadlineMs = 10000) {
  return new Promise((resolve, reject) => {
    client.screenContact(
      { channel, purpose, contact },
      { deadline: Date.now() + deadlineMs },
      (err, resp) => (err ? reject(err) : resolve(resp.result)),
    );
  });
}

// screenBatch streams contacts in chunks of chunkSize (max 10000) over
// ScreenContacts and resolves to the results in input order: each response
// message answers one request message, in order.
function screenBatch(client, { channel, purpose = 'PURPOSE_OTHER', contacts, chunkSize = 1000 }, deadlineMs = 60000) {
  return new Promise((resolve, reject) => {
    const call = client.screenContacts({ deadline: Date.now() + deadlineMs });
    const results = [];
    const expected = [];
    call.on('data', (resp) => {
      const want = expected.shift();
      if (resp.results.length !== want) {
        call.cancel();
        reject(new Error(`got ${resp.results.length} results for a chunk of ${want}`));
        return;
      }
      results.push(...resp.results);
    });
    call.on('error', reject);
    call.on('end', () => resolve(results));
    for (let i = 0; i < contacts.length; i += chunkSize) {
      const chunk = contacts.slice(i, i + chunkSize);
      expected.push(chunk.length);
      call.write({ channel, purpose, contacts: chunk });
    }
    call.end();
  });
}

// The ErrorInfo reasons, read from errors.proto at load time (no hand
// list): ErrorReason maps each wire name ('NO_DATASET', the enum value's name
// without the ERROR_REASON_ prefix) to its number.
const REASON_PREFIX = 'ERROR_REASON_';
const ErrorReason = (() => {
  const def = protoLoader.loadSync('robinscreen/v1/errors.proto', { includeDirs: [PROTO_ROOT] });
  const out = {};
  for (const v of def['robinscreen.v1.ErrorReason'].type.value) {
    if (v.number !== 0) out[v.name.slice(REASON_PREFIX.length)] = v.number;
  }
  return Object.freeze(out);
})();

// How the client answers a refusal, per reason: 'backoff' (retry with
// exponential back-off), 'retry-info' (retry after the google.rpc.RetryInfo
// delay the server sent, never without one) or 'never'. Every reason not
// named here is 'never'; a name that errors.proto does not declare is a
// load-time error.
const RETRY = { SHUTTING_DOWN: 'backoff', RATE_LIMITED: 'retry-info' };
for (const name of Object.keys(RETRY)) {
  if (!(name in ErrorReason)) throw new Error(`client.js: retry policy for ${name}, which errors.proto does not declare`);
}

// retryPolicy returns 'backoff', 'retry-info' or 'never' for a wire reason;
// for a reason errors.proto does not declare (a newer server) or none, it
// returns undefined and the gRPC code decides.
function retryPolicy(reason) {
  if (!(reason in ErrorReason)) return undefined;
  return RETRY[reason] || 'never';
}

// Minimal protobuf wire-format reader for the google.rpc.Status trailer:
// fields(buf) yields [fieldNumber, wireType, value] with value a Buffer for
// length-delimited fields and a number for varints.
function* fields(buf) {
  let i = 0;
  const varint = () => {
    let n = 0;
    let mul = 1;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++];
      n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
      mul *= 128;
    }
  };
  while (i < buf.length) {
    const tag = varint();
    const no = Math.floor(tag / 8);
    const wt = tag & 7;
    if (wt === 0) yield [no, wt, varint()];
    else if (wt === 2) {
      const len = varint();
      if (i + len > buf.length) throw new Error('truncated field');
      yield [no, wt, buf.subarray(i, i + len)];
      i += len;
    } else if (wt === 1) i += 8;
    else if (wt === 5) i += 4;
    else throw new Error(`unsupported wire type ${wt}`);
  }
}

function decodeErrorInfo(buf) {
  const info = { reason: '', domain: '', metadata: {} };
  for (const [no, wt, v] of fields(buf)) {
    if (wt !== 2) continue;
    if (no === 1) info.reason = v.toString('utf8');
    else if (no === 2) info.domain = v.toString('utf8');
    else if (no === 3) {
      let key = '';
      let value = '';
      for (const [eno, ewt, ev] of fields(v)) {
        if (ewt !== 2) continue;
        if (eno === 1) key = ev.toString('utf8');
        else if (eno === 2) value = ev.toString('utf8');
      }
      info.metadata[key] = value;
    }
  }
  return info;
}

// decodeRetryDelayMs reads google.rpc.RetryInfo{google.protobuf.Duration
// retry_delay = 1} in milliseconds.
function decodeRetryDelayMs(buf) {
  let ms = 0;
  for (const [no, wt, v] of fields(buf)) {
    if (no !== 1 || wt !== 2) continue;
    for (const [dno, dwt, dv] of fields(v)) {
      if (dwt !== 0) continue;
      if (dno === 1) ms += dv * 1000;
      else if (dno === 2) ms += dv / 1e6;
    }
  }
  return Math.max(0, ms);
}

const ERROR_INFO_TYPE = 'type.googleapis.com/google.rpc.ErrorInfo';
const RETRY_INFO_TYPE = 'type.googleapis.com/google.rpc.RetryInfo';

// errorInfo decodes a gRPC error's grpc-status-details-bin trailer
// (google.rpc.Status) and returns { reason, domain, metadata, known,
// retryDelayMs } from its ErrorInfo and RetryInfo details, or null when it
// carries no ErrorInfo. known tells whether errors.proto declares the
// reason; retryDelayMs is null without a RetryInfo.
function errorInfo(err) {
  const bin = err && err.metadata && err.metadata.get('grpc-status-details-bin')[0];
  if (!bin) return null;
  let info = null;
  let retryDelayMs = null;
  for (const [no, wt, any] of fields(Buffer.from(bin))) {
    if (no !== 3 || wt !== 2) continue; // Status.details: repeated Any
    let typeUrl = '';
    let value = Buffer.alloc(0);
    for (const [ano, awt, av] of fields(any)) {
      if (awt !== 2) continue;
      if (ano === 1) typeUrl = av.toString('utf8');
      else if (ano === 2) value = av;
    }
    if (typeUrl === ERROR_INFO_TYPE) info = decodeErrorInfo(value);
    else if (typeUrl === RETRY_INFO_TYPE) retryDelayMs = decodeRetryDelayMs(value);
  }
  if (!info) return null;
  return { ...info, known: info.reason in ErrorReason, retryDelayMs };
}

// retryable tells whether a failed call may be repeated unchanged, and
// after how long: { retry: false } or { retry: true, delayMs } where delayMs
// is the server's RetryInfo delay, or null for exponential back-off.
function retryable(err) {
  const info = errorInfo(err);
  const policy = info && info.domain === 'robinscreen.v1' ? retryPolicy(info.reason) : undefined;
  if (policy === 'retry-info') {
    return info.retryDelayMs > 0 ? { retry: true, delayMs: info.retryDelayMs } : { retry: false };
  }
  if (policy === 'backoff') return { retry: true, delayMs: null };
  if (policy === 'never') return { retry: false };
  return err && err.code === grpc.status.UNAVAILABLE ? { retry: true, delayMs: null } : { retry: false };
}

// withRetry calls fn() (which returns a promise) until it resolves, a
// refusal is not retryable, or maxAttempts calls were made: UNAVAILABLE
// and SHUTTING_DOWN after exponential back-off with jitter (baseMs doubling
// to maxMs), RATE_LIMITED after the server's RetryInfo delay (plus up to
// 10 %). A delay that would end after deadline (ms since the epoch)
// rejects at once with the refusal. The error it rejects with has
// .attempts.
async function withRetry(fn, { maxAttempts = 8, baseMs = 200, maxMs = 5000, deadline = Infinity } = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      err.attempts = attempt;
      const r = retryable(err);
      if (!r.retry || attempt >= maxAttempts) throw err;
      let wait;
      if (r.delayMs !== null) {
        if (Date.now() + r.delayMs > deadline) throw err;
        wait = r.delayMs * (1 + 0.1 * Math.random());
      } else {
        wait = Math.min(maxMs, baseMs * 2 ** (attempt - 1)) * (0.75 + 0.5 * Math.random());
      }
      if (Date.now() + wait > deadline) throw err;
      await new Promise((resolve) => { setTimeout(resolve, wait); });
    }
  }
}

module.exports = {
  connect, screenContact, screenBatch, errorInfo, ErrorReason, retryPolicy, retryable, withRetry, grpc,
};

if (require.main === module) {
  // node client.js [ADDR]: screen the demo's listed person.
  const client = connect(process.argv[2] || '127.0.0.1:50051');
  screenContact(client, {
    channel: 'CHANNEL_POST',
    contact: { ref: 'demo-1', name: 'Søren Testesen', address: 'Fiktivvej 12, 2. tv, 2100 København Ø' },
  }).then((r) => {
    console.log(r.ref, r.decision, r.reasons.join(','));
    client.close();
  }, (e) => {
    console.error(e.message);
    process.exit(1);
  });
}
