using PerfOtel.Collector.Otlp;

var builder = WebApplication.CreateBuilder(args);
if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
{
    // The OTLP/HTTP default port, on loopback only until an operator chooses to expose it.
    builder.WebHost.UseUrls("http://127.0.0.1:4318");
}

builder.Services.AddOtlpReceiver(builder.Configuration);

var app = builder.Build();
app.MapGet("/healthz", () => Results.Text("ok"));
app.MapOtlpReceiver();
app.Run();

/// <summary>Entry point, exposed for WebApplicationFactory in tests.</summary>
public partial class Program;
