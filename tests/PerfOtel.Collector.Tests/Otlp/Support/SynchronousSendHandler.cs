namespace PerfOtel.Collector.Tests.Otlp.Support;

/// <summary>
/// The OTLP exporter sends synchronously from its own export thread; the in-process test server only implements
/// SendAsync. This bridges the two, which is safe on the exporter's dedicated thread.
/// </summary>
public sealed class SynchronousSendHandler : DelegatingHandler
{
    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) =>
        SendAsync(request, cancellationToken).GetAwaiter().GetResult();
}
