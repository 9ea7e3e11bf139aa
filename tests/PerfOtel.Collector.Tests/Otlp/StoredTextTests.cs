using PerfOtel.Collector.Receiving.Mapping;

namespace PerfOtel.Collector.Tests.Otlp;

public sealed class StoredTextTests
{
    [Theory]
    [InlineData("triage", "triage")]
    [InlineData("x'); DROP TABLE invocations; --", "x'); DROP TABLE invocations; --")]
    [InlineData("a\"b\\c", "a\"b\\c")]
    [InlineData("line\nbreak\r", "line\uFFFDbreak\uFFFD")]
    [InlineData("nul\u0000del\u007Fc1\u0085", "nul\uFFFDdel\uFFFDc1\uFFFD")]
    [InlineData("robot \uD83E\uDD16", "robot \uD83E\uDD16")]
    public void Names_keep_their_text_and_lose_control_characters_and_lone_surrogates(string name, string stored) =>
        Assert.Equal(stored, StoredText.Clean(name));

    [Fact]
    public void Lone_surrogates_become_replacement_characters()
    {
        // In a Fact, not InlineData: a lone surrogate does not survive the serialisation of theory arguments.
        Assert.Equal("lone\uFFFDhigh", StoredText.Clean("lone\uD800high"));
        Assert.Equal("lone\uFFFDlow", StoredText.Clean("lone\uDC00low"));
        Assert.Equal("end\uFFFD", StoredText.Clean("end\uD83E"));
    }

    [Fact]
    public void Long_names_are_cut_at_the_limit_and_never_inside_a_surrogate_pair()
    {
        Assert.Equal(new string('a', StoredText.MaxLength), StoredText.Clean(new string('a', 10_000)));

        var pairAcrossTheLimit = new string('a', StoredText.MaxLength - 1) + "\uD83E\uDD16tail";
        Assert.Equal(new string('a', StoredText.MaxLength - 1), StoredText.Clean(pairAcrossTheLimit));

        var exactly = new string('b', StoredText.MaxLength);
        Assert.Same(exactly, StoredText.Clean(exactly));
    }
}
