namespace PerfOtel.Collector.Derived.Runs;

/// <summary>A difference b - a of one figure; null when either side lacks it.</summary>
public sealed record Difference(double? A, double? B, double? Delta)
{
    public static Difference Of(double? a, double? b) => new(a, b, a is { } x && b is { } y ? y - x : null);
}

/// <summary>
/// One aligned pair of steps. <see cref="A"/> or <see cref="B"/> is null where only one run has the step.
/// </summary>
public sealed record AlignedStep(
    string Operation, string Key, RunStep? A, RunStep? B, Difference Duration, Difference Tokens, Difference CostUsd,
    bool ModelChanged, bool ErrorChanged);

/// <summary>Two runs side by side: their pages, the aligned steps and the differences of their totals.</summary>
public sealed record RunComparisonResult(
    RunDetail A,
    RunDetail B,
    Difference Duration,
    Difference Tokens,
    Difference CostUsd,
    Difference StepCount,
    Difference ErrorCount,
    bool OutcomeChanged,
    IReadOnlyList<string> ModelsOnlyInA,
    IReadOnlyList<string> ModelsOnlyInB,
    IReadOnlyList<string> ErrorClassesOnlyInA,
    IReadOnlyList<string> ErrorClassesOnlyInB,
    IReadOnlyList<AlignedStep> Steps);

/// <summary>
/// Compares two runs. Steps are aligned by their key, the operation and name (tool name, nested agent name; a provider
/// call's key is its operation alone, so a change of model shows as a difference instead of a gap), as the longest
/// common subsequence of the two time-ordered key sequences: matched steps pair up in order, the rest stand alone.
/// </summary>
public static class RunComparison
{
    // Beyond this many steps on both sides the quadratic alignment gives way to pairing in order.
    private const long MaxAlignmentCells = 4_000_000;

    public static RunComparisonResult Compare(RunDetail a, RunDetail b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var modelsA = Models(a);
        var modelsB = Models(b);
        return new RunComparisonResult(
            a, b,
            Difference.Of(a.Run.DurationSeconds, b.Run.DurationSeconds),
            Difference.Of(a.Run.TotalTokens, b.Run.TotalTokens),
            Difference.Of(a.Run.CostUsd, b.Run.CostUsd),
            Difference.Of(a.StepCount, b.StepCount),
            Difference.Of(a.ErrorCount, b.ErrorCount),
            a.Run.Outcome != b.Run.Outcome,
            modelsA.Except(modelsB, StringComparer.Ordinal).ToList(),
            modelsB.Except(modelsA, StringComparer.Ordinal).ToList(),
            a.ErrorClasses.Except(b.ErrorClasses, StringComparer.Ordinal).ToList(),
            b.ErrorClasses.Except(a.ErrorClasses, StringComparer.Ordinal).ToList(),
            Align(a.Steps, b.Steps));
    }

    /// <summary>The alignment key of a step: operation and name, a provider call by its operation alone.</summary>
    public static string KeyOf(RunStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        return step.Kind == RunStep.ProviderCallKind ? step.Operation : step.Operation + " " + step.Name;
    }

    private static List<string> Models(RunDetail run) => run.Steps
        .Where(s => s.Kind == RunStep.ProviderCallKind)
        .Select(s => s.ResponseModel ?? s.RequestModel ?? s.Name)
        .Distinct(StringComparer.Ordinal)
        .Order(StringComparer.Ordinal)
        .ToList();

    private static List<AlignedStep> Align(IReadOnlyList<RunStep> a, IReadOnlyList<RunStep> b)
    {
        var keysA = a.Select(KeyOf).ToArray();
        var keysB = b.Select(KeyOf).ToArray();
        var pairs = new List<(int A, int B)>();
        if ((long)keysA.Length * keysB.Length <= MaxAlignmentCells)
        {
            // lcs[i, j]: length of the longest common subsequence of keysA[i..] and keysB[j..].
            var lcs = new int[keysA.Length + 1, keysB.Length + 1];
            for (var i = keysA.Length - 1; i >= 0; i--)
            {
                for (var j = keysB.Length - 1; j >= 0; j--)
                {
                    lcs[i, j] = keysA[i] == keysB[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
                }
            }
            int x = 0, y = 0;
            while (x < keysA.Length && y < keysB.Length)
            {
                if (keysA[x] == keysB[y])
                {
                    pairs.Add((x++, y++));
                }
                else if (lcs[x + 1, y] >= lcs[x, y + 1])
                {
                    pairs.Add((x++, -1));
                }
                else
                {
                    pairs.Add((-1, y++));
                }
            }
            while (x < keysA.Length)
            {
                pairs.Add((x++, -1));
            }
            while (y < keysB.Length)
            {
                pairs.Add((-1, y++));
            }
        }
        else
        {
            for (var i = 0; i < Math.Max(keysA.Length, keysB.Length); i++)
            {
                pairs.Add((i < keysA.Length ? i : -1, i < keysB.Length ? i : -1));
            }
        }

        return pairs.Select(p =>
        {
            var left = p.A >= 0 ? a[p.A] : null;
            var right = p.B >= 0 ? b[p.B] : null;
            var any = (left ?? right)!;
            return new AlignedStep(any.Operation, KeyOf(any), left, right,
                Difference.Of(left?.DurationSeconds, right?.DurationSeconds),
                Difference.Of(left?.Tokens?.Total, right?.Tokens?.Total),
                Difference.Of(left?.CostUsd, right?.CostUsd),
                left is not null && right is not null && left.Kind == RunStep.ProviderCallKind &&
                    (left.ResponseModel ?? left.RequestModel) != (right.ResponseModel ?? right.RequestModel),
                left is not null && right is not null && left.ErrorClass != right.ErrorClass);
        }).ToList();
    }
}
