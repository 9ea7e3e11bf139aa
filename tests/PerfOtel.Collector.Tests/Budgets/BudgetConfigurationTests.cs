using Microsoft.Extensions.Configuration;
using PerfOtel.Collector.Derived.Budgets;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Collector.Tests.Budgets;

public class BudgetConfigurationTests
{
    private static BudgetOptions Read(params (string Key, string Value)[] settings) =>
        BudgetConfiguration.Read(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build());

    [Fact]
    public void TenantAndAgentLimitsAreRead()
    {
        var options = Read(
            ("Budgets:Tenants:default:DailyUsd", "100"),
            ("Budgets:Tenants:default:MonthlyUsd", "2500.5"),
            ("Budgets:Tenants:default:Agents:planner:HourlyUsd", "2"),
            ("Budgets:Tenants:acme:HourlyUsd", "1e1"));

        Assert.Empty(options.Problems);
        Assert.Equal(new BudgetLimits(null, 100, 2500.5), options.Budgets[new BudgetScope("default", null)]);
        Assert.Equal(new BudgetLimits(2, null, null), options.Budgets[new BudgetScope("default", "planner")]);
        Assert.Equal(new BudgetLimits(10, null, null), options.Budgets[new BudgetScope("acme", null)]);
    }

    [Fact]
    public void AnUnknownTenantKeyIsNamedWithTheExpectedOnes()
    {
        var options = Read(("Budgets:Tenants:default:Daily", "100"));

        Assert.Equal(["unknown setting Budgets:Tenants:default:Daily; expected HourlyUsd, DailyUsd, MonthlyUsd or Agents"],
            options.Problems);
        Assert.Empty(options.Budgets);
    }

    [Fact]
    public void UnknownAgentAndSectionKeysAreNamed()
    {
        var options = Read(
            ("Budgets:Tenants:default:Agents:planner:Monthly", "5"),
            ("Budgets:Tenant:default:DailyUsd", "5"));

        Assert.Contains("unknown setting Budgets:Tenants:default:Agents:planner:Monthly; expected HourlyUsd, DailyUsd or MonthlyUsd",
            options.Problems);
        Assert.Contains("unknown setting Budgets:Tenant; expected Tenants", options.Problems);
    }

    [Theory]
    [InlineData("-5", "Budgets:Tenants:default:DailyUsd must be a positive, finite number of US dollars (leave it out for no limit), was -5")]
    [InlineData("NaN", "Budgets:Tenants:default:DailyUsd must be a positive, finite number of US dollars (leave it out for no limit), was NaN")]
    [InlineData("0", "Budgets:Tenants:default:DailyUsd must be a positive, finite number of US dollars (leave it out for no limit), was 0")]
    [InlineData("ten", "Budgets:Tenants:default:DailyUsd must be a number of US dollars, was 'ten'")]
    public void NonsensicalLimitsAreNamed(string value, string problem)
    {
        var options = Read(("Budgets:Tenants:default:DailyUsd", value));

        Assert.Equal([problem], options.Problems);
    }
}
