using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Exposure.Api;

/// <summary>
/// <c>GET /api/v1/executions/export?since=RFC3339[&amp;until=RFC3339]</c>: the request tenant's invocations, one JSON
/// object per line, in start-time order, written while the store streams them (memory does not grow with the export).
/// </summary>
public static partial class ExportEndpoint
{
    public const string Route = "/api/v1/executions/export";
    public const string ContentType = "application/x-ndjson";

    // Lines are handed to the socket in chunks: flushing per line would cost a syscall per invocation.
    private const int FlushEveryBytes = 64 * 1024;

    public static IEndpointRouteBuilder MapPerfOtelExport(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet(Route, HandleAsync)
            .Describe("The tenant's invocations in start-time order, one JSON object per line, streamed.",
            [
                new("since", "Only invocations that started at or after this RFC 3339 time.", Format: "date-time"),
                new("until", "Only invocations that started before this RFC 3339 time.", Format: "date-time"),
            ])
            .Produces(StatusCodes.Status200OK, contentType: ContentType);
        return endpoints;
    }

    /// <summary>RFC 3339 date-time (section 5.6): a full date, 'T' (or space, as 5.6 allows), time, and a mandatory offset.</summary>
    internal static bool TryParseRfc3339(string? text, out DateTimeOffset value)
    {
        value = default;
        return text is not null && Rfc3339().IsMatch(text)
            && DateTimeOffset.TryParse(text.Replace(' ', 'T'), CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal, out value);
    }

    private static async Task HandleAsync(HttpContext context, IExecutionStore store)
    {
        var query = new InvocationQuery { Tenant = RequestTenant.Resolve(context) };
        foreach (var (name, apply) in (ReadOnlySpan<(string, Func<InvocationQuery, DateTimeOffset, InvocationQuery>)>)
                 [("since", (q, t) => q with { Since = t }), ("until", (q, t) => q with { Until = t })])
        {
            if (!context.Request.Query.TryGetValue(name, out var values))
            {
                continue;
            }

            if (values.Count != 1 || !TryParseRfc3339(values[0], out var time))
            {
                await Results.BadRequest(new ApiError(
                    $"{name} must be one RFC 3339 timestamp such as 2026-01-31T09:00:00Z; got '{values}'", name))
                    .ExecuteAsync(context).ConfigureAwait(false);
                return;
            }

            query = apply(query, time);
        }

        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ContentType;
        try
        {
            await WriteLinesAsync(context, store, query).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The status line may be gone already; a clean end would pass a truncated export off as complete, so the
            // connection is aborted and the client sees a failed transfer.
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ExportEndpoint))
                .LogError(ex, "Export failed while streaming");
            context.Abort();
        }
    }

    private static async Task WriteLinesAsync(HttpContext context, IExecutionStore store, InvocationQuery query)
    {
        var body = context.Response.BodyWriter;
        await using var json = new Utf8JsonWriter(body);
        await foreach (var stored in store.ReadInvocationsAsync(query, context.RequestAborted).ConfigureAwait(false))
        {
            ExportLineWriter.Write(json, stored);
            await json.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            json.Reset();
            body.GetSpan(1)[0] = (byte)'\n';
            body.Advance(1);
            if (body.UnflushedBytes >= FlushEveryBytes)
            {
                await body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            }
        }

        await body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3339();
}
