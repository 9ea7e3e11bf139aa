using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Tests.Cost;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Derived.Experiments;

namespace PerfOtel.Collector.Tests.Experiments;

/// <summary>
/// Experiment definitions (<c>Experiments:Definitions</c>) and the analysis of /api/v1/experiments: expectations worked
/// by hand in the comments (docs/collector/experiments.md, "Analysis and verdict").
/// </summary>
public class ExperimentAnalysisTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 15, 12, 0, 0, TimeSpan.Zero);

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static ExperimentDefinition Definition(string primary = "success", double? mde = null, params (string Variant, double Weight)[] variants)
    {
        var definition = new ExperimentDefinition { PrimaryMetric = primary, MinimumDetectableEffect = mde };
        foreach (var (variant, weight) in variants.Length == 0 ? [("control", 1.0), ("cheaper", 1.0)] : variants)
        {
            definition.Variants[variant] = weight;
        }
        return definition;
    }

    private static ExperimentRegistry Registry(ExperimentDefinition? definition, DateTimeOffset? now = null, string experiment = "model-swap")
    {
        var options = new ExperimentOptions { MinSamplesPerVariant = 100 };
        if (definition is not null)
        {
            options.Definitions["default"] = new Dictionary<string, ExperimentDefinition>(StringComparer.Ordinal) { [experiment] = definition };
        }
        return new ExperimentRegistry(Options.Create(options), time: new FixedClock(now ?? Start.AddDays(1)));
    }

    private static void Add(ExperimentRegistry registry, string variant, int successes, int invocations,
        string experiment = "model-swap", Func<int, double>? duration = null, DateTimeOffset? at = null)
    {
        for (var i = 0; i < invocations; i++)
        {
            var invocation = CostRecords.Invocation((at ?? Start).AddSeconds(i), i < successes ? Outcomes.Success : Outcomes.Failure,
                experiment: experiment, variant: variant, durationSeconds: duration?.Invoke(i) ?? 2.0);
            registry.RecordInvocation(invocation, 0.01, accuracy: null);
        }
    }

    [Fact]
    public void ASignificantlyBetterTreatmentWinsWithIntervalsAgainstTheControl()
    {
        // cheaper 580/1000 against control 500/1000, 95 %, τ = 0.05 (the default):
        // Wilson(580, 1000) = 0.58 in [0.54916, 0.61023], Wilson(500, 1000) = 0.5 in [0.46907, 0.53093];
        // Newcombe: d = 0.08, 0.08 - sqrt(0.03084² + 0.03093²) = 0.03632, 0.08 + sqrt(0.03023² + 0.03093²) = 0.12325;
        // lift 0.58/0.5 - 1 = 0.16, se = sqrt(1/580 - 1/1000 + 1/500 - 1/1000) = 0.026736, exp(ln 1.16 ± 1.96 se) - 1 = [0.06933, 0.25835];
        // mSPRT: V = 0.58·0.42/1000 + 0.25/1000 = 0.0004936, ln Λ = ½ ln(0.0004936/0.0029936)
        //   + 0.0025·0.0064/(2·0.0004936·0.0029936) = -0.90124 + 5.41403 = 4.51279, p = e^-4.51279 = 0.010968 < 0.05.
        var registry = Registry(Definition());
        Add(registry, "control", 500, 1000);
        Add(registry, "cheaper", 580, 1000);

        var report = registry.Report("default", "model-swap")!;
        var analysis = report.Analysis!;

        Assert.True(report.Defined);
        Assert.Equal("control", analysis.Control);
        Assert.Equal(ExperimentVerdict.Winner, analysis.Verdict);
        Assert.Equal("cheaper", analysis.Winner);
        Assert.Contains("always-valid p = 0.011", analysis.Reason, StringComparison.Ordinal);
        var success = analysis.Variants.Single(v => v.Variant == "cheaper").Metrics.Single(m => m.Metric == "success");
        Assert.Equal(0.58, success.Estimate!.Value.Estimate, 10);
        Assert.Equal(0.54916, success.Estimate.Value.Lower, 5);
        Assert.Equal(0.61023, success.Estimate.Value.Upper, 5);
        Assert.Equal(0.08, success.Difference!.Value.Estimate, 10);
        Assert.Equal(0.03632, success.Difference.Value.Lower, 5);
        Assert.Equal(0.12325, success.Difference.Value.Upper, 5);
        Assert.Equal(0.16, success.Lift!.Value.Estimate, 10);
        Assert.Equal(0.06933, success.Lift.Value.Lower, 5);
        Assert.Equal(0.25835, success.Lift.Value.Upper, 5);
        Assert.Equal(0.010968, success.PValue!.Value, 6);
        var control = analysis.Variants.Single(v => v.Variant == "control").Metrics.Single(m => m.Metric == "success");
        Assert.Null(control.Difference);
        Assert.Null(control.PValue);
        Assert.Equal(0.5, analysis.Variants.Single(v => v.Variant == "cheaper").IntendedWeight);
    }

    [Fact]
    public void A5050ExperimentThatReceived5545IsFlaggedSrm()
    {
        // 5 500 / 4 500 of 10 000 against 50/50: expected 5 000 each, chi² = 2 · 500²/5 000 = 100 (1 df),
        // p = Q(0.5, 50) ≈ 1.5e-23 < 0.001: srm, whatever the success rates say.
        var registry = Registry(Definition());
        Add(registry, "control", 2750, 5500);
        Add(registry, "cheaper", 2700, 4500);

        var analysis = registry.Report("default", "model-swap")!.Analysis!;

        Assert.Equal(ExperimentVerdict.Srm, analysis.Verdict);
        Assert.Null(analysis.Winner);
        Assert.Equal(100, analysis.SampleRatio!.ChiSquare, 9);
        Assert.True(analysis.SampleRatio.Mismatch);
        Assert.True(analysis.SampleRatio.PValue < 1e-20);
        Assert.Contains("sample ratio mismatch", analysis.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The55To45SplitOfOnly100IsNoMismatch()
    {
        // 55/45 of 100: chi² = 2 · 5²/50 = 1, p = 0.3173: not a mismatch; both variants are below 100 invocations: running.
        var registry = Registry(Definition());
        Add(registry, "control", 30, 55);
        Add(registry, "cheaper", 30, 45);

        var analysis = registry.Report("default", "model-swap")!.Analysis!;

        Assert.Equal(1, analysis.SampleRatio!.ChiSquare, 9);
        Assert.Equal(0.3173, analysis.SampleRatio.PValue, 4);
        Assert.False(analysis.SampleRatio.Mismatch);
        Assert.Equal(ExperimentVerdict.Running, analysis.Verdict);
        Assert.Contains("has 45 of the 100 invocations required", analysis.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ALatencyGuardrailBeyondItsToleranceIsViolated()
    {
        // Control latencies alternate 1 s and 3 s (mean 2, s² = 200/199), cheaper 2 s and 4 s (mean 3, same s²), 200 each.
        // Lift 3/2 - 1 = +50 %, se = sqrt(1.00503/(200·9) + 1.00503/(200·4)) = 0.042592,
        // lower = 1.5 · e^(-1.96·0.042592) - 1 = +38.0 % > the tolerated 10 %: guardrail_violated.
        var definition = Definition();
        definition.Guardrails["latency"] = 0.1;
        var registry = Registry(definition);
        Add(registry, "control", 100, 200, duration: i => i % 2 == 0 ? 1 : 3);
        Add(registry, "cheaper", 100, 200, duration: i => i % 2 == 0 ? 2 : 4);

        var analysis = registry.Report("default", "model-swap")!.Analysis!;

        Assert.Equal(ExperimentVerdict.GuardrailViolated, analysis.Verdict);
        var latency = analysis.Variants.Single(v => v.Variant == "cheaper").Metrics.Single(m => m.Metric == "latency");
        Assert.Equal(0.5, latency.Lift!.Value.Estimate, 10);
        Assert.Equal(0.3800, latency.Lift.Value.Lower, 3);
        Assert.Equal(1.0, latency.Difference!.Value.Estimate, 10);
        Assert.Contains("latency", analysis.Reason, StringComparison.Ordinal);
        Assert.Contains("10.0%", analysis.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUndecidedExperimentRunsUntilItsEndThenHasNoDifference()
    {
        // 510/1000 against 500/1000: d = 0.01, V = 0.0004999, ln Λ = -0.90 + 0.0025·0.0001/(2·0.0004999·0.0029999) < 0:
        // p = 1. Newcombe's interval, about 0.01 ± 0.044, is not within ±0.05 either: running until End has passed.
        var definition = Definition();
        definition.End = Start.AddDays(7);
        var running = Registry(definition, now: Start.AddDays(1));
        var ended = Registry(definition, now: Start.AddDays(8));
        foreach (var registry in new[] { running, ended })
        {
            Add(registry, "control", 500, 1000);
            Add(registry, "cheaper", 510, 1000);
        }

        var open = running.Report("default", "model-swap")!.Analysis!;
        var closed = ended.Report("default", "model-swap")!.Analysis!;

        Assert.Equal(ExperimentVerdict.Running, open.Verdict);
        Assert.Equal(1, open.Variants.Single(v => v.Variant == "cheaper").Metrics.Single(m => m.Metric == "success").PValue);
        Assert.Equal(ExperimentVerdict.NoDifference, closed.Verdict);
        Assert.Contains("ended at", closed.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void InvocationsOutsideStartAndEndAreNotCounted()
    {
        var definition = Definition();
        definition.Start = Start.AddHours(1);
        definition.End = Start.AddHours(2);
        var registry = Registry(definition);
        Add(registry, "control", 10, 10, at: Start);                 // before Start
        Add(registry, "control", 5, 7, at: Start.AddHours(1));       // inside
        Add(registry, "cheaper", 3, 3, at: Start.AddHours(2));       // at End: outside

        var report = registry.Report("default", "model-swap")!;

        Assert.Equal(7, report.Variants.Single(v => v.Variant == "control").Invocations);
        Assert.Equal(0, report.Variants.Single(v => v.Variant == "cheaper").Invocations);
    }

    [Fact]
    public void UndefinedExperimentsAreReportedAsUndefinedAndDefinedOnesWithoutData()
    {
        var registry = Registry(Definition(), experiment: "defined-only");
        Add(registry, "a", 60, 120, experiment: "seen-only");
        Add(registry, "b", 50, 100, experiment: "seen-only");

        var reports = registry.Reports("default");

        Assert.Equal(["defined-only", "seen-only"], reports.Select(r => r.Experiment));
        var defined = reports[0];
        Assert.True(defined.Defined);
        Assert.Equal(["cheaper", "control"], defined.Variants.Select(v => v.Variant));
        Assert.Equal(ExperimentVerdict.Running, defined.Analysis!.Verdict);
        var seen = reports[1];
        Assert.False(seen.Defined);
        // Undefined: the control is the variant with the most invocations, and there is no SRM check.
        Assert.Equal("a", seen.Analysis!.Control);
        Assert.Null(seen.Analysis.SampleRatio);
        Assert.Null(seen.Analysis.Variants[0].IntendedWeight);
    }

    [Fact]
    public void InvalidDefinitionsNameTheirSetting()
    {
        var options = new ExperimentOptions();
        var bad = Definition("speed", null, ("only", 1.0));
        bad.Control = "missing";
        bad.Start = Start;
        bad.End = Start;
        bad.Guardrails["latncy"] = -1;
        bad.MinimumDetectableEffect = 0;
        options.Definitions["acme"] = new Dictionary<string, ExperimentDefinition>(StringComparer.Ordinal) { ["exp"] = bad };
        options.Definitions["beta"] = new Dictionary<string, ExperimentDefinition>(StringComparer.Ordinal)
        {
            ["cost-first"] = Definition("cost"),
            ["weights"] = Definition(variants: [("a", 1.0), ("b", 0.0)]),
        };

        var problems = options.Problems().ToList();

        const string key = "Experiments:Definitions:acme:exp";
        Assert.Contains(problems, p => p.StartsWith($"{key}:Variants must name at least two variants", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith($"{key}:Control must be one of the variants", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith($"{key}:End must be after", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith($"{key}:PrimaryMetric must be one of success|accuracy|quality|latency|cost, was 'speed'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith($"{key}:Guardrails:latncy is not a metric", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith($"{key}:Guardrails:latncy must be a finite tolerated relative degradation", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith($"{key}:MinimumDetectableEffect must be a positive number", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Experiments:Definitions:beta:cost-first:MinimumDetectableEffect is required", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Experiments:Definitions:beta:weights:Variants must give at least two variants a positive weight", StringComparison.Ordinal));
        Assert.Empty(new ExperimentOptions { Definitions = { ["acme"] = new(StringComparer.Ordinal) { ["ok"] = Definition() } } }.Problems());
    }

    [Fact]
    public void DefinitionsBindFromTheDocumentedKeys()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Experiments:Definitions:acme:model-swap:Variants:control"] = "3",
            ["Experiments:Definitions:acme:model-swap:Variants:cheaper"] = "1",
            ["Experiments:Definitions:acme:model-swap:Control"] = "control",
            ["Experiments:Definitions:acme:model-swap:Start"] = "2026-11-15T12:00:00Z",
            ["Experiments:Definitions:acme:model-swap:End"] = "2026-11-29T12:00:00Z",
            ["Experiments:Definitions:acme:model-swap:PrimaryMetric"] = "quality",
            ["Experiments:Definitions:acme:model-swap:Guardrails:cost"] = "0.05",
            ["Experiments:Definitions:acme:model-swap:MinimumDetectableEffect"] = "0.02",
            ["Experiments:Definitions:acme:model-swap:MinSamplesPerVariant"] = "400",
        }).Build();
        var options = new ExperimentOptions();
        configuration.GetSection(ExperimentOptions.SectionName).Bind(options);

        var definition = options.Definition("acme", "model-swap")!;

        Assert.Empty(options.Problems());
        Assert.Equal(3, definition.Variants["control"]);
        Assert.Equal(1, definition.Variants["cheaper"]);
        Assert.Equal("control", definition.ControlVariant);
        Assert.Equal(Start, definition.Start);
        Assert.Equal(Start.AddDays(14), definition.End);
        Assert.Equal(ExperimentMetric.Quality, definition.Primary);
        Assert.Equal(0.05, definition.Guardrails["cost"]);
        Assert.Equal(0.02, definition.Tau);
        Assert.Equal(400, definition.MinSamplesPerVariant);
        Assert.Null(options.Definition("other", "model-swap"));
    }
}
