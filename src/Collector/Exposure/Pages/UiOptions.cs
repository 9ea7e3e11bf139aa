using Microsoft.Extensions.Options;

namespace PerfOtel.Collector.Exposure.Pages;

/// <summary>The read-only pages under <c>/ui/</c> (section <c>Ui</c>); see docs/collector/ui.md.</summary>
public sealed class UiOptions
{
    public const string SectionName = "Ui";

    /// <summary>Default Grafana address: Grafana's own default port on this machine.</summary>
    public const string DefaultGrafanaUrl = "http://127.0.0.1:3000";

    /// <summary>Serve the pages; false maps no /ui/ route at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Base address of the Grafana that has PerfOtel's dashboards (dashboards/grafana); each page links there.</summary>
    public string GrafanaUrl { get; set; } = DefaultGrafanaUrl;
}

internal sealed class UiOptionsValidator : IValidateOptions<UiOptions>
{
    public ValidateOptionsResult Validate(string? name, UiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Uri.TryCreate(options.GrafanaUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            && string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.Fragment)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"Ui:GrafanaUrl must be an absolute http or https URL without query or fragment, such as {UiOptions.DefaultGrafanaUrl} (was '{options.GrafanaUrl}').");
    }
}
