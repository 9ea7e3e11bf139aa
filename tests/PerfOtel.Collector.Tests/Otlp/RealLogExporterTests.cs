using System.Diagnostics;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Tests.Otlp;

/// <summary>Evaluation results logged through ILogger and the real OTLP log exporter become evaluation records.</summary>
public sealed class RealLogExporterTests
{
    [Fact]
    public async Task EvaluationEventsLoggedInsideASpan_AreStoredAgainstThatSpan()
    {
        await using var collector = new CollectorFactory(kestrel: true);
        var endpoint = new Uri(collector.ListenAddress, "v1/logs");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using (var factory = LoggerFactory.Create(logging => logging.AddOpenTelemetry(otel =>
            otel.AddOtlpExporter((exporter, processor) =>
            {
                exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                exporter.Endpoint = endpoint;
                exporter.HttpClientFactory = () => http;
                processor.ExportProcessorType = ExportProcessorType.Simple;
            }))))
        {
            var logger = factory.CreateLogger("evaluations");
            using var source = new ActivitySource("PerfOtel.Tests.Evaluator." + Guid.NewGuid());
            using var listener = new ActivityListener
            {
                ShouldListenTo = s => s == source,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            };
            ActivitySource.AddActivityListener(listener);
            string spanId;
            using (var activity = source.StartActivity("invoke_agent graded")!)
            {
                spanId = activity.SpanId.ToHexString();
                LogEvaluation(logger, "relevance", 0.8);
                logger.LogInformation("an ordinary log line that the collector accepts and ignores");
            }

            var evaluation = Assert.Single(collector.Store.Evaluations);
            Assert.Equal("relevance", evaluation.Name);
            Assert.Equal(0.8, evaluation.Score);
            Assert.Equal(spanId, evaluation.SpanId);
        }
    }

    private static void LogEvaluation(ILogger logger, string name, double score)
    {
        // Attribute keys with dots cannot be message-template holes, so the state carries them directly.
        IReadOnlyList<KeyValuePair<string, object?>> state =
        [
            new(GenAiAttributes.EvaluationName, name),
            new(GenAiAttributes.EvaluationScoreValue, score),
        ];
        logger.Log(LogLevel.Information, new EventId(1, GenAiEvents.EvaluationResult), state, null, (_, _) => $"evaluation {name}: {score}");
    }
}
