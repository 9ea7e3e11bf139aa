using System.Runtime.InteropServices;
using PerfOtel.Collector.Derived.Analytics.Formulas;
using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Derived.Thresholds;

namespace PerfOtel.Collector.Derived.Analytics.Reports;

/// <summary>Turns merged window statistics into a report: the one place where the formulas are applied.</summary>
internal static class ReportBuilder
{
    private sealed record CoreValues(
        double? SuccessRate, double? ErrorRate, double? P95, double? Accuracy, double? Quality, double? CostPerInvocation,
        double? TokensPerInvocation, double? HealthScore);

    public static AgentReport Build(
        string tenant,
        string? agent,
        RollingWindowOptions window,
        DateTimeOffset windowStart,
        DateTimeOffset windowEnd,
        WindowStats current,
        WindowStats previous,
        AnomalyReport anomaly,
        ThresholdSet thresholds,
        AnalyticsOptions options)
    {
        var core = Core(current, thresholds);
        var before = Core(previous, thresholds);

        var bins = new CalibrationBinReport[current.CalibrationBins.Length];
        var binWidth = 1.0 / bins.Length;
        for (var i = 0; i < bins.Length; i++)
        {
            var bin = current.CalibrationBins[i];
            bins[i] = new CalibrationBinReport(i, i * binWidth, (i + 1) * binWidth, bin.Samples, bin.ConfidenceSum,
                bin.Successes, bin.SuccessRate, bin.MeanConfidence);
        }
        var calibration = CalibrationFormulas.Compute(current.CalibrationBins, current.SquaredErrorSum,
            options.CalibrationMinimumSamples);
        long calibrationSamples = 0;
        foreach (var bin in current.CalibrationBins)
        {
            calibrationSamples += bin.Samples;
        }

        var taskTypes = current.TaskTypes
            .Where(pair => pair.Value.Invocations > 0)
            .Select(pair => new TaskTypeCounts(pair.Key, pair.Value.Invocations, pair.Value.Successes))
            .OrderBy(counts => counts.TaskType, StringComparer.Ordinal)
            .ToList();

        var trends = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (metric, higherIsBetter) in TrendMetrics.All)
        {
            var direction = TrendFormula.Direction(Pick(core, metric), Pick(before, metric), higherIsBetter);
            if (direction is { } d)
            {
                trends[metric] = (int)d;
            }
        }

        return new AgentReport
        {
            Tenant = tenant,
            Agent = agent,
            Window = window.Name,
            WindowStart = windowStart,
            WindowEnd = windowEnd,
            Invocations = current.Invocations,
            Successes = current.Successes,
            Failures = current.Failures,
            Partials = current.Partials,
            SuccessRate = core.SuccessRate,
            ErrorRate = core.ErrorRate,
            LatencyMeanSeconds = OutcomeRates.PerInvocation(current.DurationSumSeconds, current.Invocations),
            LatencyP50Seconds = current.Latency.Quantile(0.50),
            LatencyP95Seconds = core.P95,
            LatencyP99Seconds = current.Latency.Quantile(0.99),
            DurationSumSeconds = current.DurationSumSeconds,
            ProviderCalls = current.ProviderCalls,
            ToolCalls = current.ToolCalls,
            StepsPerInvocation = OutcomeRates.PerInvocation(current.ProviderCalls + current.ToolCalls, current.Invocations),
            Tokens = current.Tokens,
            CostUsd = current.CostUsd,
            TokensPerInvocation = core.TokensPerInvocation,
            CostPerInvocationUsd = core.CostPerInvocation,
            AccuracySamples = current.AccuracySamples,
            AccuracySum = current.AccuracySum,
            Accuracy = core.Accuracy,
            QualitySamples = current.QualitySamples,
            QualitySum = current.QualitySum,
            Quality = core.Quality,
            Calibration = new CalibrationReport(calibrationSamples, options.CalibrationMinimumSamples, calibration is null,
                calibration?.ExpectedCalibrationError, calibration?.MaximumCalibrationError, calibration?.BrierScore,
                calibration?.Overconfidence, current.SquaredErrorSum, bins),
            HealthScore = core.HealthScore,
            HealthBand = core.HealthScore is { } score ? HealthScore.NameOf(HealthScore.BandOf(score)) : null,
            ReliabilityScore = ReliabilityScore.WilsonLowerBound(current.Successes, current.Invocations),
            EfficiencyScore = EfficiencyScore.Compute(core.P95, thresholds.MaxLatencyP95Seconds, core.Accuracy, core.SuccessRate),
            SpecializationScore = SpecializationScore.Compute(taskTypes),
            MainTaskType = SpecializationScore.MainTaskType(taskTypes)?.TaskType,
            TaskTypes = taskTypes
                .Select(t => new TaskTypeReport(t.TaskType, t.Invocations, t.Successes, (double)t.Successes / t.Invocations))
                .ToList(),
            Anomaly = anomaly,
            Trends = trends,
        };
    }

    private static CoreValues Core(WindowStats stats, ThresholdSet thresholds)
    {
        var successRate = OutcomeRates.SuccessRate(stats.Successes, stats.Invocations);
        var errorRate = OutcomeRates.ErrorRate(stats.Failures, stats.Invocations);
        var p95 = stats.Latency.Quantile(0.95);
        double? accuracy = stats.AccuracySamples > 0 ? stats.AccuracySum / stats.AccuracySamples : null;
        double? quality = stats.QualitySamples > 0 ? stats.QualitySum / stats.QualitySamples : null;
        double? health = successRate is { } s && errorRate is { } e && p95 is { } p
            ? HealthScore.Compute(s, e, p, thresholds.MaxLatencyP95Seconds, accuracy, quality)
            : null;
        // Without any provider call in the window, tokens and cost are unknown rather than zero.
        var called = stats.ProviderCalls > 0;
        return new CoreValues(successRate, errorRate, p95, accuracy, quality,
            called ? OutcomeRates.PerInvocation(stats.CostUsd, stats.Invocations) : null,
            called ? OutcomeRates.PerInvocation(stats.Tokens, stats.Invocations) : null, health);
    }

    private static double? Pick(CoreValues values, string metric) => metric switch
    {
        TrendMetrics.HealthScore => values.HealthScore,
        TrendMetrics.SuccessRate => values.SuccessRate,
        TrendMetrics.ErrorRate => values.ErrorRate,
        TrendMetrics.LatencyP95 => values.P95,
        TrendMetrics.Accuracy => values.Accuracy,
        TrendMetrics.Quality => values.Quality,
        TrendMetrics.CostPerInvocation => values.CostPerInvocation,
        TrendMetrics.TokensPerInvocation => values.TokensPerInvocation,
        _ => null,
    };

    /// <summary>Anomaly scores of the completed buckets of a window (the current bucket is still filling).</summary>
    public static AnomalyReport Anomaly(IReadOnlyList<BucketPoint> completedBuckets, AnalyticsOptions options)
    {
        // Buckets without invocations have no success rate or latency, and no cost when nothing was called:
        // they are gaps in those series, not zeros.
        var successRates = new List<double>(completedBuckets.Count);
        var latencies = new List<double>(completedBuckets.Count);
        var costs = new List<double>(completedBuckets.Count);
        foreach (var bucket in completedBuckets)
        {
            if (bucket.Invocations > 0)
            {
                successRates.Add((double)bucket.Successes / bucket.Invocations);
                latencies.Add(bucket.DurationSumSeconds / bucket.Invocations);
            }
            if (bucket.ProviderCalls > 0)
            {
                costs.Add(bucket.CostUsd);
            }
        }
        var success = AnomalyDetector.ZScore(CollectionsMarshal.AsSpan(successRates), options.AnomalyAlpha);
        var latency = AnomalyDetector.ZScore(CollectionsMarshal.AsSpan(latencies), options.AnomalyAlpha);
        var cost = AnomalyDetector.ZScore(CollectionsMarshal.AsSpan(costs), options.AnomalyAlpha);
        double? score = null;
        foreach (var z in new[] { success, latency, cost })
        {
            if (z is { } value)
            {
                score = Math.Max(score ?? 0, Math.Abs(value));
            }
        }
        return new AnomalyReport(success, latency, cost, score, AnomalyDetector.IsAnomaly(score, options.AnomalyThreshold));
    }
}
