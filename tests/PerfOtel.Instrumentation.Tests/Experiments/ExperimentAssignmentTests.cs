using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Instrumentation.Experiments;

namespace PerfOtel.Instrumentation.Tests.Experiments;

public class ExperimentAssignmentTests
{
    private static readonly ExperimentAssignment FiftyFifty = new("cheaper-model", new("control", 1), new("treatment", 1));

    // Computed independently (Python: hashlib.sha256(b"cheaper-model\0" + unit.encode()), first 8 bytes big-endian >> 11,
    // divided by 2**53): the algorithm documented for other languages gives these points.
    [Theory]
    [InlineData("user-1", 0.813584794565506)]
    [InlineData("user-2", 0.7269974074150435)]
    [InlineData("conversation-42", 0.03551111230201476)]
    [InlineData("tâche-été", 0.7685784103520331)]
    [InlineData("user-8", 0.014749024604671646)]
    public void UnitPoints_MatchTheDocumentedAlgorithm(string unit, double expected) =>
        Assert.Equal(expected, FiftyFifty.UnitPoint(unit));

    [Theory]
    [InlineData("user-4", "treatment")]
    [InlineData("user-8", "control")]
    [InlineData("user-9", "control")]
    [InlineData("user-11", "treatment")]
    public void Assignment_FollowsTheCumulativeShares(string unit, string expected) => Assert.Equal(expected, FiftyFifty.Assign(unit));

    [Fact]
    public void TheSameUnit_AlwaysGetsTheSameVariant_AcrossInstances()
    {
        var again = new ExperimentAssignment("cheaper-model", new("control", 1), new("treatment", 1));
        for (var i = 0; i < 1000; i++)
        {
            var unit = $"user-{i}";
            Assert.Equal(FiftyFifty.Assign(unit), again.Assign(unit));
            Assert.Equal(FiftyFifty.Assign(unit), FiftyFifty.Assign(unit));
        }
    }

    [Fact]
    public void ObservedSplit_Over100000Units_IsWithinFourStandardDeviationsOfTheWeights()
    {
        var assignment = new ExperimentAssignment("split", new("a", 70), new("b", 20), new("c", 10));
        var counts = new Dictionary<string, int>(StringComparer.Ordinal) { ["a"] = 0, ["b"] = 0, ["c"] = 0 };
        const int units = 100_000;
        for (var i = 0; i < units; i++)
        {
            counts[assignment.Assign($"unit-{i}")]++;
        }
        foreach (var (name, share) in new[] { ("a", 0.7), ("b", 0.2), ("c", 0.1) })
        {
            var sd = Math.Sqrt(units * share * (1 - share));
            Assert.InRange(counts[name], units * share - 4 * sd, units * share + 4 * sd);
        }
    }

    [Fact]
    public void ExperimentsSplitIndependently()
    {
        var other = new ExperimentAssignment("another-experiment", new("control", 1), new("treatment", 1));
        var same = Enumerable.Range(0, 10_000).Count(i => FiftyFifty.Assign($"u{i}") == other.Assign($"u{i}"));
        Assert.InRange(same, 4_600, 5_400); // independent halves agree about half the time
    }

    [Fact]
    public void ZeroWeightVariants_GetNothing_AndRaisingAWeight_MovesOnlyUnitsAcrossTheBoundary()
    {
        var off = new ExperimentAssignment("ramp", new("control", 1), new("treatment", 0));
        var ramped = new ExperimentAssignment("ramp", new("control", 0.9), new("treatment", 0.1));
        for (var i = 0; i < 5000; i++)
        {
            var unit = $"u{i}";
            Assert.Equal("control", off.Assign(unit));
            Assert.Equal(off.UnitPoint(unit) < 0.9 ? "control" : "treatment", ramped.Assign(unit));
        }
    }

    [Fact]
    public void LongUnitIds_AreHashedWhole()
    {
        var longId = new string('x', 5000);
        Assert.Equal(FiftyFifty.UnitPoint(longId), FiftyFifty.UnitPoint(longId + ""));
        Assert.NotEqual(FiftyFifty.UnitPoint(longId), FiftyFifty.UnitPoint(longId + "y"));
    }

    [Fact]
    public void Assigning_AllocatesNothing()
    {
        FiftyFifty.Assign("warm-up");
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            FiftyFifty.Assign("user-12345");
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void InvalidWeights_AreRefused(double weight) =>
        Assert.Throws<ArgumentException>(() => new ExperimentAssignment("e", new("a", 1), new("b", weight)));

    [Fact]
    public void InvalidDefinitions_AreRefused()
    {
        Assert.Throws<ArgumentException>(() => new ExperimentAssignment("e"));
        Assert.Throws<ArgumentException>(() => new ExperimentAssignment("e", new("a", 0), new("b", 0)));
        Assert.Throws<ArgumentException>(() => new ExperimentAssignment("e", new("a", 1), new("a", 1)));
        Assert.Throws<ArgumentException>(() => new ExperimentAssignment("e", new ExperimentVariant("", 1)));
        Assert.Throws<ArgumentException>(() => new ExperimentAssignment(" ", new ExperimentVariant("a", 1)));
    }
}

[Collection(GlobalInstrumentsCollection.Name)]
public class ExperimentTaggingTests
{
    private static readonly ExperimentAssignment FiftyFifty = new("cheaper-model", new("control", 1), new("treatment", 1));

    [Fact]
    public void Tag_PutsExperimentAndVariantOnTheInvocationSpan()
    {
        using var harness = new TelemetryHarness();
        using (var invocation = AgentTelemetry.StartInvocation("planner", FiftyFifty.Tag(new() { Tenant = "acme" }, "user-4")))
        {
            invocation.Succeed();
        }
        var span = harness.Span("invoke_agent planner");
        Assert.Equal("cheaper-model", span.GetTagItem(PerfOtelAttributes.Experiment));
        Assert.Equal("treatment", span.GetTagItem(PerfOtelAttributes.Variant));
        Assert.Equal("acme", span.GetTagItem(PerfOtelAttributes.Tenant));
    }
}
