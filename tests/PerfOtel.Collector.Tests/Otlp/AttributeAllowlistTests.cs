using System.Net;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Instrumentation.Conventions;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;

namespace PerfOtel.Collector.Tests.Otlp;

public sealed class AttributeAllowlistTests
{
    [Fact]
    public async Task ConfiguredAllowlist_KeepsThoseAttributesOnStoredInvocations()
    {
        await using var collector = new CollectorFactory(new()
        {
            ["Otlp:AttributeAllowlist:0"] = "deployment.*",
            ["Otlp:AttributeAllowlist:1"] = "customer.plan",
        });
        using var client = collector.CreateClient();
        var agent = Span("invoke_agent a", TraceId(1), SpanId(1), attributes:
        [
            (GenAiAttributes.OperationName, GenAiOperations.InvokeAgent),
            ("deployment.environment", "prod"), ("customer.plan", "pro"), ("customer.id", "c-1"),
        ]);

        using var response = await client.PostAsync("/v1/traces", Protobuf(Traces([agent])));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"deployment.environment":"prod","customer.plan":"pro"}""", Assert.Single(collector.Store.Invocations).AttributesJson);
    }
}
