using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Derived.Budgets;
using PerfOtel.Collector.Derived.Cost;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Tests.Cost;

public class CostRebuildTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 16, 12, 30, 0, TimeSpan.Zero);

    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Budgets:Tenants:default:DailyUsd"] = "10",
        ["Budgets:Tenants:default:MonthlyUsd"] = "100",
        ["Experiments:MinSamplesPerVariant"] = "2",
        ["Models:MinInvocations"] = "1",
    };

    [Fact]
    public async Task RestartingRebuildsTheSameStateFromTheStore()
    {
        var store = new InMemoryExecutionStore();
        await using var live = new CostHarness(Now, Settings, store);
        await live.StartAsync();
        for (var i = 0; i < 6; i++)
        {
            var start = Now.AddMinutes(-20 - i);
            var invocation = CostRecords.Invocation(start, i % 3 == 0 ? Outcomes.Failure : Outcomes.Success,
                experiment: "prompt-v2", variant: i % 2 == 0 ? "a" : "b", quality: 0.125 * i); // exact binary fractions: sums do not depend on order
            var model = i < 4 ? "gpt-4o" : "gpt-4o-mini";
            live.Commit(
                CostRecords.Call(start.AddSeconds(1), 0.25 * (i + 1), model, invocationSpanId: invocation.SpanId),
                invocation);
            if (i == 1)
            {
                var feedback = CostRecords.Feedback(invocation, 0.5, Now);
                await store.AddFeedbackAsync(feedback, CancellationToken.None);
                live.FeedbackJoined(new FeedbackJoin(invocation, feedback));
            }
            if (i == 2)
            {
                live.Commit(new EvaluationRecord
                {
                    Tenant = "default", TraceId = invocation.TraceId, SpanId = invocation.SpanId, Sequence = 0,
                    Name = "accuracy", Score = 0.9, Time = Now,
                });
            }
        }
        // Last month's spend counts in no current period; an unpriced call is surfaced.
        live.Commit(CostRecords.Call(new DateTimeOffset(2026, 10, 31, 23, 0, 0, TimeSpan.Zero), 50, "gpt-4o"));
        live.Commit(CostRecords.Call(Now.AddHours(-2), null, "my-finetune", unpricedTokens: 400));

        await using var restarted = new CostHarness(Now, Settings, store);
        await restarted.StartAsync();

        foreach (var period in CalendarPeriods.All)
        {
            Assert.Equal(live.Ledger.Rows("default", period), restarted.Ledger.Rows("default", period));
        }
        Assert.Equal(Describe(live.Budgets.Statuses("default")), Describe(restarted.Budgets.Statuses("default")));
        foreach (var window in live.Models.Options.Windows)
        {
            Assert.Equal(live.Models.Models("default", window), restarted.Models.Models("default", window));
        }
        // Means without samples are NaN in the sums' derived properties: written as "NaN", equal on both sides.
        var json = new System.Text.Json.JsonSerializerOptions
        {
            NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        };
        Assert.Equal(
            System.Text.Json.JsonSerializer.Serialize(live.Experiments.Reports("default"), json),
            System.Text.Json.JsonSerializer.Serialize(restarted.Experiments.Reports("default"), json));

        // And the figures are the right ones, not just equal: 0.25 + 0.5 + ... + 1.5 = 5.25 USD today, 400 unpriced tokens.
        var daily = restarted.Budgets.Statuses("default").Single().Periods.Single(p => p.Period == CalendarPeriod.Daily);
        Assert.Equal(5.25, daily.SpendUsd, 9);
        Assert.Equal(400, daily.UnpricedTokens);
        var variantA = restarted.Experiments.Report("default", "prompt-v2")!.Variants.Single(v => v.Variant == "a");
        Assert.Equal(3, variantA.Invocations);            // i = 0, 2, 4
        Assert.Equal(0.9, variantA.Accuracy.Mean, 12); // the evaluation on i = 2
        var variantB = restarted.Experiments.Report("default", "prompt-v2")!.Variants.Single(v => v.Variant == "b");
        Assert.Equal(0.5, variantB.Accuracy.Mean, 12); // the feedback on i = 1
        Assert.Equal(1.0, variantB.Cost.Mean, 12); // (0.5 + 1.0 + 1.5) / 3
        var gpt4o = restarted.Models.Models("default", restarted.Models.Window("24h")!).Single(m => m.Model == "gpt-4o");
        Assert.Equal(4, gpt4o.Invocations);
        Assert.Equal(2, gpt4o.AccuracySamples);
    }

    private static string Describe(IReadOnlyList<BudgetStatus> statuses) =>
        string.Join("; ", statuses.Select(s => $"{s.Scope} {s.MonthToDateSpendUsd:R} {s.ProjectedMonthSpendUsd:R} " +
            string.Join(",", s.Periods.Select(p => p.ToString()))));
}
