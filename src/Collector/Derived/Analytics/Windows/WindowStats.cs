using PerfOtel.Collector.Derived.Analytics.Formulas;
using PerfOtel.Collector.Derived.Kernel;

namespace PerfOtel.Collector.Derived.Analytics.Windows;

/// <summary>
/// The additive statistics of one time bucket, or of several merged: every derivation is a function of these, and
/// every field sums across buckets, windows and replicas (which is what makes the exported counters mergeable).
/// Not thread-safe: the owning <see cref="AgentWindows"/> locks around it.
/// </summary>
internal sealed class WindowStats : IWindowStats<WindowStats>
{
    private readonly Dictionary<string, TaskTypeTally> taskTypes = new(StringComparer.Ordinal);
    // Order-free sums: live commits and the start-up replay add the same values in different orders.
    private OrderFreeSum durationSumSeconds;
    private OrderFreeSum costUsd;
    private OrderFreeSum squaredErrorSum;
    private OrderFreeSum accuracySum;
    private OrderFreeSum qualitySum;

    public WindowStats(int calibrationBins) => CalibrationBins = new CalibrationBin[calibrationBins];

    public long Invocations { get; private set; }
    public long Successes { get; private set; }
    public long Failures { get; private set; }
    public long Partials { get; private set; }
    public double DurationSumSeconds => durationSumSeconds.Value;
    public LatencyHistogram Latency { get; } = new();
    public long Tokens { get; private set; }
    public double CostUsd => costUsd.Value;
    public long ProviderCalls { get; private set; }
    public long ToolCalls { get; private set; }
    public CalibrationBin[] CalibrationBins { get; }
    public double SquaredErrorSum => squaredErrorSum.Value;
    public double AccuracySum => accuracySum.Value;
    public long AccuracySamples { get; private set; }
    public double QualitySum => qualitySum.Value;
    public long QualitySamples { get; private set; }
    public IReadOnlyDictionary<string, TaskTypeTally> TaskTypes => taskTypes;

    public bool IsEmpty => Invocations == 0 && ProviderCalls == 0 && ToolCalls == 0 && AccuracySamples == 0 && QualitySamples == 0;

    /// <param name="outcome">The invocation's outcome.</param>
    /// <param name="durationSeconds">Its duration.</param>
    /// <param name="taskType">The task type it is tallied under.</param>
    /// <param name="count">How many invocations it stands for (<see cref="Records.SampleWeights.Count"/>).</param>
    public void AddInvocation(string outcome, double durationSeconds, string taskType, int count = 1)
    {
        Invocations += count;
        var success = outcome == Instrumentation.Conventions.Outcomes.Success;
        if (success)
        {
            Successes += count;
        }
        else if (outcome == Instrumentation.Conventions.Outcomes.Failure)
        {
            Failures += count;
        }
        else
        {
            Partials += count;
        }
        durationSumSeconds.Add(Math.Max(0, durationSeconds) * count);
        Latency.Record(durationSeconds, count);
        taskTypes.TryGetValue(taskType, out var tally);
        taskTypes[taskType] = new TaskTypeTally(tally.Invocations + count, tally.Successes + (success ? count : 0));
    }

    public int TaskTypeCount => taskTypes.Count;

    public bool HasTaskType(string taskType) => taskTypes.ContainsKey(taskType);

    /// <summary>A provider call that stands for <paramref name="count"/> calls.</summary>
    public void AddProviderCall(long tokens, double? costUsd, int count = 1)
    {
        ProviderCalls += count;
        Tokens += tokens * count;
        this.costUsd.Add((costUsd ?? 0) * count);
    }

    /// <summary>A tool call that stands for <paramref name="count"/> calls.</summary>
    public void AddToolCall(int count = 1) => ToolCalls += count;

    /// <summary>Adds (sign +1) or withdraws (sign -1) one calibration sample.</summary>
    public void AddCalibration(double confidence, bool success, int sign)
    {
        var bin = CalibrationFormulas.BinOf(confidence, CalibrationBins.Length);
        var clamped = Math.Clamp(confidence, 0.0, 1.0);
        CalibrationBins[bin] += new CalibrationBin(sign, sign * clamped, success ? sign : 0);
        squaredErrorSum.Add(sign * CalibrationFormulas.SquaredError(confidence, success));
    }

    public void AddAccuracy(double accuracy)
    {
        accuracySum.Add(Math.Clamp(accuracy, 0.0, 1.0));
        AccuracySamples++;
    }

    /// <summary>One <c>perfotel.quality</c> sample (unweighted, like accuracy: one per stored invocation that carries it).</summary>
    public void AddQuality(double quality)
    {
        qualitySum.Add(Math.Clamp(quality, 0.0, 1.0));
        QualitySamples++;
    }

    public void Clear()
    {
        Invocations = Successes = Failures = Partials = Tokens = ProviderCalls = ToolCalls = AccuracySamples = QualitySamples = 0;
        durationSumSeconds.Clear();
        costUsd.Clear();
        squaredErrorSum.Clear();
        accuracySum.Clear();
        qualitySum.Clear();
        Latency.Clear();
        Array.Clear(CalibrationBins);
        taskTypes.Clear();
    }

    public void Merge(WindowStats other)
    {
        Invocations += other.Invocations;
        Successes += other.Successes;
        Failures += other.Failures;
        Partials += other.Partials;
        durationSumSeconds.Add(other.durationSumSeconds);
        Latency.Merge(other.Latency);
        Tokens += other.Tokens;
        costUsd.Add(other.costUsd);
        ProviderCalls += other.ProviderCalls;
        ToolCalls += other.ToolCalls;
        for (var i = 0; i < CalibrationBins.Length; i++)
        {
            CalibrationBins[i] += other.CalibrationBins[i];
        }
        squaredErrorSum.Add(other.squaredErrorSum);
        accuracySum.Add(other.accuracySum);
        AccuracySamples += other.AccuracySamples;
        qualitySum.Add(other.qualitySum);
        QualitySamples += other.QualitySamples;
        foreach (var (taskType, tally) in other.taskTypes)
        {
            taskTypes.TryGetValue(taskType, out var mine);
            taskTypes[taskType] = new TaskTypeTally(mine.Invocations + tally.Invocations, mine.Successes + tally.Successes);
        }
    }
}

/// <summary>Invocations and successes of one task type.</summary>
internal readonly record struct TaskTypeTally(long Invocations, long Successes);
