using PerfOtel.Collector.Receiving.Mapping;

namespace PerfOtel.Collector.Tests.Producers;

/// <summary>Per-call identifiers in names become <c>{id}</c>; what a name means (versions, dates) stays.</summary>
public sealed class BoundedNameTests
{
    [Theory]
    // Semantic Kernel's prompt functions: Guid "N" format after an underscore.
    [InlineData("InvokePromptAsync_1c4307b4a80f4f3693b2f8904c2c1cd6", "InvokePromptAsync_{id}")]
    // Dashed GUIDs anywhere, in either case.
    [InlineData("agent-3F2504E0-4F89-11D3-9A0C-0305E82C3301", "agent-{id}")]
    [InlineData("3f2504e0-4f89-11d3-9a0c-0305e82c3301", "{id}")]
    // Trace/span ids and hashes (16+ hex characters with a digit), several in one name.
    [InlineData("run 4bf92f3577b34da6 step 00f067aa0ba902b7", "run {id} step {id}")]
    // Long decimal runs (timestamps, sequence numbers).
    [InlineData("job_1733104800123", "job_{id}")]
    [InlineData("batch-1733104800", "batch-{id}")]
    public void PerCallIdentifiers_AreReplaced(string name, string expected) =>
        Assert.Equal(expected, BoundedName.Normalize(name));

    [Theory]
    [InlineData("gpt-4o-2024-08-06")]
    [InlineData("claude-3-5-sonnet-20241022")]
    [InlineData("text-embedding-3-small")]
    [InlineData("get_weather")]
    [InlineData("triage")]
    // Sixteen hex letters without a digit are a word, not an id.
    [InlineData("deadbeefcafebabe")]
    // Nine digits and fifteen hex characters are below the thresholds.
    [InlineData("order_123456789")]
    [InlineData("blob_0123456789abcde")]
    public void MeaningfulNames_AreKept(string name) =>
        Assert.Same(name, BoundedName.Normalize(name));

    [Fact]
    public void ManyCallsOfOneFunction_AreOneName()
    {
        var names = Enumerable.Range(0, 100)
            .Select(_ => BoundedName.Normalize("InvokePromptAsync_" + Guid.NewGuid().ToString("N")))
            .Concat(Enumerable.Range(0, 100).Select(_ => BoundedName.Normalize("InvokePromptAsync_" + Guid.NewGuid().ToString("D"))))
            .ToHashSet();

        Assert.Equal(["InvokePromptAsync_{id}"], names);
    }

    [Theory]
    [InlineData("http://127.0.0.1:40161/v1", "127.0.0.1")]
    [InlineData("https://my-resource.openai.azure.com/openai/deployments/gpt-4o", "my-resource.openai.azure.com")]
    [InlineData("api.openai.com", "api.openai.com")]
    public void ServerAddress_AsHostOrUrl_GivesTheHost(string address, string host) =>
        Assert.Equal(host, ProviderHosts.Host(address));

    [Theory]
    [InlineData("https://api.openai.com/v1", "openai")]
    [InlineData("api.anthropic.com", "anthropic")]
    [InlineData("https://my-resource.openai.azure.com/openai", "azure.ai.openai")]
    [InlineData("http://127.0.0.1:8080/v1", null)]
    [InlineData("not a url://", null)]
    public void ServerAddress_NamesKnownProviders(string address, string? provider) =>
        Assert.Equal(provider, ProviderHosts.ProviderOf(address));
}
