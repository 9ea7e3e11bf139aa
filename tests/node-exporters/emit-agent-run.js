// Emits one fixed agent run (two invocations, each with a chat call, a failing tool call and an evaluation) through
// a real OpenTelemetry JS OTLP trace exporter, exactly as the .NET fixture in OtlpGrpcProcessTests does, so the
// collector tests can compare what each exporter leads to.
// Usage: node emit-agent-run.js <grpc|http|proto> <url> <tenant> <start epoch ms>
'use strict';
const api = require('@opentelemetry/api');
const { TracerProvider, BatchSpanProcessor, AlwaysOnSampler } = require('@opentelemetry/sdk-trace');
const { resourceFromAttributes } = require('@opentelemetry/resources');

const exporters = {
  grpc: '@opentelemetry/exporter-trace-otlp-grpc',
  http: '@opentelemetry/exporter-trace-otlp-http',
  proto: '@opentelemetry/exporter-trace-otlp-proto',
};

async function main() {
  const [protocol, url, tenant, startText] = process.argv.slice(2);
  if (!exporters[protocol] || !url || !tenant || !startText) {
    throw new Error('usage: node emit-agent-run.js <grpc|http|proto> <url> <tenant> <start epoch ms>');
  }
  const { OTLPTraceExporter } = require(exporters[protocol]);
  const exporter = new OTLPTraceExporter({ url });
  const results = [];
  // Records each export's result: BatchSpanProcessor swallows failures, the test must not.
  const recording = {
    export: (spans, done) => exporter.export(spans, (result) => { results.push(result); done(result); }),
    shutdown: () => exporter.shutdown(),
    forceFlush: () => (exporter.forceFlush ? exporter.forceFlush() : Promise.resolve()),
  };
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'support-bot', 'perfotel.tenant': tenant }),
    sampler: new AlwaysOnSampler(),
    spanProcessors: [new BatchSpanProcessor({ exporter: recording })],
  });
  const tracer = provider.getTracer('perfotel-node-fixture');
  const start = Number(startText);

  for (const [agent, outcome, offsetSeconds] of [['triage', 'partial', 0], ['planner', 'success', 10]]) {
    const at = start + offsetSeconds * 1000;
    const invocation = tracer.startSpan(`invoke_agent ${agent}`, {
      kind: api.SpanKind.INTERNAL,
      startTime: at,
      attributes: {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': agent,
        'perfotel.task.id': `task-${agent}`,
        'perfotel.outcome': outcome,
        'perfotel.confidence': 0.75,
      },
    });
    const parent = api.trace.setSpan(api.context.active(), invocation);
    const chat = tracer.startSpan('chat gpt-4o-mini', {
      kind: api.SpanKind.CLIENT,
      startTime: at + 100,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.usage.input_tokens': 1200,
        'gen_ai.usage.output_tokens': 300,
      },
    }, parent);
    chat.end(at + 1300);
    const tool = tracer.startSpan('execute_tool lookup_order', {
      kind: api.SpanKind.INTERNAL,
      startTime: at + 1400,
      attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'lookup_order', 'error.type': 'TimeoutException' },
    }, parent);
    tool.setStatus({ code: api.SpanStatusCode.ERROR, message: 'timeout' });
    tool.end(at + 1900);
    invocation.addEvent('gen_ai.evaluation.result', { 'gen_ai.evaluation.name': 'relevance', 'gen_ai.evaluation.score.value': 0.9 }, at + 1950);
    invocation.end(at + 2000);
  }

  await provider.forceFlush();
  await provider.shutdown();
  const failed = results.filter((r) => r.code !== 0);
  if (results.length === 0 || failed.length > 0) {
    throw new Error(`export failed: ${JSON.stringify(failed.map((r) => String(r.error)))} (${results.length} exports)`);
  }
  console.log(`exported over ${protocol} in ${results.length} request(s)`);
}

main().catch((error) => {
  console.error(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
