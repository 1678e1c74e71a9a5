// grpc-js client calling a real amphora ingester (amphora.ingester.v1.Ingester); prints one JSON object of outcomes.
// argv: proto file, ingester gRPC port, and the cluster secret (sent as authorization metadata) when the ingester has one.
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');
const def = loader.loadSync(process.argv[2], { keepCase: false, longs: Number, defaults: true });
const Ingester = grpc.loadPackageDefinition(def).amphora.ingester.v1.Ingester;
const client = new Ingester('127.0.0.1:' + process.argv[3], grpc.credentials.createInsecure());
const now = Date.now();
const secret = process.argv[4];
const metadata = () => {
  const m = new grpc.Metadata();
  if (secret) m.set('authorization', 'Bearer ' + secret);
  return m;
};
const unary = (method, request, deadlineMs, md = metadata()) => new Promise(resolve => {
  const options = deadlineMs ? { deadline: Date.now() + deadlineMs } : {};
  client[method](request, md, options, (err, reply) => resolve(err ? { code: err.code, details: err.details } : { code: 0, reply }));
});
const stream = (request, deadlineMs, md = metadata()) => new Promise(resolve => {
  const series = [];
  const call = client.queryStream(request, md, deadlineMs ? { deadline: Date.now() + deadlineMs } : {});
  call.on('data', d => series.push(...d.series));
  call.on('error', e => resolve({ code: e.code, details: e.details, count: series.length }));
  call.on('end', () => resolve({ code: 0, count: series.length, first: series[0] }));
});
(async () => {
  const many = [];
  for (let i = 0; i < 5000; i++)
    many.push({ labels: [{ name: '__name__', value: 'from_node' }, { name: 'i', value: String(i).padStart(4, '0') }],
                samples: [{ timestampMs: now, value: i }] });
  const results = {
    // Without the secret: refused, and its series (a 5001st) is not stored.
    anonymousPush: await unary('push', { workspace: 'node', series: [{ labels: [{ name: '__name__', value: 'from_node' },
      { name: 'i', value: 'anonymous' }], samples: [{ timestampMs: now, value: 1 }] }] }, 0, new grpc.Metadata()),
    anonymousQuery: await stream({ workspace: 'node', startMs: 0, endMs: now + 1000,
                                   matchers: [{ type: 'EQUAL', name: '__name__', value: 'from_node' }] }, 0, new grpc.Metadata()),
    state: await unary('state', {}),
    push: await unary('push', { workspace: 'node', series: many }),
    query: await stream({ workspace: 'node', startMs: now - 1000, endMs: now + 1000,
                          matchers: [{ type: 'EQUAL', name: '__name__', value: 'from_node' }] }),
    badRegex: await stream({ workspace: 'node', startMs: 0, endMs: now + 1000,
                             matchers: [{ type: 'REGEX', name: '__name__', value: '(' }] }),
    deadline: await stream({ workspace: 'node', startMs: now - 1000, endMs: now + 1000,
                             matchers: [{ type: 'REGEX', name: 'i', value: '.*' }] }, 1),
  };
  console.log(JSON.stringify(results));
  client.close();
})();
