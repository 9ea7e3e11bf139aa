using PerfOtel.Collector.Analytics;
using PerfOtel.Collector.Api;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddPerfOtelAnalytics(builder.Configuration);
var app = builder.Build();
app.MapGet("/healthz", () => Results.Text("ok"));
app.MapPerfOtelAnalyticsApi();
app.Run();

/// <summary>Entry point, exposed for WebApplicationFactory in tests.</summary>
public partial class Program;
