// grpc-js server of amphora.ingester.v1.Ingester for the interop tests, so Amphora's client is checked against another
// implementation. argv: proto file, cluster secret. Prints {"port": N} once listening; exits when stdin closes.
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');
const def = loader.loadSync(process.argv[2], { keepCase: false, longs: Number, defaults: true });
const Ingester = grpc.loadPackageDefinition(def).amphora.ingester.v1.Ingester;
const secret = 'Bearer ' + process.argv[3];
const authorized = call => call.metadata.get('authorization')[0] === secret;
const unauthenticated = { code: grpc.status.UNAUTHENTICATED, details: 'missing cluster secret' };
const server = new grpc.Server();
// Metadata and LabelValues are left out: grpc-js answers them UNIMPLEMENTED.
server.addService(Ingester.service, {
  state: (call, cb) => authorized(call) ? cb(null, { instance: 'node-0', state: 'INSTANCE_STATE_ACTIVE' }) : cb(unauthenticated),
  push: (call, cb) => {
    if (!authorized(call)) return cb(unauthenticated);
    if (call.request.workspace === 'refused') return cb({ code: grpc.status.FAILED_PRECONDITION, details: 'refused: ünïcode % text' });
    const samples = call.request.series.reduce((n, s) => n + s.samples.length, 0);
    cb(null, { samplesAccepted: samples - 1, rejections: [{ seriesIndex: 0, timestampMs: call.request.series[0].samples[0].timestampMs,
      status: 'APPEND_STATUS_SERIES_LIMIT', reason: 'err-amphora-max-series-per-workspace', message: 'per-workspace series limit' }] });
  },
  queryStream: async call => {
    if (!authorized(call)) return call.destroy(unauthenticated);
    for (let i = 0; i < 3; i++) {
      await new Promise(r => setTimeout(r, 10));
      call.write({ series: [{ labels: [{ name: 'i', value: 'n' + i }] }] });
    }
    call.end();
  },
  labelNames: (call, cb) => setTimeout(() => cb(null, { names: ['slow'] }), 2000),
});
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) { console.error(err); process.exit(1); }
  console.log(JSON.stringify({ port }));
});
process.stdin.on('end', () => server.forceShutdown());
process.stdin.resume();
