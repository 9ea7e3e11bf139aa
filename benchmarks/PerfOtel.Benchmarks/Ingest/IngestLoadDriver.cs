using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Grpc.Core;
using Grpc.Net.Client;
using OpenTelemetry.Proto.Collector.Trace.V1;
using PerfOtel.Benchmarks.Load;
using PerfOtel.Testing;

namespace PerfOtel.Benchmarks.Ingest;

/// <summary>
/// End-to-end ingest over the wire, as users run it: a collector started as its own process with its default settings
/// (every derivation on, default logging), fed pre-encoded OTLP trace exports (<see cref="RequestTemplate"/>) by N
/// concurrent senders in this process, each waiting for the answer before its next request as SDK exporters do: over
/// OTLP/HTTP (protobuf or JSON, one HTTP/1.1 connection per sender) or over OTLP/gRPC (protobuf on one HTTP/2 channel,
/// as the SDKs' gRPC exporters share one).
/// Reports acknowledged spans/s, the collector's CPU-seconds per 100 000 spans (from /proc, so the sender's share of
/// the machine does not count), p50/p99 request latency, the collector's resident memory over time and the log lines
/// it wrote.
/// </summary>
/// <example>
/// dotnet run -c Release --project benchmarks/PerfOtel.Benchmarks -- ingest-load --duration 60 --concurrency 8
///     --encoding protobuf --transport http --store sqlite   (or --transport grpc)
/// </example>
public static class IngestLoadDriver
{
    public const string Command = "ingest-load";

    private const int Templates = 16;
    private const int WarmUpSeconds = 10;

    // "Flat" as docs/collector/ingest-performance.md, "What flat means", defines it: the highest resident memory of minute 5 within 10 % of the highest
    // of minute 2, by when the bounded structures (span links, invocation facts) are full at the rates the driver reaches.
    // Peaks, not single samples: between two gen2 collections resident memory saws up and down by a fifth.
    private const int FlatFromSeconds = 120;
    private const int FlatToSeconds = 300;
    private const double FlatMargin = 0.10;

    /// <summary>GC limits a shell may export for builds and tests that must not reach the measured collector unasked.</summary>
    private static readonly string[] InheritedGcLimits =
        ["DOTNET_GCHeapHardLimit", "DOTNET_GCHeapHardLimitPercent", "DOTNET_GCHeapHardLimitSOH", "DOTNET_GCHeapHardLimitLOH"];

    /// <summary>
    /// The collector's environment as its container image sets it (src/Collector/Dockerfile), unless
    /// <c>--collector-env</c> says otherwise: glibc reads <c>MALLOC_ARENA_MAX</c> only at process start, and the runtime
    /// reads <c>DOTNET_GCgen0size</c> only from the environment.
    /// </summary>
    internal static readonly IReadOnlyDictionary<string, string> ImageEnvironment =
        new Dictionary<string, string> { ["MALLOC_ARENA_MAX"] = "2", ["DOTNET_GCgen0size"] = "0x1000000" };

    public static async Task<int> RunAsync(string[] args)
    {
        IngestLoadOptions options;
        try
        {
            options = IngestLoadOptions.Parse(args);
        }
        catch (ArgumentException error)
        {
            Console.Error.WriteLine($"ingest-load: {error.Message}\n{IngestLoadOptions.Usage}");
            return 2;
        }

        var json = options.Encoding == "json";
        // An hour back: every request is shifted to end at its send time (RequestTemplate.LatestEndUnixNano), so the
        // templates' own times only need to lie before any send.
        var baseTime = UnixNanoNow() - 3_600_000_000_000;
        var templates = Enumerable.Range(0, Templates)
            .Select(i => RequestTemplate.Create(i, options.SpansPerRequest, json, baseTime)).ToArray();
        var spansPerRequest = templates.Average(t => t.Spans);

        var dataDirectory = options.KeepData is { } kept
            ? Directory.CreateDirectory(kept).FullName
            : Directory.CreateTempSubdirectory("perfotel-ingest-load-").FullName;
        try
        {
            var address = new Uri($"http://127.0.0.1:{TestPorts.GetFree()}/");
            // A port of its own rather than 4317, which another collector on the machine may hold.
            var grpcAddress = new Uri($"http://127.0.0.1:{TestPorts.GetFree()}/");
            await using var collector = await StartCollectorAsync(options, dataDirectory, address, grpcAddress);
            var stats = new ProcessStats(collector.Id);
            var pacing = options.RatePerSecond is { } rate
                ? string.Create(CultureInfo.InvariantCulture, $"paced at {rate} spans/s")
                : "as fast as acknowledged";
            var settings = options.CollectorEnvironment.Count == 0
                ? "default settings, the image's MALLOC_ARENA_MAX=2 and DOTNET_GCgen0size=0x1000000"
                : "default settings, the image's MALLOC_ARENA_MAX=2 and DOTNET_GCgen0size=0x1000000, but " + string.Join(", ", options.CollectorEnvironment.Select(p => $"{p.Key}={p.Value}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ingest-load (end to end: OTLP/{options.Transport.ToUpperInvariant()} {options.Encoding} -> collector process pid {collector.Id} -> {options.Store}, {settings}, every derivation on): {options.Concurrency} senders, {spansPerRequest:F0} spans per request ({templates[0].Length / 1024.0:F0} KiB), {options.Duration} s, {pacing}, {Environment.ProcessorCount} cores"));
            Console.WriteLine("  elapsed_s   ack_spans_per_s   collector_cores   collector_cpu_s_per_100k   p50_ms   p99_ms   collector_rss_mb   log_lines   throttled   failed");

            // Resident memory of the started, idle collector: the start of the memory series.
            var idleRssMb = stats.ResidentMb();
            using var run = new LoadRun(templates, options, options.Transport == "grpc" ? grpcAddress : address);
            var startupLogLines = collector.LineCount;
            var sender = Process.GetCurrentProcess();
            var senderCpuStart = sender.TotalProcessorTime;
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(options.Duration));
            var senders = Enumerable.Range(0, options.Concurrency)
                .Select(index => Task.Run(() => run.SendUntilStoppedAsync(index, stop.Token)))
                .ToArray();

            var samples = new List<Sample>();
            var clock = Stopwatch.StartNew();
            var last = new Totals(0, stats.CpuSeconds(), collector.LineCount, TimeSpan.Zero);
            Totals? steadyStart = null;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(options.IntervalSeconds), stop.Token);
                }
                catch (OperationCanceledException)
                {
                }

                var now = new Totals(Interlocked.Read(ref run.AcknowledgedSpans), stats.CpuSeconds(),
                    collector.LineCount, clock.Elapsed);
                var seconds = (now.Elapsed - last.Elapsed).TotalSeconds;
                var spans = now.Spans - last.Spans;
                var cpu = now.CollectorCpu - last.CollectorCpu;
                var (p50, p99) = run.Latency.TakeInterval();
                var memory = stats.Memory();
                var sample = new Sample(now.Elapsed.TotalSeconds, spans / seconds, cpu / seconds,
                    spans == 0 ? double.NaN : cpu / spans * 100_000, p50, p99, memory.ResidentMb,
                    now.LogLines - last.LogLines, Interlocked.Exchange(ref run.Throttled, 0), Interlocked.Exchange(ref run.Failed, 0),
                    memory, now.Spans);
                samples.Add(sample);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {sample.Elapsed,9:F0}   {sample.SpansPerSecond,15:F0}   {sample.CollectorCores,15:F2}   {sample.CpuPer100k,24:F2}   {sample.P50,6:F1}   {sample.P99,6:F1}   {sample.RssMb,16:F1}   {sample.LogLines,9}   {sample.Throttled,9}   {sample.Failed,6}"));
                last = now;
                if (steadyStart is null && now.Elapsed.TotalSeconds >= WarmUpSeconds)
                {
                    // The first seconds include JIT, tiering and cache warm-up in both processes: steady state is the rest.
                    steadyStart = now;
                    run.Latency.StartRun();
                }
            }

            await Task.WhenAll(senders);
            var selfMetrics = await CollectorSelfMetrics.DescribeAsync(address);
            var end = new Totals(Interlocked.Read(ref run.AcknowledgedSpans), stats.CpuSeconds(), collector.LineCount,
                clock.Elapsed);
            var from = steadyStart ?? new Totals(0, last.CollectorCpu, 0, TimeSpan.Zero);
            var steadySpans = end.Spans - from.Spans;
            var steadySeconds = (end.Elapsed - from.Elapsed).TotalSeconds;
            var steadySamples = samples.Where(s => s.Elapsed > WarmUpSeconds).DefaultIfEmpty(samples[^1]).ToList();
            var senderCpu = (sender.TotalProcessorTime - senderCpuStart).TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
                summary: {end.Spans} spans acknowledged in {clock.Elapsed.TotalSeconds:F0} s ({Interlocked.Read(ref run.Requests)} requests)
                  steady state (after {WarmUpSeconds} s): {steadySpans / steadySeconds:F0} acknowledged spans/s; collector {(end.CollectorCpu - from.CollectorCpu) / steadySeconds:F2} cores, {(end.CollectorCpu - from.CollectorCpu) / Math.Max(1, steadySpans) * 100_000:F2} CPU-seconds per 100 000 spans ({steadySpans / Math.Max(1e-9, end.CollectorCpu - from.CollectorCpu):F0} spans per collector CPU-second)
                  request latency p50 {run.Latency.RunPercentile(0.50):F1} ms, p99 {run.Latency.RunPercentile(0.99):F1} ms; {IntervalTail(steadySamples, options.IntervalSeconds)}
                  collector resident memory {steadySamples.Min(s => s.RssMb):F0}-{steadySamples.Max(s => s.RssMb):F0} MB (first {steadySamples[0].RssMb:F0}, last {steadySamples[^1].RssMb:F0})
                  collector log lines: {startupLogLines} at start-up, {end.LogLines - startupLogLines} during the run ({(end.LogLines - startupLogLines) * 1000.0 / Math.Max(1, Interlocked.Read(ref run.Requests)):F2} per 1000 requests)
                  throttled (429/503) {samples.Sum(s => s.Throttled)}, failed {samples.Sum(s => s.Failed)}; sender used {senderCpu / clock.Elapsed.TotalSeconds:F2} cores
                  machine load average at the end: {LoadAverage()} (a shared machine: compare ratios measured in the same run)
                {selfMetrics}
                """));
            // Resident memory over the run, and whether it is flat (docs/collector/ingest-performance.md, "What flat
            // means"): after the bounded structures have filled, minute 5's peak within FlatMargin of minute 2's.
            WriteMemoryOverTime(samples, idleRssMb, options);
            // The minute ending at a time, when the run covered it: its peak decides, its trough is printed beside it.
            double[]? MinuteEndingAt(double seconds) => samples[^1].Elapsed >= seconds - (options.IntervalSeconds / 2.0)
                && samples.Where(s => s.Elapsed > seconds - 60 && s.Elapsed <= seconds + (options.IntervalSeconds / 2.0)).Select(s => s.RssMb).ToArray() is { Length: > 0 } minute
                ? minute
                : null;
            Sample? SampleAt(double seconds) => samples.Where(s => Math.Abs(s.Elapsed - seconds) <= options.IntervalSeconds)
                .OrderBy(s => Math.Abs(s.Elapsed - seconds)).Cast<Sample?>().FirstOrDefault();
            string RssAt(double seconds) => SampleAt(seconds)?.RssMb.ToString("F0", CultureInfo.InvariantCulture) ?? "-";
            if (MinuteEndingAt(FlatFromSeconds) is { } minuteFrom && MinuteEndingAt(FlatToSeconds) is { } minuteTo)
            {
                var (flatFrom, flatTo) = (minuteFrom.Max(), minuteTo.Max());
                var change = flatTo / flatFrom - 1;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  memory {(change <= FlatMargin ? "flat" : "NOT flat")}: resident at most {flatFrom:F0} MB in minute {FlatFromSeconds / 60} and {flatTo:F0} MB in minute {FlatToSeconds / 60} ({change:+0.0%;-0.0%}; flat is at most {FlatMargin:0%} higher); troughs {minuteFrom.Min():F0} and {minuteTo.Min():F0} MB"));
            }

            // One Markdown row for the docs' table (scripts/ingest-load.sh collects the rows of a run): resident memory
            // idle, after 1, 2 and 5 minutes of load (the samples nearest those times), at the end and at most.
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"table row: | OTLP/{options.Transport.ToUpperInvariant()} {options.Encoding} | {options.Store} | {clock.Elapsed.TotalSeconds:F0} s | {steadySpans / steadySeconds:F0} | {(end.CollectorCpu - from.CollectorCpu) / Math.Max(1, steadySpans) * 100_000:F2} | {run.Latency.RunPercentile(0.50):F0} / {run.Latency.RunPercentile(0.99):F0} ms | {idleRssMb:F0} | {RssAt(60)} | {RssAt(FlatFromSeconds)} | {RssAt(FlatToSeconds)} | {samples[^1].RssMb:F0} | {samples.Max(s => s.RssMb):F0} | {LoadAverage()} |"));
            if (Interlocked.Read(ref run.Failed) > 0 || samples.Sum(s => s.Failed) > 0)
            {
                Console.WriteLine("last collector output:\n" + string.Join('\n', collector.Output.Split('\n').TakeLast(20)));
            }

            return samples.Sum(s => s.Failed) > 0 ? 1 : 0;
        }
        finally
        {
            if (options.KeepData is null)
            {
                TryDelete(dataDirectory);
            }
        }
    }

    /// <summary>
    /// Starts the collector as a user runs it: <c>dotnet PerfOtel.Collector.dll</c> from its own folder, Production
    /// environment and the environment its container image sets (<see cref="ImageEnvironment"/>), nothing configured
    /// but the address, the data directory and the store; plus the <c>--collector-env</c> variables a comparison asks for (e.g. the old default of ASP.NET Core's request logging).
    /// </summary>
    private static async Task<ExternalProcess> StartCollectorAsync(IngestLoadOptions options, string dataDirectory, Uri address, Uri grpcAddress)
    {
        var assembly = options.CollectorAssembly ?? CollectorProcess.AssemblyPath;
        if (!File.Exists(assembly))
        {
            throw new ArgumentException($"{assembly} not found: build the collector first (scripts/ingest-load.sh does)");
        }

        var arguments = new List<string>
        {
            assembly, $"--urls={address.GetLeftPart(UriPartial.Authority)}", $"--Storage:DataDirectory={dataDirectory}",
            $"--Otlp:GrpcEndpoint={grpcAddress.GetLeftPart(UriPartial.Authority)}",
        };
        if (options.Store == "postgres")
        {
            arguments.Add("--Storage:Provider=postgres");
            arguments.Add($"--Storage:ConnectionString={options.ConnectionString}");
        }

        var environment = new Dictionary<string, string>(ImageEnvironment) { ["DOTNET_ENVIRONMENT"] = "Production" };
        foreach (var (name, value) in options.CollectorEnvironment)
        {
            // NAME= (nothing after the sign) leaves one of the image's variables out, to measure without it.
            if (value.Length == 0)
            {
                environment.Remove(name);
            }
            else
            {
                environment[name] = value;
            }
        }

        // A heap limit exported in the shell for builds and tests (DOTNET_GCHeapHardLimit) would reach the collector
        // through the inherited environment and change its GC: the collector runs with its image's settings unless
        // --collector-env sets one. The driver's own GC read its settings at start, so clearing them here only
        // changes what the collector inherits.
        foreach (var name in InheritedGcLimits)
        {
            if (!environment.ContainsKey(name) && Environment.GetEnvironmentVariable(name) is not null)
            {
                Console.Error.WriteLine($"ingest-load: {name} from the shell is not passed to the collector (set it with --collector-env to measure it)");
                Environment.SetEnvironmentVariable(name, null);
            }
        }

        var process = ExternalProcess.Start("dotnet", arguments, environment, Path.GetDirectoryName(assembly));
        try
        {
            await process.WaitUntilReadyAsync(new Uri(address, "healthz"), "collector", TimeSpan.FromSeconds(120));
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }

        return process;
    }

    /// <summary>
    /// Resident memory about every tenth of the run (at least every sample): total, anonymous and file-backed, and the
    /// spans acknowledged by then, so a plateau can be told from bounded structures still filling.
    /// </summary>
    private static void WriteMemoryOverTime(List<Sample> samples, double idleRssMb, IngestLoadOptions options)
    {
        var step = Math.Max(options.IntervalSeconds, (int)Math.Ceiling(options.Duration / 10.0 / options.IntervalSeconds) * options.IntervalSeconds);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  collector memory over time (idle before the load: {idleRssMb:F0} MB resident):"));
        Console.WriteLine("    elapsed_s   spans_acknowledged   rss_mb   rss_anon_mb   rss_file_mb   rss_shmem_mb");
        var next = (double)step;
        foreach (var sample in samples)
        {
            if (sample.Elapsed + (options.IntervalSeconds / 2.0) < next && !ReferenceEquals(sample, samples[^1]))
            {
                continue;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    {sample.Elapsed,9:F0}   {sample.SpansSoFar,18}   {sample.RssMb,6:F0}   {sample.Memory.AnonMb,11:F0}   {sample.Memory.FileMb,11:F0}   {sample.Memory.ShmemMb,12:F0}"));
            while (next <= sample.Elapsed + (options.IntervalSeconds / 2.0))
            {
                next += step;
            }
        }
    }

    /// <summary>
    /// The tail held over the run, not only on average: the highest p99 of a single interval after the warm-up and how
    /// many intervals reached <see cref="LatencyGoalMs"/> (issue #21: p99 under 100 ms at half the sustained rate).
    /// </summary>
    private static string IntervalTail(List<Sample> steady, int intervalSeconds)
    {
        var measured = steady.Where(s => !double.IsNaN(s.P99)).ToList();
        if (measured.Count == 0)
        {
            return "no interval measured after the warm-up";
        }
        var worst = measured.MaxBy(s => s.P99)!;
        return string.Create(CultureInfo.InvariantCulture,
            $"p99 of single {intervalSeconds}-s intervals after the warm-up at most {worst.P99:F1} ms (at {worst.Elapsed:F0} s), {measured.Count(s => s.P99 >= LatencyGoalMs)} of {measured.Count} at or above {LatencyGoalMs} ms");
    }

    private const double LatencyGoalMs = 100;

    private static ulong UnixNanoNow() => (ulong)(DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks * 100;

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A pre-encoded ExportTraceServiceRequest: the first <c>Length</c> bytes of a sender's buffer.</summary>
    private sealed record EncodedExport(byte[] Buffer, int Length);

    private sealed record Totals(long Spans, double CollectorCpu, long LogLines, TimeSpan Elapsed);

    private sealed record Sample(double Elapsed, double SpansPerSecond, double CollectorCores, double CpuPer100k,
        double P50, double P99, double RssMb, long LogLines, long Throttled, long Failed, ResidentMemory Memory, long SpansSoFar);

    /// <summary>The senders' shared state: templates, counters, one HTTP client or one gRPC channel.</summary>
    private sealed class LoadRun(RequestTemplate[] templates, IngestLoadOptions options, Uri collector) : IDisposable
    {
        public long AcknowledgedSpans;
        public long Requests;
        public long Throttled;
        public long Failed;
        private long _nextTrace = 1;
        private readonly Uri _traces = new(collector, "v1/traces");
        private readonly MediaTypeHeaderValue _contentType =
            new(options.Encoding == "json" ? "application/json" : "application/x-protobuf");

        private readonly HttpClient _http = new(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = options.Concurrency,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            AutomaticDecompression = DecompressionMethods.None,
        })
        {
            Timeout = TimeSpan.FromSeconds(30),
        };

        // The pre-encoded export goes out as it is: the method's marshaller writes the bytes, gRPC frames them.
        private static readonly Method<EncodedExport, ExportTraceServiceResponse> ExportTraces = new(
            MethodType.Unary, TraceService.Descriptor.FullName, "Export",
            Marshallers.Create<EncodedExport>((export, context) =>
            {
                context.SetPayloadLength(export.Length);
                context.GetBufferWriter().Write(export.Buffer.AsSpan(0, export.Length));
                context.Complete();
            }, _ => throw new NotSupportedException("the driver never reads requests")),
            Marshallers.Create<ExportTraceServiceResponse>((_, _) => throw new NotSupportedException("the driver never writes responses"),
                context => ExportTraceServiceResponse.Parser.ParseFrom(context.PayloadAsReadOnlySequence())));

        private readonly GrpcChannel? _grpc = options.Transport == "grpc"
            ? GrpcChannel.ForAddress(collector, new GrpcChannelOptions { MaxReceiveMessageSize = null })
            : null;

        public LatencyHistogram Latency { get; } = new();

        public async Task SendUntilStoppedAsync(int sender, CancellationToken stop)
        {
            var buffer = new byte[templates.Max(t => t.Length)];
            var interval = options.RatePerSecond is { } rate
                ? TimeSpan.FromSeconds(templates.Average(t => t.Spans) * options.Concurrency / rate)
                : TimeSpan.Zero;
            var started = Stopwatch.GetTimestamp();
            // Senders start spread over one interval, so a paced run does not arrive in bursts of N.
            var next = TimeSpan.FromTicks(interval.Ticks * sender / Math.Max(1, options.Concurrency));
            for (var request = sender; !stop.IsCancellationRequested; request++)
            {
                if (interval > TimeSpan.Zero)
                {
                    var wait = next - Stopwatch.GetElapsedTime(started);
                    if (wait > TimeSpan.Zero)
                    {
                        try
                        {
                            await Task.Delay(wait, stop);
                        }
                        catch (OperationCanceledException)
                        {
                            break;
                        }
                    }
                }

                var template = templates[request % templates.Length];
                var firstTrace = (ulong)(Interlocked.Add(ref _nextTrace, template.Traces) - template.Traces);
                template.WriteTo(buffer, firstTrace, UnixNanoNow() - template.LatestEndUnixNano, options.TraceIds == "random");
                // Paced runs measure from the scheduled send time, so a stalled collector cannot hide its queueing.
                var sentAt = interval > TimeSpan.Zero ? started + (long)(next.TotalSeconds * Stopwatch.Frequency) : Stopwatch.GetTimestamp();
                next += interval;
                await SendAsync(buffer, template, sentAt, stop);
            }
        }

        private async Task SendAsync(byte[] buffer, RequestTemplate template, long sentAt, CancellationToken stop)
        {
            if (_grpc is not null)
            {
                await SendGrpcAsync(_grpc, buffer, template, sentAt, stop);
                return;
            }

            using var content = new ByteArrayContent(buffer, 0, template.Length);
            content.Headers.ContentType = _contentType;
            try
            {
                using var response = await _http.PostAsync(_traces, content, CancellationToken.None);
                var body = await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
                Latency.Record(Stopwatch.GetElapsedTime(sentAt));
                Interlocked.Increment(ref Requests);
                switch (response.StatusCode)
                {
                    case HttpStatusCode.OK:
                        Interlocked.Add(ref AcknowledgedSpans, template.Spans - RejectedSpans(body, response));
                        break;
                    case HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable:
                        // Retryable per OTLP: an exporter backs off; so does the sender (Retry-After, at most 1 s here).
                        Interlocked.Increment(ref Throttled);
                        var delay = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromMilliseconds(100);
                        await Task.Delay(delay > TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : delay, stop)
                            .ContinueWith(_ => { }, TaskScheduler.Default);
                        break;
                    default:
                        Interlocked.Increment(ref Failed);
                        Console.Error.WriteLine($"ingest-load: {(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(body)}");
                        break;
                }
            }
            catch (HttpRequestException error)
            {
                Interlocked.Increment(ref Failed);
                Console.Error.WriteLine($"ingest-load: {error.Message}");
            }
        }

        private async Task SendGrpcAsync(GrpcChannel channel, byte[] buffer, RequestTemplate template, long sentAt, CancellationToken stop)
        {
            try
            {
                var response = await channel.CreateCallInvoker().AsyncUnaryCall(ExportTraces, null,
                    new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30)), new EncodedExport(buffer, template.Length));
                Latency.Record(Stopwatch.GetElapsedTime(sentAt));
                Interlocked.Increment(ref Requests);
                Interlocked.Add(ref AcknowledgedSpans, template.Spans - (response.PartialSuccess?.RejectedSpans ?? 0));
            }
            catch (RpcException error) when (error.StatusCode is StatusCode.ResourceExhausted or StatusCode.Unavailable)
            {
                // Retryable per OTLP/gRPC; the driver backs off 1 s, the cap it puts on HTTP's Retry-After too.
                Latency.Record(Stopwatch.GetElapsedTime(sentAt));
                Interlocked.Increment(ref Requests);
                Interlocked.Increment(ref Throttled);
                await Task.Delay(TimeSpan.FromSeconds(1), stop).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            catch (RpcException error)
            {
                Interlocked.Increment(ref Failed);
                Console.Error.WriteLine($"ingest-load: gRPC {error.StatusCode} {error.Status.Detail}");
            }
        }

        private long RejectedSpans(byte[] body, HttpResponseMessage response)
        {
            if (body.Length == 0)
            {
                return 0;
            }

            if (response.Content.Headers.ContentType?.MediaType == "application/x-protobuf")
            {
                return ExportTraceServiceResponse.Parser.ParseFrom(body).PartialSuccess?.RejectedSpans ?? 0;
            }

            // OTLP/JSON writes int64 as a string or a number.
            using var document = System.Text.Json.JsonDocument.Parse(body);
            return document.RootElement.TryGetProperty("partialSuccess", out var partial)
                   && partial.TryGetProperty("rejectedSpans", out var rejected)
                ? rejected.ValueKind == System.Text.Json.JsonValueKind.String
                    ? long.Parse(rejected.GetString()!, CultureInfo.InvariantCulture)
                    : rejected.GetInt64()
                : 0;
        }

        public void Dispose()
        {
            _http.Dispose();
            _grpc?.Dispose();
        }
    }
}

/// <summary>Command line of <c>ingest-load</c>.</summary>
internal sealed record IngestLoadOptions(int Duration, int Concurrency, string Encoding, string Transport, string Store,
    int SpansPerRequest, int IntervalSeconds, double? RatePerSecond, string? ConnectionString,
    IReadOnlyDictionary<string, string> CollectorEnvironment, string? CollectorAssembly, string TraceIds, string? KeepData)
{
    public const string Usage = """
        usage: ingest-load [--duration 60] [--concurrency 8] [--encoding protobuf|json] [--transport http|grpc]
                           [--store sqlite|postgres] [--connection NPGSQL_CONNECTION_STRING] [--spans-per-request 512]
                           [--rate SPANS_PER_SECOND] [--interval 5]
                           [--collector-env NAME=VALUE,NAME=VALUE] [--collector PATH/TO/PerfOtel.Collector.dll]
                           [--trace-ids sequential|random] [--keep-data DIRECTORY]
          --trace-ids  random (default): the counter scrambled into both halves, ids spread like SDKs' random ids; sequential: each
                       trace id starts with a counter, so the store's trace-keyed B-trees grow at their right edge (every
                       figure before 2026-12-03 10:00 UTC was taken that way)
          --keep-data  the SQLite data directory to use and keep after the run (for sqlite3 and dbstat), instead of a
                       temporary one
          --collector-env  variables over the container image's environment (MALLOC_ARENA_MAX=2, DOTNET_GCgen0size=0x1000000);
                       NAME= with nothing after the sign leaves one of them out
        """;

    public static IngestLoadOptions Parse(string[] args)
    {
        if (args.Length % 2 != 0)
        {
            throw new ArgumentException("options come in pairs: --name value");
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"'{args[i]}' is not an option");
            }

            values[args[i][2..]] = args[i + 1];
        }

        var known = new[] { "duration", "concurrency", "encoding", "transport", "store", "connection", "spans-per-request", "rate", "interval", "collector-env", "collector", "trace-ids", "keep-data" };
        if (values.Keys.FirstOrDefault(k => !known.Contains(k)) is { } unknown)
        {
            throw new ArgumentException($"unknown option --{unknown}");
        }

        var options = new IngestLoadOptions(
            Positive(values, "duration", 60),
            Positive(values, "concurrency", 8),
            OneOf(values, "encoding", "protobuf", "protobuf", "json"),
            OneOf(values, "transport", "http", "http", "grpc"),
            OneOf(values, "store", "sqlite", "sqlite", "postgres"),
            Positive(values, "spans-per-request", 512),
            Positive(values, "interval", 5),
            values.TryGetValue("rate", out var rate) ? double.Parse(rate, CultureInfo.InvariantCulture) : null,
            values.GetValueOrDefault("connection"),
            ParseEnvironment(values.GetValueOrDefault("collector-env")),
            values.TryGetValue("collector", out var collector) ? Path.GetFullPath(collector) : null,
            OneOf(values, "trace-ids", "random", "sequential", "random"),
            values.TryGetValue("keep-data", out var keep) ? Path.GetFullPath(keep) : null);
        if (options.Transport == "grpc" && options.Encoding == "json")
        {
            throw new ArgumentException("--transport grpc carries protobuf only (OTLP/JSON is an OTLP/HTTP encoding)");
        }

        if (options.Store == "postgres" && options.ConnectionString is null)
        {
            throw new ArgumentException("--store postgres needs --connection (scripts/ingest-load.sh starts a throwaway cluster)");
        }

        return options;
    }

    private static Dictionary<string, string> ParseEnvironment(string? text)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new ArgumentException($"--collector-env takes NAME=VALUE pairs separated by commas, not '{pair}'");
            }

            variables[pair[..equals]] = pair[(equals + 1)..];
        }

        return variables;
    }

    private static int Positive(Dictionary<string, string> values, string name, int fallback)
    {
        if (!values.TryGetValue(name, out var text))
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new ArgumentException($"--{name} must be a positive integer, not '{text}'");
    }

    private static string OneOf(Dictionary<string, string> values, string name, string fallback, params string[] allowed)
    {
        var value = values.GetValueOrDefault(name, fallback);
        return allowed.Contains(value)
            ? value
            : throw new ArgumentException($"--{name} must be one of {string.Join(", ", allowed)}, not '{value}'");
    }
}
