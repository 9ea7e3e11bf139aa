using Microsoft.Extensions.Options;
using PerfOtel.Collector.Storage;

namespace PerfOtel.Collector.Derived.Analytics;

/// <summary>
/// Fails start-up when the store forgets records the windows still count: live windows would then hold more than a
/// restart could replay, and a window's figures would change on restart (docs/architecture.md, principle 7).
/// </summary>
internal sealed class WindowRetentionValidator(IOptions<StorageOptions> storage) : IValidateOptions<AnalyticsOptions>
{
    public ValidateOptionsResult Validate(string? name, AnalyticsOptions options)
    {
        var days = storage.Value.RetentionDays;
        if (days <= 0 || options.Problems().Any())
        {
            // 0 keeps everything; malformed windows and negative retention are reported by their own validators.
            return ValidateOptionsResult.Success;
        }
        var needed = (int)Math.Ceiling(options.History.TotalDays);
        return days >= needed
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"Storage:RetentionDays is {days} but the analytics windows hold {needed} days (the current and the previous " +
                $"window of the longest of Analytics:Windows, {options.EffectiveWindows.MaxBy(w => w.Duration)!.Name}): set " +
                $"Storage:RetentionDays to 0 or at least {needed}, or configure shorter Analytics:Windows.");
    }
}
