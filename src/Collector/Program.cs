using PerfOtel.Collector.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddPerfOtelCollectorConfiguration(args);

var app = builder.Build();
app.MapGet("/healthz", () => Results.Text("ok"));
app.Run();

/// <summary>Entry point, exposed for WebApplicationFactory in tests.</summary>
public partial class Program;
