using Microsoft.Extensions.Options;
using PerfOtel.Collector.Derived.Analytics;

namespace PerfOtel.Collector.Exposure.Reports;

/// <summary>Wiring of the scheduled reports.</summary>
public static class ReportServiceCollectionExtensions
{
    /// <summary>
    /// The <c>Reports</c> section, validated at start-up (each problem names its setting), and the scheduler with its
    /// delivery. Needs the analytics (<c>AddPerfOtelDerived</c>) on the same service collection.
    /// </summary>
    public static IServiceCollection AddPerfOtelReports(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<ReportOptions>().Bind(configuration.GetSection(ReportOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ReportOptions>, ReportOptionsValidator>();
        services.AddHttpClient(ReportDelivery.HttpClientName);
        services.AddSingleton<ReportDelivery>();
        services.AddSingleton<ReportScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<ReportScheduler>());
        return services;
    }

    private sealed class ReportOptionsValidator(IOptions<AnalyticsOptions> analytics) : IValidateOptions<ReportOptions>
    {
        public ValidateOptionsResult Validate(string? name, ReportOptions options)
        {
            var problems = options.Problems(analytics.Value.EffectiveWindows).ToList();
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
