using PerfOtel.Collector.Analytics;
using PerfOtel.Collector.Api;
using PerfOtel.Collector.Feedback;
using PerfOtel.Collector.Hosting;
using PerfOtel.Collector.Otlp;
using PerfOtel.Collector.Storage;

var builder = WebApplication.CreateBuilder(args);
builder.AddPerfOtelCollectorConfiguration(args);
builder.Services.AddPerfOtelStorage(builder.Configuration);
builder.Services.AddOtlpReceiver(builder.Configuration);
builder.Services.AddPerfOtelAnalytics(builder.Configuration);

var app = builder.Build();
app.MapGet("/healthz", () => Results.Text("ok"));
app.MapOtlpReceiver();
app.MapPerfOtelFeedback();
app.MapPerfOtelExport();
app.MapPerfOtelAnalyticsApi();
app.Run();

/// <summary>Entry point, exposed for WebApplicationFactory in tests.</summary>
public partial class Program;
