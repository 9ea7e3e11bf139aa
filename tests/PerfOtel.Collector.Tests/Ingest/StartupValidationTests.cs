using Microsoft.Extensions.Options;
using PerfOtel.Collector.Tests.Otlp.Support;

namespace PerfOtel.Collector.Tests.Ingest;

/// <summary>Bad Otlp/Ingest settings stop the collector at start-up with a message naming the setting.</summary>
public sealed class StartupValidationTests
{
    [Theory]
    [InlineData("Ingest:QueueCapacityRecords", "0")]
    [InlineData("Ingest:QueueCapacityBytes", "1000")]
    [InlineData("Ingest:MaxWriteBatchRecords", "-1")]
    [InlineData("Ingest:RetryAfterSeconds", "0")]
    [InlineData("Ingest:NativeMemoryTrimInterval", "-00:00:01")]
    [InlineData("Ingest:NativeMemoryTrimInterval", "00:00:00.5000000")]
    [InlineData("Ingest:NativeMemoryTrimInterval", "02:00:00")]
    [InlineData("Otlp:MaxRequestBytes", "10")]
    [InlineData("Otlp:MaxConcurrentRequests", "0")]
    [InlineData("Otlp:AttributeAllowlist:0", "*")]
    [InlineData("Otlp:AttributeAllowlist:0", "app.*.id")]
    [InlineData("Otlp:PricingOverridesPath", "/nonexistent/prices.json")]
    [InlineData("Otlp:GrpcEndpoint", "https://0.0.0.0:4317")]
    [InlineData("Otlp:GrpcEndpoint", "0.0.0.0:4317")]
    [InlineData("Otlp:GrpcEndpoint", "http://0.0.0.0")]
    public async Task InvalidSetting_FailsStartup_NamingTheSetting(string setting, string value)
    {
        await using var collector = new CollectorFactory(new() { [setting] = value });

        var error = Assert.Throws<OptionsValidationException>(() => collector.CreateClient());

        Assert.Contains(setting.Split(':')[0] + ":" + setting.Split(':')[1], error.Message);
        Assert.Contains(value, error.Message);
    }

    [Fact]
    public async Task DefaultSettings_Start_AndHealthzAnswers()
    {
        await using var collector = new CollectorFactory();
        using var client = collector.CreateClient();

        Assert.Equal("ok", await client.GetStringAsync("/healthz"));
    }
}
