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

    public WindowStats(int calibrationBins) => CalibrationBins = new CalibrationBin[calibrationBins];

    public long Invocations { get; private set; }
    public long Successes { get; private set; }
    public long Failures { get; private set; }
    public long Partials { get; private set; }
    public double DurationSumSeconds { get; private set; }
    public LatencyHistogram Latency { get; } = new();
    public long Tokens { get; private set; }
    public double CostUsd { get; private set; }
    public long ProviderCalls { get; private set; }
    public long ToolCalls { get; private set; }
    public CalibrationBin[] CalibrationBins { get; }
    public double SquaredErrorSum { get; private set; }
    public double AccuracySum { get; private set; }
    public long AccuracySamples { get; private set; }
    public double QualitySum { get; private set; }
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
        DurationSumSeconds += Math.Max(0, durationSeconds) * count;
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
        CostUsd += (costUsd ?? 0) * count;
    }

    /// <summary>A tool call that stands for <paramref name="count"/> calls.</summary>
    public void AddToolCall(int count = 1) => ToolCalls += count;

    /// <summary>Adds (sign +1) or withdraws (sign -1) one calibration sample.</summary>
    public void AddCalibration(double confidence, bool success, int sign)
    {
        var bin = CalibrationFormulas.BinOf(confidence, CalibrationBins.Length);
        var clamped = Math.Clamp(confidence, 0.0, 1.0);
        CalibrationBins[bin] += new CalibrationBin(sign, sign * clamped, success ? sign : 0);
        SquaredErrorSum += sign * CalibrationFormulas.SquaredError(confidence, success);
    }

    public void AddAccuracy(double accuracy)
    {
        AccuracySum += Math.Clamp(accuracy, 0.0, 1.0);
        AccuracySamples++;
    }

    /// <summary>One <c>perfotel.quality</c> sample (unweighted, like accuracy: one per stored invocation that carries it).</summary>
    public void AddQuality(double quality)
    {
        QualitySum += Math.Clamp(quality, 0.0, 1.0);
        QualitySamples++;
    }

    public void Clear()
    {
        Invocations = Successes = Failures = Partials = Tokens = ProviderCalls = ToolCalls = AccuracySamples = QualitySamples = 0;
        DurationSumSeconds = CostUsd = SquaredErrorSum = AccuracySum = QualitySum = 0;
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
        DurationSumSeconds += other.DurationSumSeconds;
        Latency.Merge(other.Latency);
        Tokens += other.Tokens;
        CostUsd += other.CostUsd;
        ProviderCalls += other.ProviderCalls;
        ToolCalls += other.ToolCalls;
        for (var i = 0; i < CalibrationBins.Length; i++)
        {
            CalibrationBins[i] += other.CalibrationBins[i];
        }
        SquaredErrorSum += other.SquaredErrorSum;
        AccuracySum += other.AccuracySum;
        AccuracySamples += other.AccuracySamples;
        QualitySum += other.QualitySum;
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
