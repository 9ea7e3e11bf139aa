using System.Diagnostics;
using System.Reflection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Testing;

namespace PerfOtel.Instrumentation.Tests.Recording;

[Collection(GlobalInstrumentsCollection.Name)]
public class RegistrationTests
{
    public static TheoryData<string> Overloads => ["()", "(configure)", "(name, configure)"];

    [Theory]
    [MemberData(nameof(Overloads))]
    public void Each_overload_registers_the_meter_and_the_source_with_their_options(string overload)
    {
        var metrics = new InMemoryMetrics();
        var spans = new List<Activity>();
        Action<PerfOtelInstrumentationOptions> configure = o => o.DefaultTenant = "tenant-" + overload.Length;
        var meterBuilder = Sdk.CreateMeterProviderBuilder();
        var tracerBuilder = Sdk.CreateTracerProviderBuilder();
        _ = overload switch
        {
            "()" => (meterBuilder.AddPerfOtelInstrumentation(), tracerBuilder.AddPerfOtelInstrumentation()),
            "(configure)" => (meterBuilder.AddPerfOtelInstrumentation(configure), tracerBuilder.AddPerfOtelInstrumentation(configure)),
            _ => ((object)meterBuilder.AddPerfOtelInstrumentation("agents", configure), (object)tracerBuilder.AddPerfOtelInstrumentation("agents", configure)),
        };
        using var meterProvider = metrics.Build(meterBuilder);
        using var tracerProvider = tracerBuilder.AddInMemoryExporter(spans).Build();

        using (var invocation = AgentTelemetry.StartInvocation("registered"))
        {
            invocation.Succeed();
        }

        var expectedTenant = overload == "()" ? "default" : "tenant-" + overload.Length;
        var counter = metrics.Single("perfotel.agent.invocations");
        Assert.Equal(expectedTenant, Assert.Single(counter.Points).Tags[PerfOtelAttributes.Tenant]);
        var version = typeof(AgentTelemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];
        Assert.Equal(version, counter.MeterVersion);
        var span = Assert.Single(spans);
        Assert.Equal(MetricCatalog.SourceName, span.Source.Name);
        Assert.Equal(version, span.Source.Version);
    }
}
