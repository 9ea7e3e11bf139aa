using PerfOtel.Collector.Derived.Experiments.Statistics;

namespace PerfOtel.Collector.Tests.Experiments;

public class TwoProportionZTestTests
{
    [Fact]
    public void WorkedExample_200of1000_vs_250of1000()
    {
        // p1 = 200/1000 = 0.20, p2 = 250/1000 = 0.25, pooled p = 450/2000 = 0.225
        // SE = sqrt(0.225 * 0.775 * (1/1000 + 1/1000)) = sqrt(0.174375 * 0.002) = sqrt(0.00034875) = 0.0186748
        // z = (0.20 - 0.25) / 0.0186748 = -2.6774
        // p = erfc(2.6774 / sqrt 2) = erfc(1.89320) = 0.0074196
        var result = TwoProportionZTest.Test(200, 1000, 250, 1000)!.Value;

        Assert.Equal(-2.6774, result.Z, 4);
        Assert.Equal(0.0074196, result.PValue, 6);
        Assert.True(result.PValue < 0.05);
    }

    [Fact]
    public void SwappingTheGroupsFlipsTheSignOfZAndKeepsThePValue()
    {
        var forward = TwoProportionZTest.Test(200, 1000, 250, 1000)!.Value;
        var backward = TwoProportionZTest.Test(250, 1000, 200, 1000)!.Value;

        Assert.Equal(-forward.Z, backward.Z, 12);
        Assert.Equal(forward.PValue, backward.PValue, 12);
    }

    [Fact]
    public void NotSignificant_60of100_vs_45of100_IsOnTheOtherSideOf005()
    {
        // pooled 105/200 = 0.525; SE = sqrt(0.525 * 0.475 * 0.02) = sqrt(0.0049875) = 0.070622
        // z = 0.15 / 0.070622 = 2.1240 -> p = 0.03367 (significant); 90/100 vs 85/100:
        // pooled 0.875; SE = sqrt(0.875 * 0.125 * 0.02) = 0.046771; z = 0.05 / 0.046771 = 1.0690 -> p = 0.2851
        var significant = TwoProportionZTest.Test(60, 100, 45, 100)!.Value;
        var notSignificant = TwoProportionZTest.Test(90, 100, 85, 100)!.Value;

        Assert.Equal(2.1240, significant.Z, 3);
        Assert.Equal(0.03367, significant.PValue, 4);
        Assert.Equal(1.0690, notSignificant.Z, 3);
        Assert.Equal(0.2851, notSignificant.PValue, 3);
    }

    [Fact]
    public void IdenticalAllSuccessGroupsHaveNoEvidenceOfADifference()
    {
        // Pooled p = 1 makes the standard error 0: z is reported 0 and p 1 rather than NaN.
        Assert.Equal(new ZTestResult(0, 1), TwoProportionZTest.Test(50, 50, 70, 70));
    }

    [Theory]
    [InlineData(0, 0, 1, 10)]
    [InlineData(1, 10, 0, 0)]
    [InlineData(11, 10, 1, 10)]
    [InlineData(-1, 10, 1, 10)]
    public void ImpossibleCountsGiveNoResult(long x1, long n1, long x2, long n2) =>
        Assert.Null(TwoProportionZTest.Test(x1, n1, x2, n2));
}

public class NormalDistributionTests
{
    [Theory]
    // Reference values of erfc to 10 digits (Abramowitz and Stegun, table 7.1).
    [InlineData(0.0, 1.0)]
    [InlineData(0.5, 0.4795001222)]
    [InlineData(1.0, 0.1572992071)]
    [InlineData(2.0, 0.0046777350)]
    [InlineData(-1.0, 1.8427007929)]
    [InlineData(5.0, 1.5374597944e-12)]
    public void ErfcIsWithinItsStatedRelativeErrorBound(double x, double expected)
    {
        var relativeError = Math.Abs(NormalDistribution.Erfc(x) - expected) / expected;

        Assert.True(relativeError <= NormalDistribution.ErfcRelativeErrorBound,
            $"erfc({x}) = {NormalDistribution.Erfc(x):R}, expected {expected:R}: relative error {relativeError:E2}");
    }

    [Fact]
    public void CdfAndTwoSidedPValueFollowFromErfc()
    {
        // Phi(1.96) = 0.9750021; the two-sided p of 1.96 is 2 * (1 - 0.9750021) = 0.0499958.
        Assert.Equal(0.9750021, NormalDistribution.Cdf(1.96), 6);
        Assert.Equal(0.0249979, NormalDistribution.Cdf(-1.96), 6);
        Assert.Equal(0.0499958, NormalDistribution.TwoSidedPValue(-1.96), 6);
        Assert.Equal(1.0, NormalDistribution.TwoSidedPValue(0), 7);
    }
}
