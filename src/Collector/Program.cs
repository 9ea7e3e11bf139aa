using PerfOtel.Collector.Cost;
using PerfOtel.Collector.Cost.Api;
using PerfOtel.Collector.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddPerfOtelCollectorConfiguration(args);
builder.Services.AddPerfOtelCost(builder.Configuration);

var app = builder.Build();
app.MapGet("/healthz", () => Results.Text("ok"));
app.MapPerfOtelCostApi();
app.Run();

/// <summary>Entry point, exposed for WebApplicationFactory in tests.</summary>
public partial class Program;
