using PerfOtel.Collector.Derived.Analytics;
using PerfOtel.Collector.Derived.Cost;
using PerfOtel.Collector.Exposure.Api;
using PerfOtel.Collector.Exposure.Pages;
using PerfOtel.Collector.Exposure.Reports;
using PerfOtel.Collector.Hosting;
using PerfOtel.Collector.Receiving;
using PerfOtel.Collector.Receiving.Feedback;
using PerfOtel.Collector.Receiving.Grpc;
using PerfOtel.Collector.Security;
using PerfOtel.Collector.Storage;

if (ApiKeyCommands.Run(args, Console.Out, Console.Error, Console.In) is { } commandExitCode) { Environment.ExitCode = commandExitCode; return; }

var builder = WebApplication.CreateBuilder(args);
builder.AddPerfOtelCollectorConfiguration(args);
builder.AddPerfOtelSecurity();
builder.Services.AddPerfOtelStorage(builder.Configuration);
builder.Services.AddOtlpReceiver(builder.Configuration);
builder.Services.AddPerfOtelOtlpMetrics(builder.Configuration);
builder.AddOtlpGrpcReceiver();
builder.Services.AddPerfOtelDerived(builder.Configuration);
builder.Services.AddPerfOtelCollectorTelemetry(builder.Configuration);
builder.Services.AddPerfOtelOpenApi();
builder.Services.AddPerfOtelUi(builder.Configuration);
builder.Services.AddPerfOtelReports(builder.Configuration);

var app = builder.Build();
app.UsePerfOtelSecurity();
app.MapGet("/healthz", () => Results.Text("ok")).WithSummary("Liveness: ok while the process serves.").Produces<string>(StatusCodes.Status200OK, "text/plain");
app.MapPerfOtelOpenApi();
app.MapOtlpReceiver();
app.MapOtlpGrpcReceiver();
app.MapPerfOtelFeedback();
app.MapPerfOtelExport();
app.MapPerfOtelAnalyticsApi();
app.MapPerfOtelCostApi();
app.MapPerfOtelRunsApi();
app.MapPerfOtelUi();
app.MapPerfOtelCollectorMetrics();
app.Run();

/// <summary>Entry point, exposed for WebApplicationFactory in tests.</summary>
public partial class Program;
