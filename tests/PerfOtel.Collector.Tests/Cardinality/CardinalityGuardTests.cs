using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Derived.Cardinality;

namespace PerfOtel.Collector.Tests.Cardinality;

// Two tests here measure the process's heap (GC.GetTotalMemory): beside other tests' allocations they read more than
// they retain (a CI run saw 9.4 MB for a bound of 4), so the class runs with nothing else running.
[Collection(PerfOtel.Collector.Tests.DerivedKernel.HeapMeasurementTests.Name)]
public sealed class CardinalityGuardTests
{
    private const string Overflow = CardinalityGuard.Overflow;

    private static CardinalityGuard Guard(params (string Key, string Value)[] settings)
    {
        var options = Read(settings);
        Assert.Empty(options.Problems);
        return new CardinalityGuard(Options.Create(options));
    }

    private static CardinalityOptions Read(params (string Key, string Value)[] settings) =>
        CardinalityOptions.Read(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build());

    [Fact]
    public void The_first_values_of_a_tenant_keep_their_names_and_every_later_one_folds_into_overflow()
    {
        var guard = Guard(("Cardinality:MaxAgentsPerTenant", "2"), ("Cardinality:MaxModelsPerTenant", "1"),
            ("Cardinality:MaxEvaluationNamesPerTenant", "1"), ("Cardinality:MaxExperimentVariantsPerTenant", "2"));

        Assert.Equal("a", guard.Agent("acme", "a"));
        Assert.Equal("b", guard.Agent("acme", "b"));
        Assert.Equal(Overflow, guard.Agent("acme", "c"));
        Assert.Equal("a", guard.Agent("acme", "a"));
        Assert.Equal(Overflow, guard.Agent("acme", "c"));
        Assert.Equal("c", guard.Agent("other", "c")); // limits are per tenant
        Assert.Null(guard.Agent("acme", null));

        Assert.Equal(("openai", "gpt-4o"), guard.Model("acme", "openai", "gpt-4o"));
        Assert.Equal((Overflow, Overflow), guard.Model("acme", "anthropic", "gpt-4o"));

        Assert.Equal("faithfulness", guard.Evaluation("acme", "faithfulness"));
        Assert.Equal(Overflow, guard.Evaluation("acme", "relevance"));
        Assert.Equal("accuracy", guard.Evaluation("acme", "accuracy")); // the analytics' own input is never folded

        Assert.Equal(("exp", "A"), guard.ExperimentVariant("acme", "exp", "A"));
        Assert.Equal(("exp", "B"), guard.ExperimentVariant("acme", "exp", "B"));
        Assert.Equal((Overflow, Overflow), guard.ExperimentVariant("acme", "exp", "C"));
    }

    [Fact]
    public void Tenants_beyond_the_limit_fold_into_the_overflow_tenant_while_default_and_configured_ones_always_keep_their_own()
    {
        var guard = Guard(("Cardinality:MaxTenants", "2"), ("Cardinality:Tenants:vip:MaxAgentsPerTenant", "5"),
            ("Thresholds:Tenants:strict:MinSuccessRate", "0.9"), ("Budgets:Tenants:paying:DailyUsd", "10"));

        Assert.Equal("t1", guard.Tenant("t1"));
        Assert.Equal("t2", guard.Tenant("t2"));
        Assert.Equal(Overflow, guard.Tenant("t3"));
        Assert.Equal("default", guard.Tenant("default"));
        Assert.Equal("vip", guard.Tenant("vip"));
        Assert.Equal("strict", guard.Tenant("strict"));
        Assert.Equal("paying", guard.Tenant("paying"));
        Assert.Equal(Overflow, guard.Tenant("t5"));
        Assert.Equal(Overflow, guard.Tenant(Overflow));
        // Folded tenants share the overflow tenant's values and limits.
        Assert.Equal("x", guard.Agent("t3", "x"));
        Assert.Equal("x", guard.Agent("t4", "x"));
        Assert.Equal(1, guard.Tracked().Single(t => t.Tenant == Overflow && t.Dimension == CardinalityDimension.Agent).Values);
    }

    [Fact]
    public void A_tenant_override_changes_only_that_tenant()
    {
        var guard = Guard(("Cardinality:MaxAgentsPerTenant", "1"), ("Cardinality:Tenants:big:MaxAgentsPerTenant", "3"));

        Assert.Equal(["a", "b", "c", Overflow], new[] { "a", "b", "c", "d" }.Select(a => guard.Agent("big", a)));
        Assert.Equal(["a", Overflow, Overflow, Overflow], new[] { "a", "b", "c", "d" }.Select(a => guard.Agent("small", a)));
    }

    [Fact]
    public void The_guard_remembers_only_admitted_values_however_many_distinct_values_it_is_shown()
    {
        var guard = Guard(("Cardinality:MaxTenants", "3"), ("Cardinality:MaxAgentsPerTenant", "10"),
            ("Cardinality:MaxModelsPerTenant", "10"), ("Cardinality:MaxEvaluationNamesPerTenant", "10"),
            ("Cardinality:MaxExperimentVariantsPerTenant", "10"));

        for (var i = 0; i < 100_000; i++)
        {
            var tenant = "tenant-" + i % 1000;
            guard.Agent(tenant, "agent-" + i);
            guard.Model(tenant, "provider-" + i, "model-" + i);
            guard.Evaluation(tenant, "evaluation-" + i);
            guard.ExperimentVariant(tenant, "experiment-" + i, "variant");
        }

        var tracked = guard.Tracked();
        // Three admitted tenants plus the overflow tenant, each holding at most its limit per dimension.
        Assert.Equal(4, tracked.Single(t => t.Dimension == CardinalityDimension.Tenant).Values);
        var perTenant = tracked.Where(t => t.Dimension != CardinalityDimension.Tenant).ToList();
        Assert.Equal(4 * 4, perTenant.Count);
        Assert.All(perTenant, t => Assert.Equal(10, t.Values));
    }

    [Fact]
    public void Folded_names_are_not_retained_in_memory()
    {
        var guard = Guard(("Cardinality:MaxAgentsPerTenant", "10"));
        var before = GC.GetTotalMemory(forceFullCollection: true);

        // 20 000 distinct names of 2 000 characters: 80 MB of strings if the guard held on to them.
        for (var i = 0; i < 20_000; i++)
        {
            guard.Agent("acme", i.ToString("D8", System.Globalization.CultureInfo.InvariantCulture).PadRight(2000, 'x'));
        }
        var retained = GC.GetTotalMemory(forceFullCollection: true) - before;

        GC.KeepAlive(guard);
        Assert.True(retained < 8_000_000, $"the guard retained {retained} bytes");
    }

    [Fact]
    public void Reports_asked_for_tenants_without_data_leave_no_state()
    {
        var windows = Analytics.Analytics.Windows(new Analytics.ManualTimeProvider(Analytics.Records.Noon));
        windows.RecordInvocation(Analytics.Records.Invocation("planner", Analytics.Records.Noon.AddMinutes(-1)));
        var before = GC.GetTotalMemory(forceFullCollection: true);

        // As REST callers naming any tenant they like would.
        for (var i = 0; i < 2_000; i++)
        {
            var tenant = "ghost-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(0, windows.TenantReport(tenant, 0).Invocations);
            Assert.NotNull(windows.ThresholdsFor(tenant));
        }
        var retained = GC.GetTotalMemory(forceFullCollection: true) - before;

        Assert.Equal(1, windows.TenantReport("default", 0).Invocations);
        GC.KeepAlive(windows);
        Assert.True(retained < 4_000_000, $"reports of tenants without data retained {retained} bytes");
    }

    [Theory]
    [InlineData("Cardinality:MaxTenants", "0")]
    [InlineData("Cardinality:MaxAgentsPerTenant", "-5")]
    [InlineData("Cardinality:MaxModelsPerTenant", "many")]
    [InlineData("Cardinality:MaxEvaluationNamesPerTenant", "1.5")]
    [InlineData("Cardinality:MaxExperimentVariantsPerTenant", "")]
    [InlineData("Cardinality:MaxAgents", "10")]
    [InlineData("Cardinality:Tenants:acme:MaxAgentsPerTenant", "0")]
    [InlineData("Cardinality:Tenants:acme:MaxTenants", "10")]
    [InlineData("Cardinality:Tenants:acme", "10")]
    public void Invalid_settings_are_reported_naming_the_setting(string setting, string value)
    {
        var problems = Read((setting, value)).Problems;

        Assert.Contains(problems, p => p.Contains(setting, StringComparison.Ordinal));
    }
}
