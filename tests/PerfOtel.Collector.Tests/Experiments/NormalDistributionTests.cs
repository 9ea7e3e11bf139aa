using PerfOtel.Collector.Derived.Experiments.Statistics;

namespace PerfOtel.Collector.Tests.Experiments;

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
