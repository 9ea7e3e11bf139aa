using PerfOtel.Collector.Security;

namespace PerfOtel.Collector.Tests.Security;

/// <summary>Which bound addresses count as loopback for the authentication-off warning.</summary>
public sealed class ExposureWarningTests
{
    [Theory]
    [InlineData("http://127.0.0.1:4318", true)]
    [InlineData("http://127.0.0.2:4318", true)]
    [InlineData("http://[::1]:4318", true)]
    [InlineData("http://localhost:4318", true)]
    [InlineData("http://0.0.0.0:4318", false)]
    [InlineData("http://[::]:4318", false)]
    [InlineData("http://*:4318", false)]
    [InlineData("http://+:4318", false)]
    [InlineData("http://10.1.2.3:4318", false)]
    [InlineData("http://collector.internal:4318", false)]
    public void IsLoopback(string address, bool expected) => Assert.Equal(expected, ExposureWarning.IsLoopback(address));
}
