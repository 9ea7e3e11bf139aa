using Google.Protobuf;
using Google.Protobuf.Collections;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Trace.V1;
using PerfOtel.Collector.Receiving.Mapping;

namespace PerfOtel.Collector.Tests.Otlp;

/// <summary>
/// The mappers' attribute reader reads the decoded list in place up to <see cref="AttributeBag.MaxScanned"/>
/// attributes and indexes a longer one (#21): both paths must read every attribute alike (the first of a repeated key
/// wins, a key without a value is skipped), and the common short list must not allocate a table per span.
/// </summary>
public sealed class AttributeBagTests
{
    public static TheoryData<int> Sizes => [1, AttributeBag.MaxScanned, AttributeBag.MaxScanned + 1, 40];

    [Theory]
    [MemberData(nameof(Sizes))]
    public void EveryKey_ReadsItsFirstValue_OnTheScannedAndTheIndexedPath(int size)
    {
        var attributes = new RepeatedField<KeyValue>();
        for (var i = 0; i < size; i++)
        {
            attributes.Add(new KeyValue { Key = $"k{i}", Value = new AnyValue { IntValue = i } });
        }

        // Repeats of the first and last key (a sender's bug OTLP forbids) and a key whose first occurrence has no value.
        attributes.Add(new KeyValue { Key = "k0", Value = new AnyValue { StringValue = "later" } });
        attributes.Add(new KeyValue { Key = $"k{size - 1}", Value = new AnyValue { StringValue = "later" } });
        attributes.Add(new KeyValue { Key = "valueless" });
        attributes.Add(new KeyValue { Key = "valueless", Value = new AnyValue { StringValue = "second" } });

        var bag = AttributeBag.From(attributes);

        for (var i = 0; i < size; i++)
        {
            Assert.Equal(i, bag.Long($"k{i}"));
            Assert.Equal(i, bag.Double($"k{i}"));
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), bag.String($"k{i}"));
            Assert.True(bag.Contains($"k{i}"));
        }

        Assert.Equal("second", bag.String("valueless"));
        Assert.False(bag.Contains("absent"));
        Assert.Null(bag.String("absent"));
        Assert.Null(bag.Long("absent"));
        Assert.Equal(size - 1, bag.FirstLong("absent", $"k{size - 1}", "k0"));
    }

    [Fact]
    public void AnEmptyOrMissingList_ReadsNothing()
    {
        Assert.Same(AttributeBag.Empty, AttributeBag.From(null));
        Assert.Same(AttributeBag.Empty, AttributeBag.From([]));
        Assert.False(AttributeBag.Empty.Contains("k"));
        Assert.Null(AttributeBag.Empty.String("k"));
    }

    [Fact]
    public void ASpansShortList_IsReadWithoutATableOfItsOwn()
    {
        // A chat span's attributes as the .NET SDK's instrumentation sends them.
        var attributes = new RepeatedField<KeyValue>
        {
            new KeyValue { Key = "gen_ai.operation.name", Value = new AnyValue { StringValue = "chat" } },
            new KeyValue { Key = "gen_ai.provider.name", Value = new AnyValue { StringValue = "openai" } },
            new KeyValue { Key = "gen_ai.request.model", Value = new AnyValue { StringValue = "gpt-4o-mini" } },
            new KeyValue { Key = "gen_ai.response.model", Value = new AnyValue { StringValue = "gpt-4o-mini-2024-07-18" } },
            new KeyValue { Key = "gen_ai.usage.input_tokens", Value = new AnyValue { IntValue = 1200 } },
            new KeyValue { Key = "gen_ai.usage.output_tokens", Value = new AnyValue { IntValue = 300 } },
            new KeyValue { Key = "server.address", Value = new AnyValue { StringValue = "api.openai.com" } },
        };
        Read(AttributeBag.From(attributes)); // JIT and first-use work outside the measurement

        var before = GC.GetAllocatedBytesForCurrentThread();
        var bag = AttributeBag.From(attributes);
        var tokens = Read(bag);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(1500, tokens);
        // The bag itself (a header and two references: 32 bytes); a dictionary over seven keys took about 400.
        Assert.True(allocated <= 64, $"reading a 7-attribute span allocated {allocated} bytes");
    }

    /// <summary>
    /// The wire reader's bag answers a key the span does not carry from a filter of its keys' lengths and last bytes,
    /// and compares only the entries of the key's length (cpu21): every key, present or absent, must read as the
    /// decoded list reads it, absent keys that share a present key's length and last byte (the filter lets them
    /// through to the comparison), keys without a value, repeated keys, an empty key and non-ASCII keys included.
    /// </summary>
    [Fact]
    public void TheWireReadersBag_ReadsEveryKeyAsTheDecodedList()
    {
        var attributes = new RepeatedField<KeyValue>
        {
            new KeyValue { Key = "gen_ai.operation.name", Value = new AnyValue { StringValue = "chat" } },
            new KeyValue { Key = "gen_ai.usage.input_tokens", Value = new AnyValue { IntValue = 1200 } },
            new KeyValue { Key = "gen_ai.usage.output_tokens", Value = new AnyValue { StringValue = "300" } },
            new KeyValue { Key = "gen_ai.usage.output_tokens", Value = new AnyValue { IntValue = 7 } },
            new KeyValue { Key = "perfotel.cost_usd", Value = new AnyValue { DoubleValue = 0.25 } },
            new KeyValue { Key = "valueless" },
            new KeyValue { Key = "valueless", Value = new AnyValue { BoolValue = true } },
            new KeyValue { Key = "only.valueless" },
            new KeyValue { Key = string.Empty, Value = new AnyValue { StringValue = "empty key" } },
            new KeyValue { Key = "modèle", Value = new AnyValue { StringValue = "gpt-4o" } },
            new KeyValue { Key = "é", Value = new AnyValue { IntValue = 5 } },
        };
        var wire = OtlpTraceWireReader.EventAttributes(new Span.Types.Event { Name = "e", Attributes = { attributes } }.ToByteArray());
        var decoded = AttributeBag.From(attributes);

        string[] asked =
        [
            .. attributes.Select(a => a.Key),
            // The same length and last byte as a present key (the filter's bit is set): found only by comparing.
            "gen_ai.usage.inpux_tokens", "gen_ai.usage.prompt_tokens", "gen_ai.usage.outpub_tokens",
            // Absent keys of other shapes, the ASCII prefix of a non-ASCII key, and keys longer than any present.
            "gen_ai.agent.name", "perfotel.tenant", "mod", "modele", "modèles", "e", "ée", "x", "valueles",
            "gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.output_tokens.extra",
        ];
        foreach (var key in asked)
        {
            Assert.Equal(decoded.Contains(key), wire.Contains(key));
            Assert.Equal(decoded.String(key), wire.String(key));
            Assert.Equal(decoded.Long(key), wire.Long(key));
            Assert.Equal(decoded.Double(key), wire.Double(key));
        }

        Assert.Equal("300", wire.String("gen_ai.usage.output_tokens"));
        Assert.Equal("true", wire.String("valueless"));
        Assert.False(wire.Contains("only.valueless"));
        Assert.Equal("gpt-4o", wire.String("modèle"));
        Assert.Equal("empty key", wire.String(string.Empty));
        Assert.False(wire.Contains("gen_ai.usage.inpux_tokens"));
    }

    private static long Read(AttributeBag bag) =>
        (bag.Long("gen_ai.usage.input_tokens") ?? 0) + (bag.Long("gen_ai.usage.output_tokens") ?? 0)
        + (bag.String("gen_ai.request.model") is null ? 1 : 0) + (bag.Long("gen_ai.usage.cache_read.input_tokens") ?? 0);
}
