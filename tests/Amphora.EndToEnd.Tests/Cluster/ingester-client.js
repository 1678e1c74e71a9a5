// grpc-js client calling a real amphora ingester (amphora.ingester.v1.Ingester); prints one JSON object of outcomes.
// argv: proto file, ingester gRPC port.
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');
const def = loader.loadSync(process.argv[2], { keepCase: false, longs: Number, defaults: true });
const Ingester = grpc.loadPackageDefinition(def).amphora.ingester.v1.Ingester;
const client = new Ingester('127.0.0.1:' + process.argv[3], grpc.credentials.createInsecure());
const now = Date.now();
const unary = (method, request, deadlineMs) => new Promise(resolve => {
  const options = deadlineMs ? { deadline: Date.now() + deadlineMs } : {};
  client[method](request, options, (err, reply) => resolve(err ? { code: err.code, details: err.details } : { code: 0, reply }));
});
const stream = (request, deadlineMs) => new Promise(resolve => {
  const series = [];
  const call = client.queryStream(request, deadlineMs ? { deadline: Date.now() + deadlineMs } : {});
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
