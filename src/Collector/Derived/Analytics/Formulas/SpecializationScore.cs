using PerfOtel.Collector.Derived.Kernel;
namespace PerfOtel.Collector.Derived.Analytics.Formulas;

/// <summary>Invocation counts of one task type.</summary>
/// <param name="TaskType">The task type (<c>perfotel.task.type</c>).</param>
/// <param name="Invocations">Invocations of that type.</param>
/// <param name="Successes">Successful ones.</param>
public readonly record struct TaskTypeCounts(string TaskType, long Invocations, long Successes);

/// <summary>
/// Specialization score: how much better (positive) or worse (negative) the agent does on its main task type than on
/// its other task types: <c>success rate(main) - success rate(others)</c>, in [-1, 1]. The main task type is the one
/// with the most invocations in the window (ties broken by ordinal name order); "others" pools every other type.
/// Null when the agent has fewer than two task types in the window (nothing to compare).
/// </summary>
public static class SpecializationScore
{
    /// <summary>The main task type: most invocations, ties by ordinal name.</summary>
    public static TaskTypeCounts? MainTaskType(IReadOnlyList<TaskTypeCounts> taskTypes)
    {
        TaskTypeCounts? main = null;
        foreach (var candidate in taskTypes)
        {
            if (candidate.Invocations <= 0)
            {
                continue;
            }
            if (main is not { } current || candidate.Invocations > current.Invocations ||
                (candidate.Invocations == current.Invocations &&
                 string.CompareOrdinal(candidate.TaskType, current.TaskType) < 0))
            {
                main = candidate;
            }
        }
        return main;
    }

    /// <summary>The specialization score; null with fewer than two task types.</summary>
    public static double? Compute(IReadOnlyList<TaskTypeCounts> taskTypes)
    {
        if (MainTaskType(taskTypes) is not { } main)
        {
            return null;
        }
        long otherInvocations = 0, otherSuccesses = 0;
        foreach (var taskType in taskTypes)
        {
            if (taskType.Invocations > 0 && taskType.TaskType != main.TaskType)
            {
                otherInvocations += taskType.Invocations;
                otherSuccesses += taskType.Successes;
            }
        }
        if (otherInvocations == 0)
        {
            return null;
        }
        return (double)main.Successes / main.Invocations - (double)otherSuccesses / otherInvocations;
    }
}
