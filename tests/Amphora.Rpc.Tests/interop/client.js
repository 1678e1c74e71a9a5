// grpc-js client for the interop tests: calls Amphora's server and prints one JSON object with the outcomes.
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');
const def = loader.loadSync(process.argv[2], { keepCase: false, defaults: true });
const echo = grpc.loadPackageDefinition(def).amphora.test.Echo;
const client = new echo('127.0.0.1:' + process.argv[3], grpc.credentials.createInsecure());
const outcome = (err, reply) => err ? { code: err.code, details: err.details } : { code: 0, reply };
const unary = (method, request, deadlineMs) => new Promise(resolve => {
  const options = deadlineMs ? { deadline: Date.now() + deadlineMs } : {};
  client[method](request, options, (err, reply) => resolve(outcome(err, reply)));
});
const stream = (request) => new Promise(resolve => {
  const items = [];
  const call = client.count(request);
  call.on('data', d => items.push(d));
  call.on('error', e => resolve({ code: e.code, details: e.details, items }));
  call.on('end', () => resolve({ code: 0, items }));
});
(async () => {
  const results = {
    say: await unary('say', { text: 'hello' }),
    count: await stream({ n: 3, delayMs: 10 }),
    fail: await unary('fail', { text: 'ünïcode % text' }),
    sleep: await unary('sleep', { ms: 2000 }, 200),
  };
  console.log(JSON.stringify(results));
  client.close();
})();
