using Cronos;
using PerfOtel.Collector.Derived.Analytics;

namespace PerfOtel.Collector.Exposure.Reports;

/// <summary>Configuration section <c>Reports</c>: scheduled reports and how they are delivered.</summary>
public sealed class ReportOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Reports";

    /// <summary>The only format so far: the Markdown of <c>GET /api/v1/report?format=markdown</c>.</summary>
    public const string MarkdownFormat = "markdown";

    /// <summary>Schedules by name (the name is the <c>schedule</c> label of the delivery self-metric).</summary>
    public Dictionary<string, ReportSchedule> Schedules { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Attempts per webhook delivery, the first included (retries on 5xx, 429, timeouts and network errors).</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The wait before the first retry; it doubles before each further retry, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest wait between attempts, also the cap on a receiver's <c>Retry-After</c>.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long one webhook attempt may take before it counts as failed (and is retried).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Every problem with these options, each naming its setting.</summary>
    /// <param name="windows">The analytics windows, which a schedule's <c>Window</c> must name.</param>
    public IEnumerable<string> Problems(IReadOnlyList<RollingWindowOptions> windows)
    {
        ArgumentNullException.ThrowIfNull(windows);
        if (MaxAttempts is < 1 or > 20)
        {
            yield return $"{SectionName}:MaxAttempts must be in [1, 20], was {MaxAttempts}.";
        }
        if (RetryDelay <= TimeSpan.Zero)
        {
            yield return $"{SectionName}:RetryDelay must be positive, was {RetryDelay}.";
        }
        if (MaxRetryDelay < RetryDelay)
        {
            yield return $"{SectionName}:MaxRetryDelay must be at least RetryDelay ({RetryDelay}), was {MaxRetryDelay}.";
        }
        if (Timeout <= TimeSpan.Zero)
        {
            yield return $"{SectionName}:Timeout must be positive, was {Timeout}.";
        }
        foreach (var (name, schedule) in Schedules)
        {
            var setting = $"{SectionName}:Schedules:{name}";
            if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                yield return $"{setting}: a schedule's name is a label value: letters, digits, '-' and '_' only.";
            }
            if (schedule is null)
            {
                yield return $"{setting} is empty: it needs Tenant, Cron and WebhookUrl or Directory.";
                continue;
            }
            foreach (var problem in schedule.Problems(setting, windows))
            {
                yield return problem;
            }
        }
    }
}

/// <summary>One scheduled report: whose, when, over which window, where to.</summary>
public sealed class ReportSchedule
{
    /// <summary>The tenant reported on: the report holds its agents only.</summary>
    public string Tenant { get; set; } = "";

    /// <summary>When: a 5-field cron expression (minute hour day-of-month month day-of-week), e.g. <c>0 8 * * 1</c>.</summary>
    public string Cron { get; set; } = "";

    /// <summary>The time zone the cron expression is read in (IANA id, e.g. <c>Europe/Paris</c>); default UTC.</summary>
    public string TimeZone { get; set; } = "UTC";

    /// <summary>The analytics window reported, one of <c>Analytics:Windows</c>; default <c>7d</c>.</summary>
    public string Window { get; set; } = "7d";

    /// <summary>The report's format; <c>markdown</c> only.</summary>
    public string Format { get; set; } = ReportOptions.MarkdownFormat;

    /// <summary>An http(s) URL the report is POSTed to as <c>{"text": "..."}</c> (Slack's incoming-webhook body).</summary>
    public string? WebhookUrl { get; set; }

    /// <summary>An absolute directory the report is written into as <c>report-{tenant}-{yyyyMMddTHHmmZ}.md</c>.</summary>
    public string? Directory { get; set; }

    /// <summary>The parsed cron expression; valid once <see cref="Problems"/> found none.</summary>
    internal CronExpression Expression => CronExpression.Parse(Cron, CronFormat.Standard);

    /// <summary>The time zone; valid once <see cref="Problems"/> found none.</summary>
    internal TimeZoneInfo Zone => TimeZoneInfo.FindSystemTimeZoneById(TimeZone);

    internal IEnumerable<string> Problems(string setting, IReadOnlyList<RollingWindowOptions> windows)
    {
        if (string.IsNullOrWhiteSpace(Tenant) || Tenant.Any(char.IsControl))
        {
            yield return $"{setting}:Tenant is required (the tenant whose agents the report covers), was '{Tenant}'.";
        }
        var cronProblem = CronProblem();
        if (cronProblem is not null)
        {
            yield return $"{setting}:Cron '{Cron}' is not a 5-field cron expression (minute hour day-of-month month day-of-week): {cronProblem}";
        }
        if (ZoneProblem() is { } zoneProblem)
        {
            yield return $"{setting}:TimeZone '{TimeZone}' is not a time zone of this system (use an IANA id such as Europe/Paris, or UTC): {zoneProblem}";
        }
        if (!windows.Any(w => w.Name == Window))
        {
            yield return $"{setting}:Window must be one of {string.Join(", ", windows.Select(w => w.Name))} (Analytics:Windows), was '{Window}'.";
        }
        if (!string.Equals(Format, ReportOptions.MarkdownFormat, StringComparison.Ordinal))
        {
            yield return $"{setting}:Format must be {ReportOptions.MarkdownFormat}, was '{Format}'.";
        }
        if (string.IsNullOrWhiteSpace(WebhookUrl) && string.IsNullOrWhiteSpace(Directory))
        {
            yield return $"{setting} has no destination: set WebhookUrl, Directory or both.";
        }
        if (!string.IsNullOrWhiteSpace(WebhookUrl) &&
            !(Uri.TryCreate(WebhookUrl, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttps || url.Scheme == Uri.UriSchemeHttp)))
        {
            // The URL usually carries a token: the message does not repeat it.
            yield return $"{setting}:WebhookUrl must be an absolute http:// or https:// URL.";
        }
        if (!string.IsNullOrWhiteSpace(Directory) && DirectoryProblem() is { } directoryProblem)
        {
            yield return $"{setting}:Directory '{Directory}' {directoryProblem}";
        }
    }

    private string? CronProblem()
    {
        if (string.IsNullOrWhiteSpace(Cron))
        {
            return "it is empty.";
        }
        try
        {
            CronExpression.Parse(Cron, CronFormat.Standard);
            return null;
        }
        catch (CronFormatException ex)
        {
            return ex.Message;
        }
    }

    private string? ZoneProblem()
    {
        try
        {
            TimeZoneInfo.FindSystemTimeZoneById(TimeZone);
            return null;
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException)
        {
            return ex.Message;
        }
    }

    /// <summary>
    /// Absolute (a relative path would depend on the working directory of whatever started the collector) and writable,
    /// probed with a real file as the SQLite data directory is.
    /// </summary>
    private string? DirectoryProblem()
    {
        if (!Path.IsPathFullyQualified(Directory!))
        {
            return "must be an absolute path.";
        }
        try
        {
            System.IO.Directory.CreateDirectory(Directory!);
            var probe = Path.Combine(Directory!, $".perfotel-report-probe-{Environment.ProcessId}");
            File.WriteAllText(probe, "probe");
            File.Delete(probe);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return $"is not writable: {ex.Message}";
        }
    }
}
