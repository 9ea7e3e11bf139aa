// Records GenAI client metrics as the OpenTelemetry GenAI semantic conventions specify them
// (gen_ai.client.token.usage and gen_ai.client.operation.duration, explicit buckets as advised, attributes
// gen_ai.operation.name, gen_ai.provider.name, gen_ai.request.model, gen_ai.token.type, error.type) with
// @opentelemetry/sdk-metrics and pushes them through a real OTLP metrics exporter, in two phases so that a scraper
// sees the series before and after: phase 1 records the call set once and exports; after <dir>/phase2.go appears,
// phase 2 records it <repeat> more times and exports. Each phase writes <dir>/phaseN.done when its export succeeded.
// Usage: node emit-genai-metrics.js <grpc|http|proto> <url> <tenant> <cumulative|delta> <dir> <repeat>
'use strict';
const fs = require('fs');
const path = require('path');
const { MeterProvider, PeriodicExportingMetricReader, AggregationTemporality } = require('@opentelemetry/sdk-metrics');
const { resourceFromAttributes } = require('@opentelemetry/resources');

const exporters = {
  grpc: '@opentelemetry/exporter-metrics-otlp-grpc',
  http: '@opentelemetry/exporter-metrics-otlp-http',
  proto: '@opentelemetry/exporter-metrics-otlp-proto',
};

// The GenAI conventions' advised bucket boundaries.
const tokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
const durationBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

// One set of calls: [provider, model, input tokens, output tokens, seconds, error.type].
const calls = [
  ['openai', 'gpt-4o-mini', 1200, 300, 1.2, null],
  ['openai', 'gpt-4o-mini', 800, 200, 0.7, null],
  ['openai', 'gpt-4o-mini', 1000, 250, 0.9, null],
  ['anthropic', 'claude-3-5-haiku', 500, 100, 0.3, null],
  ['anthropic', 'claude-3-5-haiku', 0, 0, 2.5, 'timeout'],
];

async function waitFor(file, seconds) {
  const until = Date.now() + seconds * 1000;
  while (!fs.existsSync(file)) {
    if (Date.now() > until) {
      throw new Error(`${file} did not appear within ${seconds} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function main() {
  const [protocol, url, tenant, temporalityText, dir, repeatText] = process.argv.slice(2);
  if (!exporters[protocol] || !url || !tenant || !['cumulative', 'delta'].includes(temporalityText) || !dir || !repeatText) {
    throw new Error('usage: node emit-genai-metrics.js <grpc|http|proto> <url> <tenant> <cumulative|delta> <dir> <repeat>');
  }
  const { OTLPMetricExporter } = require(exporters[protocol]);
  const exporter = new OTLPMetricExporter({
    url,
    temporalityPreference: temporalityText === 'delta' ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE,
  });
  const results = [];
  // Records each export's result: the periodic reader only logs failures, the test must see them.
  const recording = {
    export: (metrics, done) => exporter.export(metrics, (result) => { results.push(result); done(result); }),
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush(),
    selectAggregationTemporality: (type) => exporter.selectAggregationTemporality(type),
    selectAggregation: exporter.selectAggregation ? (type) => exporter.selectAggregation(type) : undefined,
  };
  const provider = new MeterProvider({
    resource: resourceFromAttributes({
      'service.name': 'support-bot',
      'service.instance.id': `node-${protocol}-${process.pid}`,
      'perfotel.tenant': tenant,
    }),
    // A long interval: the test decides when to export (forceFlush).
    readers: [new PeriodicExportingMetricReader({ exporter: recording, exportIntervalMillis: 3600000 })],
  });
  const meter = provider.getMeter('perfotel-node-genai-fixture', '1.0.0');
  const tokens = meter.createHistogram('gen_ai.client.token.usage', {
    unit: '{token}',
    description: 'Number of input and output tokens used.',
    advice: { explicitBucketBoundaries: tokenBuckets },
  });
  const duration = meter.createHistogram('gen_ai.client.operation.duration', {
    unit: 's',
    description: 'GenAI operation duration.',
    advice: { explicitBucketBoundaries: durationBuckets },
  });

  const recordSet = () => {
    for (const [provider, model, input, output, seconds, errorType] of calls) {
      const common = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': provider, 'gen_ai.request.model': model };
      duration.record(seconds, errorType ? { ...common, 'error.type': errorType } : common);
      if (!errorType) {
        tokens.record(input, { ...common, 'gen_ai.token.type': 'input' });
        tokens.record(output, { ...common, 'gen_ai.token.type': 'output' });
      }
    }
  };

  const exportPhase = async (phase) => {
    const before = results.length;
    await provider.forceFlush();
    const mine = results.slice(before);
    const failed = mine.filter((r) => r.code !== 0);
    if (mine.length === 0 || failed.length > 0) {
      throw new Error(`phase ${phase} export failed: ${JSON.stringify(failed.map((r) => String(r.error)))} (${mine.length} exports)`);
    }
    fs.writeFileSync(path.join(dir, `phase${phase}.done`), 'ok');
  };

  recordSet();
  await exportPhase(1);
  await waitFor(path.join(dir, 'phase2.go'), 180);
  for (let i = 0; i < Number(repeatText); i++) {
    recordSet();
  }
  await exportPhase(2);
  await provider.shutdown();
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : error);
  process.exit(1);
});
