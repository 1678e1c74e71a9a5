// Records a counter, an up-down counter, a gauge, an observable ratio gauge and a histogram with the OpenTelemetry JS
// metrics SDK and exports them once through the real OTLP/HTTP exporter (protobuf or JSON) to the URL given.
// Usage: node send-metrics.js URL proto|json PREFIX [cumulative|delta]; OTLP_ORG_ID, when set, is sent as X-Scope-OrgID.
// Prints "exported" on success; exits 1 with the exporter's error otherwise.
'use strict';
const { diag, DiagConsoleLogger, DiagLogLevel } = require('@opentelemetry/api');
const { MeterProvider, PeriodicExportingMetricReader, AggregationTemporality } = require('@opentelemetry/sdk-metrics');
const { resourceFromAttributes } = require('@opentelemetry/resources');

const [url, protocol, prefix, temporality = 'cumulative'] = process.argv.slice(2);
const { OTLPMetricExporter } = protocol === 'json'
  ? require('@opentelemetry/exporter-metrics-otlp-http')
  : require('@opentelemetry/exporter-metrics-otlp-proto');

// Partial successes and export errors are reported through the diagnostic logger: show them on stderr.
diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.WARN);

async function main() {
  const exporter = new OTLPMetricExporter({
    url,
    headers: process.env.OTLP_ORG_ID ? { 'X-Scope-OrgID': process.env.OTLP_ORG_ID } : {},
    temporalityPreference: temporality === 'delta' ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE,
  });
  let failure = null;
  const export_ = exporter.export.bind(exporter);
  exporter.export = (metrics, done) => export_(metrics, result => {
    if (result.code !== 0) failure = result.error || new Error('export failed');
    done(result);
  });
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({
      'service.name': 'cart',
      'service.namespace': 'shop',
      'service.instance.id': 'cart-1',
      'deployment.environment': 'e2e',
      'host.name': 'node-7',
    }),
    readers: [reader],
  });
  const meter = provider.getMeter('amphora-e2e');

  meter.createCounter(`${prefix}.requests`, { unit: '{request}', description: 'Requests served' }).add(5, { 'http.route': '/cart' });
  const queue = meter.createUpDownCounter(`${prefix}.queue.size`, { unit: '{item}' });
  queue.add(3);
  queue.add(-1);
  meter.createGauge(`${prefix}.temperature`, { unit: 'Cel' }).record(21.5, { room: 'a' });
  meter.createObservableGauge(`${prefix}.cpu.utilization`, { unit: '1' }).addCallback(r => r.observe(0.25));
  const duration = meter.createHistogram(`${prefix}.duration`, { unit: 's', advice: { explicitBucketBoundaries: [0.1, 1] } });
  for (const v of [0.05, 0.5, 2]) duration.record(v);

  await reader.forceFlush();
  await provider.shutdown();
  if (failure) throw failure;
  console.log('exported');
}

main().catch(e => {
  console.error(e && e.stack || String(e));
  process.exit(1);
});
