// grpc-js server for the interop tests: prints {"port": N} once listening, exits when stdin closes.
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');
const def = loader.loadSync(process.argv[2], { keepCase: false, defaults: true });
const echo = grpc.loadPackageDefinition(def).amphora.test.Echo;
const server = new grpc.Server();
server.addService(echo.service, {
  say: (call, cb) => cb(null, { text: 'node:' + call.request.text, index: 0 }),
  count: async (call) => {
    for (let i = 0; i < call.request.n; i++) {
      if (call.request.delayMs) await new Promise(r => setTimeout(r, call.request.delayMs));
      call.write({ text: 'n' + i, index: i });
    }
    call.end();
  },
  fail: (call, cb) => cb({ code: grpc.status.FAILED_PRECONDITION, details: 'refused: ' + call.request.text }),
  sleep: (call, cb) => setTimeout(() => cb(null, { text: 'slept', index: 0 }), call.request.ms),
});
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) { console.error(err); process.exit(1); }
  console.log(JSON.stringify({ port }));
});
process.stdin.on('end', () => server.forceShutdown());
process.stdin.resume();
