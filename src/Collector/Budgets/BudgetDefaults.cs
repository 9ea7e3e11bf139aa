namespace PerfOtel.Collector.Budgets;

/// <summary>
/// The budget thresholds of ARCHITECTURE.md (budget use 80 % warning, 100 % critical). The analytics' threshold
/// settings use the same keys (<c>Thresholds:BudgetWarningRatio</c>, <c>Thresholds:BudgetCriticalRatio</c>).
/// </summary>
public static class BudgetDefaults
{
    /// <summary>Budget use at or above this share of the limit is a warning.</summary>
    public const double WarningRatio = 0.80;

    /// <summary>Budget use at or above this share of the limit is critical.</summary>
    public const double CriticalRatio = 1.00;
}
