using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using PerfOtel.Collector.Derived.Analytics;
using PerfOtel.Collector.Exposure.Reports;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Tests.Cardinality;
using PerfOtel.Instrumentation.Conventions;
using static PerfOtel.Collector.Tests.Analytics.Records;

namespace PerfOtel.Collector.Tests.Reports;

/// <summary>The collector with a fake clock, an in-memory store and the schedule settings given.</summary>
internal sealed class ScheduledCollector(FakeTimeProvider clock, IDictionary<string, string?> settings) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<TimeProvider>(clock);
            services.AddSingleton<IExecutionStore, Cost.InMemoryExecutionStore>();
        });
    }

    public ReportScheduler Scheduler => Services.GetRequiredService<ReportScheduler>();

    /// <summary>Waits (real time, bounded) until the schedule waits for <paramref name="occurrence"/>.</summary>
    public async Task<ReportScheduler.Armed> ArmedForAsync(string schedule, DateTimeOffset occurrence)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (Scheduler.Waiting(schedule) is { } armed && armed.Occurrence == occurrence)
            {
                return armed;
            }
            Assert.True(DateTime.UtcNow < deadline, $"schedule {schedule} did not wait for {occurrence:o} (waits for {Scheduler.Waiting(schedule)?.Occurrence:o})");
            await Task.Delay(20);
        }
    }

    /// <summary>The delivery counter's value for the labels, from a scrape of /metrics (0 when absent).</summary>
    public async Task<double> DeliveriesAsync(string schedule, string destination, string result)
    {
        using var client = CreateClient();
        var samples = Sample.Parse(await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
        return samples.Where(s => s.Name == "perfotel_collector_report_deliveries_total" && s.Label("schedule") == schedule &&
                s.Label("destination") == destination && s.Label("result") == result)
            .Sum(s => s.Value);
    }
}

public sealed class ScheduledReportTests : IDisposable
{
    // Monday 16 November 2026, 07:30 UTC; the weekly schedule runs on Mondays at 08:00.
    private static readonly DateTimeOffset Start = new(2026, 11, 16, 7, 30, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Eight = Start.AddMinutes(30);
    private readonly FakeTimeProvider clock = new(Start);
    private readonly WebhookReceiver webhook;
    private readonly string directory = Path.Combine(Path.GetTempPath(), "perfotel-reports-" + Guid.NewGuid().ToString("N"));

    public ScheduledReportTests() => webhook = new WebhookReceiver(clock);

    public void Dispose()
    {
        webhook.Dispose();
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private Dictionary<string, string?> Weekly(params (string Key, string? Value)[] extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Reports:Schedules:weekly:Tenant"] = "acme",
            ["Reports:Schedules:weekly:Cron"] = "0 8 * * 1",
            // Attempts are timed on the fake clock too: long enough that stepping it never times one out.
            ["Reports:Timeout"] = "01:00:00",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }
        return settings;
    }

    /// <summary>acme's planner (5 runs, 4 succeed) and another tenant's agent, over the last days.</summary>
    private static void Feed(ScheduledCollector collector)
    {
        var batch = new IngestBatch();
        for (var i = 0; i < 5; i++)
        {
            batch.Invocations.Add(Invocation("planner", Start.AddDays(-3).AddMinutes(i), i < 4 ? Outcomes.Success : Outcomes.Failure, tenant: "acme"));
            batch.Invocations.Add(Invocation("other-tenants-agent", Start.AddDays(-2).AddMinutes(i), tenant: "globex"));
        }
        collector.Services.GetRequiredService<AnalyticsDerivation>().Apply(batch);
    }

    [Fact]
    public async Task The_weekly_report_reaches_the_webhook_at_its_occurrence_and_not_before_with_the_tenants_agents_only()
    {
        await using var collector = new ScheduledCollector(clock, Weekly(("Reports:Schedules:weekly:WebhookUrl", webhook.Url.ToString())));
        collector.CreateClient().Dispose();
        Feed(collector);

        await collector.ArmedForAsync("weekly", Eight);
        clock.Advance(TimeSpan.FromMinutes(30) - TimeSpan.FromSeconds(1));
        await Task.Delay(500);
        Assert.Empty(webhook.Received);
        Assert.Equal(0, await collector.DeliveriesAsync("weekly", ReportDestinations.Webhook, ReportResults.Delivered));

        clock.Advance(TimeSpan.FromSeconds(1));
        await webhook.WaitForAsync(1);
        var (body, at) = Assert.Single(webhook.Received);
        Assert.Equal(Eight, at);
        using var json = JsonDocument.Parse(body);
        var text = json.RootElement.GetProperty("text").GetString()!;
        Assert.StartsWith("# PerfOtel report: tenant acme, window 7d\n", text, StringComparison.Ordinal);
        // The window is the 168 hourly buckets up to the end of the current one.
        Assert.Contains("covering 2026-11-09 09:00 to 2026-11-16 09:00 UTC", text, StringComparison.Ordinal);
        Assert.Contains("| planner |", text, StringComparison.Ordinal);
        Assert.Contains("| 5 | 80.0 % |", text, StringComparison.Ordinal);
        Assert.DoesNotContain("other-tenants-agent", text, StringComparison.Ordinal);
        Assert.DoesNotContain("globex", text, StringComparison.Ordinal);

        // Next Monday is the next run: one report per occurrence.
        await collector.ArmedForAsync("weekly", Eight.AddDays(7));
        Assert.Single(webhook.Received);
        Assert.Equal(1, await WaitForCountAsync(collector, ReportDestinations.Webhook, ReportResults.Delivered, 1));
    }

    [Fact]
    public async Task A_503_with_Retry_After_is_retried_after_that_wait_and_then_delivered()
    {
        webhook.Then((503, "30"));
        await using var collector = new ScheduledCollector(clock, Weekly(("Reports:Schedules:weekly:WebhookUrl", webhook.Url.ToString())));
        collector.CreateClient().Dispose();

        await collector.ArmedForAsync("weekly", Eight);
        clock.Advance(TimeSpan.FromMinutes(30));
        await webhook.WaitForAsync(1);
        await StepUntilAsync(() => webhook.Received.Count >= 2, TimeSpan.FromMinutes(5));

        var received = webhook.Received;
        Assert.Equal(2, received.Count);
        // Retry-After (30 s) was honoured rather than the 10 s of the first backoff step.
        Assert.True(received[1].At - received[0].At >= TimeSpan.FromSeconds(30), $"retried after {received[1].At - received[0].At}");
        Assert.Equal(received[0].Body, received[1].Body);
        Assert.Equal(1, await WaitForCountAsync(collector, ReportDestinations.Webhook, ReportResults.Delivered, 1));
        Assert.Equal(0, await collector.DeliveriesAsync("weekly", ReportDestinations.Webhook, ReportResults.Failed));
    }

    [Fact]
    public async Task A_failure_is_counted_once_the_attempts_run_out_and_nothing_more_is_sent()
    {
        webhook.Then((500, null), (502, null), (429, null), (500, null));
        await using var collector = new ScheduledCollector(clock, Weekly(
            ("Reports:Schedules:weekly:WebhookUrl", webhook.Url.ToString()), ("Reports:MaxAttempts", "3")));
        collector.CreateClient().Dispose();

        await collector.ArmedForAsync("weekly", Eight);
        clock.Advance(TimeSpan.FromMinutes(30));
        await StepUntilAsync(() => webhook.Received.Count >= 3, TimeSpan.FromMinutes(10));
        Assert.Equal(1, await WaitForCountAsync(collector, ReportDestinations.Webhook, ReportResults.Failed, 1));

        var received = webhook.Received;
        // Backoff: 10 s, then 20 s (RetryDelay doubled).
        Assert.True(received[1].At - received[0].At >= TimeSpan.FromSeconds(10));
        Assert.True(received[2].At - received[1].At >= TimeSpan.FromSeconds(20));
        clock.Advance(TimeSpan.FromMinutes(10));
        await Task.Delay(500);
        Assert.Equal(3, webhook.Received.Count);
        Assert.Equal(0, await collector.DeliveriesAsync("weekly", ReportDestinations.Webhook, ReportResults.Delivered));
    }

    [Fact]
    public async Task A_client_error_is_not_retried()
    {
        webhook.Then((404, null));
        await using var collector = new ScheduledCollector(clock, Weekly(("Reports:Schedules:weekly:WebhookUrl", webhook.Url.ToString())));
        collector.CreateClient().Dispose();

        await collector.ArmedForAsync("weekly", Eight);
        clock.Advance(TimeSpan.FromMinutes(30));
        Assert.Equal(1, await WaitForCountAsync(collector, ReportDestinations.Webhook, ReportResults.Failed, 1));
        clock.Advance(TimeSpan.FromMinutes(10));
        await Task.Delay(300);
        Assert.Single(webhook.Received);
    }

    [Fact]
    public async Task The_directory_gets_the_report_as_a_whole_file_named_by_tenant_and_UTC_time_in_the_schedules_time_zone()
    {
        // 08:00 in Paris is 07:00 UTC in November (CET): before the 07:30 start, so the first run is next Monday.
        await using var collector = new ScheduledCollector(clock, Weekly(
            ("Reports:Schedules:weekly:Directory", directory), ("Reports:Schedules:weekly:TimeZone", "Europe/Paris"),
            ("Reports:Schedules:weekly:Window", "24h")));
        collector.CreateClient().Dispose();
        Feed(collector);

        var occurrence = new DateTimeOffset(2026, 11, 23, 7, 0, 0, TimeSpan.Zero);
        await collector.ArmedForAsync("weekly", occurrence);
        clock.Advance(occurrence - Start);
        Assert.Equal(1, await WaitForCountAsync(collector, ReportDestinations.Directory, ReportResults.Delivered, 1));

        var file = Path.Combine(directory, "report-acme-20261123T0700Z.md");
        Assert.Equal([file], Directory.GetFiles(directory));
        var text = await File.ReadAllTextAsync(file);
        Assert.StartsWith("# PerfOtel report: tenant acme, window 24h\n", text, StringComparison.Ordinal);
        // The planner's runs were a week before: none in this 24h window.
        Assert.Contains("No agent has data in this window.", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Reports:Schedules:weekly:Cron", "0 8 * *", "Reports:Schedules:weekly:Cron '0 8 * *' is not a 5-field cron expression")]
    [InlineData("Reports:Schedules:weekly:Cron", "0 0 8 * * 1", "Reports:Schedules:weekly:Cron '0 0 8 * * 1' is not a 5-field cron expression")]
    [InlineData("Reports:Schedules:weekly:TimeZone", "Mars/Olympus_Mons", "Reports:Schedules:weekly:TimeZone 'Mars/Olympus_Mons' is not a time zone")]
    [InlineData("Reports:Schedules:weekly:Window", "30d", "Reports:Schedules:weekly:Window must be one of 1h, 24h, 7d (Analytics:Windows), was '30d'.")]
    [InlineData("Reports:Schedules:weekly:Format", "pdf", "Reports:Schedules:weekly:Format must be markdown, was 'pdf'.")]
    [InlineData("Reports:Schedules:weekly:WebhookUrl", "ftp://chat.example/hook", "Reports:Schedules:weekly:WebhookUrl must be an absolute http:// or https:// URL.")]
    [InlineData("Reports:Schedules:weekly:WebhookUrl", "hooks/T000", "Reports:Schedules:weekly:WebhookUrl must be an absolute http:// or https:// URL.")]
    [InlineData("Reports:Schedules:weekly:Directory", "reports/weekly", "Reports:Schedules:weekly:Directory 'reports/weekly' must be an absolute path.")]
    [InlineData("Reports:Schedules:weekly:Tenant", "", "Reports:Schedules:weekly:Tenant is required")]
    [InlineData("Reports:MaxAttempts", "0", "Reports:MaxAttempts must be in [1, 20], was 0.")]
    public void Invalid_settings_stop_the_start_naming_the_setting(string key, string value, string message)
    {
        using var collector = new ScheduledCollector(clock, Weekly(("Reports:Schedules:weekly:WebhookUrl", "https://hooks.example/T/B/x"), (key, value)));
        var exception = Assert.ThrowsAny<Exception>(() => collector.CreateClient());
        Assert.Contains(message, exception.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_schedule_without_a_destination_stops_the_start()
    {
        using var collector = new ScheduledCollector(clock, Weekly());
        var exception = Assert.ThrowsAny<Exception>(() => collector.CreateClient());
        Assert.Contains("Reports:Schedules:weekly has no destination: set WebhookUrl, Directory or both.", exception.ToString(), StringComparison.Ordinal);
    }

    /// <summary>Advances the fake clock a second at a time (real time between steps) until the condition holds, bounded.</summary>
    private async Task StepUntilAsync(Func<bool> condition, TimeSpan atMost)
    {
        for (var stepped = TimeSpan.Zero; !condition(); stepped += TimeSpan.FromSeconds(1))
        {
            Assert.True(stepped < atMost, $"not reached within {atMost} of the fake clock");
            clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(10);
        }
    }

    private static async Task<double> WaitForCountAsync(ScheduledCollector collector, string destination, string result, double expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        double value;
        while ((value = await collector.DeliveriesAsync("weekly", destination, result)) < expected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        return value;
    }
}
