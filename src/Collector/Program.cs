using PerfOtel.Collector.Hosting;
using PerfOtel.Collector.Otlp;

var builder = WebApplication.CreateBuilder(args);
builder.AddPerfOtelCollectorConfiguration(args);

builder.Services.AddOtlpReceiver(builder.Configuration);

var app = builder.Build();
app.MapGet("/healthz", () => Results.Text("ok"));
app.MapOtlpReceiver();
app.Run();

/// <summary>Entry point, exposed for WebApplicationFactory in tests.</summary>
public partial class Program;
