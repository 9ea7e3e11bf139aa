using PerfOtel.Collector.Tests.Cost;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.Budgets;

/// <summary>The collector as users start it refuses budget settings that make no sense, naming them.</summary>
public sealed class BudgetStartupTests : IDisposable
{
    private readonly string dataDirectory = Directory.CreateTempSubdirectory("perfotel-budget-startup-").FullName;

    public void Dispose() => Directory.Delete(dataDirectory, recursive: true);

    [Theory]
    [InlineData("Budgets:Tenants:default:Daily", "100",
        "unknown setting Budgets:Tenants:default:Daily; expected HourlyUsd, DailyUsd, MonthlyUsd or Agents")]
    [InlineData("Budgets:Tenants:acme:Agents:bot:MonthlyUsd", "-1",
        "Budgets:Tenants:acme:Agents:bot:MonthlyUsd must be a positive, finite number of US dollars (leave it out for no limit), was -1")]
    public async Task TheCollectorProcessFailsToStartNamingTheSetting(string key, string value, string expected)
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            CollectorProcess.StartAsync(dataDirectory, new Dictionary<string, string> { [key] = value }));

        Assert.StartsWith("collector exited with", failure.Message, StringComparison.Ordinal);
        Assert.Contains(expected, failure.Message, StringComparison.Ordinal);
    }
}
