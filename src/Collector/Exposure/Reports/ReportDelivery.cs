using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Collector.Exposure.Reports;

/// <summary>
/// Delivers a rendered report: POSTed to a webhook as Slack's incoming-webhook body <c>{"text": "..."}</c>, retried with
/// doubling waits (or the receiver's <c>Retry-After</c>) on 5xx, 408, 429, timeouts and network errors, a bounded number
/// of times; or written into a directory atomically (a temporary file renamed into place, so a reader never sees half a
/// report). Every outcome is counted on <c>perfotel_collector_report_deliveries_total</c>. Waits run on the registered
/// <see cref="TimeProvider"/>.
/// </summary>
internal sealed partial class ReportDelivery(
    IHttpClientFactory httpClients, IOptions<ReportOptions> options, TimeProvider time, ILogger<ReportDelivery> logger,
    CollectorMetrics? metrics = null)
{
    /// <summary>The named <see cref="HttpClient"/> webhook deliveries use.</summary>
    public const string HttpClientName = "PerfOtel.Reports";

    /// <summary>
    /// The longest text posted: Slack truncates a message's <c>text</c> beyond 40 000 characters, so a longer report is cut
    /// at a line boundary with a note saying where the whole report is.
    /// </summary>
    public const int MaxWebhookTextLength = 40_000;

    /// <summary>POSTs <paramref name="markdown"/> to <paramref name="url"/>; true once a 2xx answer came.</summary>
    public async Task<bool> PostAsync(string schedule, Uri url, string markdown, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var body = new WebhookBody(Truncate(markdown));
        using var client = httpClients.CreateClient(HttpClientName);
        // Attempts are bounded by their own timeout below (on the registered clock), not by HttpClient's.
        client.Timeout = Timeout.InfiniteTimeSpan;
        string failure = "";
        for (var attempt = 1; attempt <= settings.MaxAttempts; attempt++)
        {
            TimeSpan? retryAfter = null;
            bool retryable;
            using var attemptTimeout = new CancellationTokenSource(settings.Timeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, attemptTimeout.Token);
            try
            {
                using var response = await client.PostAsJsonAsync(url, body, linked.Token).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    Count(schedule, ReportDestinations.Webhook, delivered: true);
                    LogDelivered(logger, schedule, ReportDestinations.Webhook, attempt);
                    return true;
                }
                var status = (int)response.StatusCode;
                failure = $"HTTP {status}";
                retryable = status is >= 500 or (int)HttpStatusCode.TooManyRequests or (int)HttpStatusCode.RequestTimeout;
                retryAfter = RetryAfter(response);
            }
            catch (HttpRequestException ex)
            {
                failure = ex.HttpRequestError.ToString();
                retryable = true;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                failure = $"no answer within {settings.Timeout}";
                retryable = true;
            }

            if (!retryable || attempt == settings.MaxAttempts)
            {
                break;
            }
            var wait = Wait(attempt, retryAfter, settings);
            LogRetrying(logger, schedule, url.Host, failure, attempt, wait.TotalSeconds);
            await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
        }
        Count(schedule, ReportDestinations.Webhook, delivered: false);
        LogFailed(logger, schedule, url.Host, failure);
        return false;
    }

    /// <summary>Writes the report as <c>report-{tenant}-{yyyyMMddTHHmmZ}.md</c> into <paramref name="directory"/>.</summary>
    public bool Write(string schedule, string directory, string tenant, DateTimeOffset occurrence, string markdown)
    {
        var path = Path.Combine(directory, FileName(tenant, occurrence));
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllText(temporary, markdown);
            File.Move(temporary, path, overwrite: true);
            Count(schedule, ReportDestinations.Directory, delivered: true);
            LogDelivered(logger, schedule, ReportDestinations.Directory, 1);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            Count(schedule, ReportDestinations.Directory, delivered: false);
            LogWriteFailed(logger, ex, schedule, path);
            return false;
        }
    }

    /// <summary>
    /// The file of one run: the tenant (characters other than letters, digits, '.', '-' and '_' become '_') and the
    /// scheduled time in UTC, so runs sort by time and a rerun of the same occurrence replaces its file.
    /// </summary>
    public static string FileName(string tenant, DateTimeOffset occurrence)
    {
        var safe = new string(tenant.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_').ToArray());
        if (safe.StartsWith('.'))
        {
            safe = "_" + safe[1..];
        }
        return $"report-{safe}-{occurrence.UtcDateTime.ToString("yyyyMMdd'T'HHmm'Z'", CultureInfo.InvariantCulture)}.md";
    }

    /// <summary>The wait before attempt <paramref name="attempt"/> + 1: the receiver's Retry-After, else RetryDelay doubled per retry; at most MaxRetryDelay.</summary>
    internal static TimeSpan Wait(int attempt, TimeSpan? retryAfter, ReportOptions settings)
    {
        var backoff = TimeSpan.FromTicks((long)Math.Min(settings.RetryDelay.Ticks * Math.Pow(2, attempt - 1), TimeSpan.MaxValue.Ticks / 2.0));
        var wait = retryAfter is { } asked && asked > TimeSpan.Zero ? asked : backoff;
        return wait > settings.MaxRetryDelay ? settings.MaxRetryDelay : wait;
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response) =>
        response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - time.GetUtcNow(),
            _ => null,
        };

    private static string Truncate(string markdown)
    {
        if (markdown.Length <= MaxWebhookTextLength)
        {
            return markdown;
        }
        const string Note = "\n\n_The report is longer than a chat message allows: the rest is in the directory copy or at GET /api/v1/report?format=markdown._\n";
        var cut = markdown.LastIndexOf('\n', MaxWebhookTextLength - Note.Length);
        return markdown[..(cut > 0 ? cut : MaxWebhookTextLength - Note.Length)] + Note;
    }

    private void Count(string schedule, string destination, bool delivered) =>
        metrics?.ReportDelivery(schedule, destination, delivered ? ReportResults.Delivered : ReportResults.Failed);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Nothing more to do: the temporary name starts with '.', out of the way of readers of report-*.md.
        }
    }

    private sealed record WebhookBody(string Text);

    [LoggerMessage(EventId = 9001, Level = LogLevel.Information, Message = "Report {Schedule} delivered to its {Destination} (attempt {Attempt}).")]
    private static partial void LogDelivered(ILogger logger, string schedule, string destination, int attempt);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Warning, Message = "Report {Schedule}: the webhook at {Host} failed ({Failure}) on attempt {Attempt}; retrying in {Seconds} s.")]
    private static partial void LogRetrying(ILogger logger, string schedule, string host, string failure, int attempt, double seconds);

    [LoggerMessage(EventId = 9003, Level = LogLevel.Error, Message = "Report {Schedule}: the webhook at {Host} was not delivered ({Failure}); the attempts ran out.")]
    private static partial void LogFailed(ILogger logger, string schedule, string host, string failure);

    [LoggerMessage(EventId = 9004, Level = LogLevel.Error, Message = "Report {Schedule}: writing {Path} failed.")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, string schedule, string path);
}

/// <summary>Values of the <c>destination</c> label of the delivery self-metric.</summary>
public static class ReportDestinations
{
    public const string Webhook = "webhook";
    public const string Directory = "directory";
}

/// <summary>Values of the <c>result</c> label of the delivery self-metric.</summary>
public static class ReportResults
{
    public const string Delivered = "delivered";
    public const string Failed = "failed";
}
