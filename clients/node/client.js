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

// errorInfo extracts the google.rpc.ErrorInfo reason from a gRPC error's
// grpc-status-details-bin trailer (best effort, without decoding libraries:
// the reason is the first length-delimited field of ErrorInfo).
function errorInfo(err) {
  const bin = err && err.metadata && err.metadata.get('grpc-status-details-bin')[0];
  if (!bin) return null;
  const m = /([A-Z][A-Z_]+)\x12\x0erobinscreen\.v1/.exec(bin.toString('latin1'));
  return m ? { reason: m[1], domain: 'robinscreen.v1' } : null;
}

module.exports = { connect, screenContact, screenBatch, errorInfo, grpc };

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
