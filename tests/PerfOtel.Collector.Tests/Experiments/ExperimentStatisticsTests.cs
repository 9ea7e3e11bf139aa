using PerfOtel.Collector.Derived.Experiments.Statistics;

namespace PerfOtel.Collector.Tests.Experiments;

/// <summary>Every formula of the experiment analysis against the hand-worked values of docs/collector/experiments.md.</summary>
public class ExperimentStatisticsTests
{
    private static readonly double Z95 = NormalDistribution.Quantile(0.975);

    [Fact]
    public void NormalQuantile_Of0975_Is1Point96() => Assert.Equal(1.959964, Z95, 5);

    [Fact]
    public void Wilson_Of7In10() => AssertInterval(new(0.7, 0.396778, 0.892209), Intervals.Wilson(7, 10, Z95));

    [Fact]
    public void Wilson_StaysInsideZeroAndOne_AtTheEdges()
    {
        var none = Intervals.Wilson(0, 20, Z95)!.Value;
        Assert.Equal(0, none.Lower);
        Assert.True(none.Upper is > 0.1 and < 0.2);
        var all = Intervals.Wilson(20, 20, Z95)!.Value;
        Assert.Equal(1, all.Upper, 12);
        Assert.Null(Intervals.Wilson(0, 0, Z95));
    }

    // Newcombe (1998), Statistics in Medicine 17, example (a): 56/70 against 48/80, method 10 gives 0.0524 to 0.3339.
    [Fact]
    public void NewcombeDifference_OfThePublishedExample() =>
        AssertInterval(new(0.2, 0.052431, 0.333873), Intervals.ProportionDifference(56, 70, 48, 80, Z95));

    [Fact]
    public void ProportionLift_IsTheLogRiskRatioInterval() =>
        AssertInterval(new(1 / 3.0, 0.076626, 0.651249), Intervals.ProportionLift(56, 70, 48, 80, Z95));

    [Fact]
    public void ProportionLift_WithAZeroCount_UsesTheContinuityCorrection()
    {
        var lift = Intervals.ProportionLift(0, 50, 10, 50, Z95)!.Value;
        Assert.Equal(-1, lift.Estimate);
        Assert.True(lift.Lower > -1 && lift.Upper < 0);
    }

    [Fact]
    public void Mean_FromItsMergeableSums()
    {
        var sums = Sums(1, 2, 3, 4, 5);
        Assert.Equal(2.5, sums.Variance, 12);
        AssertInterval(new(3, 1.614096, 4.385904), Intervals.Mean(sums, Z95));
        Assert.Equal(sums, Sums(1, 2) + Sums(3, 4, 5));
    }

    [Fact]
    public void WelchDifference_OfTwoMeans() =>
        AssertInterval(new(-3, -6.098975, 0.098975), Intervals.MeanDifference(Sums(1, 2, 3, 4, 5), Sums(2, 4, 6, 8, 10), Z95));

    [Fact]
    public void MeanLift_IsTheDeltaMethodLogRatioInterval() =>
        AssertInterval(new(-0.5, -0.739843, -0.039043), Intervals.MeanLift(Sums(1, 2, 3, 4, 5), Sums(2, 4, 6, 8, 10), Z95));

    [Fact]
    public void QuantileRanks_BracketTheP95_DistributionFree()
    {
        Assert.Equal((90L, 100L), Intervals.QuantileRanks(100, 0.95, Z95));
        Assert.Equal((9_457L, 9_544L), Intervals.QuantileRanks(10_000, 0.95, Z95));
        Assert.Null(Intervals.QuantileRanks(0, 0.95, Z95));
    }

    [Fact]
    public void Srm_55To45OutOf100_IsNoMismatch_ButOutOf10000_IsOne()
    {
        var small = SampleRatioMismatch.Check([55, 45], [1, 1])!;
        Assert.Equal(1, small.ChiSquare, 12);
        Assert.Equal(1, small.DegreesOfFreedom);
        Assert.Equal(0.317311, small.PValue, 6);
        Assert.False(small.Mismatch);

        var large = SampleRatioMismatch.Check([5_500, 4_500], [0.5, 0.5])!;
        Assert.Equal(100, large.ChiSquare, 9);
        Assert.True(large.PValue < 1e-20);
        Assert.True(large.Mismatch);
    }

    [Fact]
    public void Srm_WithThreeVariants_AndTrafficWhereNoneWasIntended()
    {
        var three = SampleRatioMismatch.Check([40, 30, 30], [0.5, 0.25, 0.25])!;
        Assert.Equal(4, three.ChiSquare, 12);
        Assert.Equal(2, three.DegreesOfFreedom);
        Assert.Equal(0.135335, three.PValue, 6); // chi-square with 2 degrees of freedom: exp(-x/2)
        Assert.True(SampleRatioMismatch.Check([50, 50, 1], [1, 1, 0])!.Mismatch);
        Assert.Null(SampleRatioMismatch.Check([0, 0], [1, 1]));
    }

    [Theory]
    [InlineData(3.841459, 1, 0.05)]
    [InlineData(10.0, 4, 0.040428)]
    [InlineData(50.0, 30, 0.012402)]
    public void ChiSquareUpperTail_MatchesTables(double x, int df, double expected) =>
        Assert.Equal(expected, ChiSquareDistribution.UpperTail(x, df), 5);

    [Fact]
    public void Msprt_PValue_OfTheHandWorkedExample()
    {
        // d = 0.1, V = 0.0025, tau = 0.1: log Lambda = ln(0.2)/2 + 0.01 * 0.01 / (2 * 0.0025 * 0.0125) = 0.795281.
        Assert.Equal(0.451454, MixtureSequentialTest.PValue(0.1, 0.0025, 0.1), 6);
        Assert.Equal(1, MixtureSequentialTest.PValue(0, 0.0025, 0.1));
        Assert.Equal(1, MixtureSequentialTest.ProportionPValue(0, 0, 5, 10, 0.05));
    }

    /// <summary>
    /// A/A experiments (both variants succeed 30 % of the time) watched after every 50 invocations per variant up to
    /// 5 000, as a dashboard refreshed every minute would: the always-valid test declares a difference in at most its
    /// nominal 5 % of experiments, while the fixed-horizon z-test looked at the same way does so far more often (the
    /// peeking problem the always-valid test exists to solve; this also shows the simulation can see an inflation).
    /// </summary>
    [Fact]
    public void UnderContinuousMonitoring_OnAaData_TheAlwaysValidTestKeepsItsFalsePositiveRate()
    {
        const int experiments = 400, step = 50, maxPerVariant = 5_000;
        var random = new Random(20261202);
        int msprtFalse = 0, naiveFalse = 0;
        for (var e = 0; e < experiments; e++)
        {
            long x1 = 0, x2 = 0, n = 0;
            bool msprt = false, naive = false;
            while (n < maxPerVariant)
            {
                for (var i = 0; i < step; i++)
                {
                    x1 += random.NextDouble() < 0.3 ? 1 : 0;
                    x2 += random.NextDouble() < 0.3 ? 1 : 0;
                }
                n += step;
                msprt |= MixtureSequentialTest.ProportionPValue(x1, n, x2, n, tau: 0.05) < 0.05;
                var p1 = (double)x1 / n;
                var p2 = (double)x2 / n;
                var pooled = (x1 + x2) / (2.0 * n);
                var z = (p1 - p2) / Math.Sqrt(pooled * (1 - pooled) * 2 / n);
                naive |= NormalDistribution.TwoSidedPValue(z) < 0.05;
            }
            msprtFalse += msprt ? 1 : 0;
            naiveFalse += naive ? 1 : 0;
        }
        var tolerance = 3 * Math.Sqrt(0.05 * 0.95 / experiments);
        Assert.True(msprtFalse / (double)experiments <= 0.05 + tolerance, $"always-valid test: {msprtFalse} of {experiments} A/A experiments flagged");
        Assert.True(naiveFalse / (double)experiments > 0.15, $"peeking z-test: only {naiveFalse} of {experiments} flagged; the simulation cannot show inflation");
    }

    [Fact]
    public void UnderContinuousMonitoring_ARealDifference_IsFound()
    {
        var random = new Random(7);
        var found = 0;
        for (var e = 0; e < 100; e++)
        {
            long x1 = 0, x2 = 0, n = 0;
            var detected = false;
            while (n < 5_000 && !detected)
            {
                for (var i = 0; i < 50; i++)
                {
                    x1 += random.NextDouble() < 0.35 ? 1 : 0;
                    x2 += random.NextDouble() < 0.30 ? 1 : 0;
                }
                n += 50;
                detected = MixtureSequentialTest.ProportionPValue(x1, n, x2, n, tau: 0.05) < 0.05;
            }
            found += detected ? 1 : 0;
        }
        Assert.True(found >= 80, $"a 5-point lift was found in {found} of 100 experiments of 5 000 per variant");
    }

    private static MeanSums Sums(params double[] values) => values.Aggregate(default(MeanSums), (s, v) => s.Add(v));

    private static void AssertInterval(Interval expected, Interval? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Estimate, actual.Value.Estimate, 6);
        Assert.Equal(expected.Lower, actual.Value.Lower, 6);
        Assert.Equal(expected.Upper, actual.Value.Upper, 6);
    }
}
