using PerfOtel.Collector.Derived.Kernel;

namespace PerfOtel.Collector.Tests.DerivedKernel;

public class OrderFreeSumTests
{
    private static double Sum(IEnumerable<double> values)
    {
        var sum = new OrderFreeSum();
        foreach (var value in values)
        {
            sum.Add(value);
        }
        return sum.Value;
    }

    [Fact]
    public void The_sum_does_not_depend_on_the_order_where_double_addition_does()
    {
        double[] values = [1e16, 1, -1e16];
        // Plain doubles: the 1 is lost when it meets 1e16 first.
        Assert.Equal(0, (values[0] + values[1]) + values[2]);
        Assert.Equal(1, (values[0] + values[2]) + values[1]);

        Assert.Equal(1, Sum(values));
        Assert.Equal(1, Sum(values.Reverse()));
        Assert.Equal(1, Sum([values[0], values[2], values[1]]));
    }

    [Fact]
    public void Every_permutation_of_accuracy_samples_gives_the_same_bits_and_merging_equals_adding()
    {
        double[] samples = [0.9, 0.1, 0.2, 0.30000000000000004, 0.8428571428571429, 1.0 / 3, 0.7];
        var expected = Sum(samples);
        var random = new Random(7);
        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(Sum(samples.OrderBy(_ => random.Next()))));
        }
        Assert.Equal(samples.Sum(), expected, 14);

        var first = new OrderFreeSum();
        var second = new OrderFreeSum();
        foreach (var (sample, index) in samples.Select((s, i) => (s, i)))
        {
            (index % 2 == 0 ? ref first : ref second).Add(sample);
        }
        first.Add(second);
        Assert.Equal(expected, first.Value);
    }

    [Fact]
    public void A_withdrawn_value_restores_the_sum_exactly_and_non_finite_values_are_ignored()
    {
        var sum = new OrderFreeSum();
        sum.Add(0.1);
        sum.Add(0.7);
        sum.Add(-0.7);
        sum.Add(double.NaN);
        sum.Add(double.PositiveInfinity);
        Assert.Equal(0.1, sum.Value);
        sum.Clear();
        Assert.Equal(0, sum.Value);
    }
}
