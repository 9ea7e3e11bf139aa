using PerfOtel.Collector.Security;

namespace PerfOtel.Collector.Tests.Security;

/// <summary><c>new-api-key</c> and <c>hash-api-key</c>, and that ordinary command-line configuration is not mistaken for them.</summary>
public sealed class ApiKeyCommandsTests
{
    [Theory]
    [InlineData()]
    [InlineData("--Storage:Provider=postgres")]
    [InlineData("--urls", "http://127.0.0.1:4318")]
    [InlineData("--Auth:Keys:0:Name", "new-api-key")]
    [InlineData("Auth:Enabled=true", "hash-api-key")]
    public void ConfigurationArguments_AreNotCommands(params string[] args)
    {
        using var output = new StringWriter();

        Assert.Null(ApiKeyCommands.Run(args, output, output, new StringReader("")));
        Assert.Empty(output.ToString());
    }

    [Fact]
    public void NewApiKey_PrintsAFreshKeyAndItsSha256()
    {
        var first = Run([ApiKeyCommands.NewKey]);
        var second = Run([ApiKeyCommands.NewKey]);

        Assert.Equal(0, first.Code);
        Assert.Equal(ApiKeyHash.HashHex(Value(first.Output, "key")), Value(first.Output, "sha256"));
        Assert.NotEqual(Value(first.Output, "key"), Value(second.Output, "key"));
    }

    [Fact]
    public void HashApiKey_FromArgumentOrStandardInput()
    {
        var fromArgument = Run([ApiKeyCommands.HashKey, "abc"]);
        var fromInput = Run([ApiKeyCommands.HashKey], "abc\n");

        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Value(fromArgument.Output, "sha256"));
        Assert.Equal(Value(fromArgument.Output, "sha256"), Value(fromInput.Output, "sha256"));
    }

    [Theory]
    [InlineData("hash-api-key")]
    [InlineData("hash-api-key", "a", "b")]
    [InlineData("new-api-key", "extra")]
    public void Misuse_PrintsUsage_AndExitsWith2(params string[] args)
    {
        var (code, output) = Run(args);

        Assert.Equal(2, code);
        Assert.Contains("usage", output, StringComparison.Ordinal);
    }

    private static (int? Code, string Output) Run(string[] args, string input = "")
    {
        using var output = new StringWriter();
        var code = ApiKeyCommands.Run(args, output, output, new StringReader(input));
        return (code, output.ToString());
    }

    private static string Value(string output, string name) =>
        output.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith(name + ": ", StringComparison.Ordinal))[(name.Length + 2)..];
}
