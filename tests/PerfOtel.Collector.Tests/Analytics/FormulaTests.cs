using PerfOtel.Collector.Derived.Analytics.Formulas;
using PerfOtel.Collector.Derived.Kernel;

namespace PerfOtel.Collector.Tests.Analytics;

public class CalibrationFormulaTests
{
    private static (CalibrationBin[] Bins, double SquaredErrors) Pairs(params (double Confidence, bool Success)[] pairs)
    {
        var bins = new CalibrationBin[10];
        double squaredErrors = 0;
        foreach (var (confidence, success) in pairs)
        {
            bins[CalibrationFormulas.BinOf(confidence, 10)] += new CalibrationBin(1, confidence, success ? 1 : 0);
            squaredErrors += CalibrationFormulas.SquaredError(confidence, success);
        }
        return (bins, squaredErrors);
    }

    private static (double, bool)[] Repeat(double confidence, int successes, int failures) =>
        Enumerable.Repeat((confidence, true), successes).Concat(Enumerable.Repeat((confidence, false), failures)).ToArray();

    [Fact]
    public void Overconfident_vector_all_0_9_with_7_of_10_successes_gives_ece_mce_0_2_and_brier_0_25()
    {
        // One bin: |0.7 - 0.9| = 0.2; Brier = (7 * 0.1^2 + 3 * 0.9^2) / 10 = (0.07 + 2.43) / 10 = 0.25.
        var (bins, squaredErrors) = Pairs(Repeat(0.9, 7, 3));
        var result = CalibrationFormulas.Compute(bins, squaredErrors, minimumSamples: 10)!;
        Assert.Equal(0.2, result.ExpectedCalibrationError, 12);
        Assert.Equal(0.2, result.MaximumCalibrationError, 12);
        Assert.Equal(0.25, result.BrierScore, 12);
        Assert.Equal(0.2, result.Overconfidence, 12);
        Assert.Equal(10, result.Samples);
    }

    [Fact]
    public void Calibrated_vector_0_8_with_4_of_5_and_0_2_with_1_of_5_gives_ece_0_and_brier_0_16()
    {
        // Bin 8: 4/5 = 0.8 = mean confidence; bin 2: 1/5 = 0.2 = mean confidence. Brier: each half contributes
        // 4 * 0.2^2 + 1 * 0.8^2 = 0.8, so (0.8 + 0.8) / 10 = 0.16.
        var (bins, squaredErrors) = Pairs([.. Repeat(0.8, 4, 1), .. Repeat(0.2, 1, 4)]);
        var result = CalibrationFormulas.Compute(bins, squaredErrors, minimumSamples: 10)!;
        Assert.Equal(0, result.ExpectedCalibrationError, 12);
        Assert.Equal(0, result.MaximumCalibrationError, 12);
        Assert.Equal(0.16, result.BrierScore, 12);
        Assert.Equal(0, result.Overconfidence, 12);
    }

    [Fact]
    public void Mce_is_the_largest_gap_and_ece_weights_gaps_by_bin_share()
    {
        // Bin 9: 10 at 0.9, 5 successes: gap 0.4. Bin 5: 30 at 0.5, 15 successes: gap 0. ECE = 10/40 * 0.4 = 0.1.
        var (bins, squaredErrors) = Pairs([.. Repeat(0.9, 5, 5), .. Repeat(0.5, 15, 15)]);
        var result = CalibrationFormulas.Compute(bins, squaredErrors, minimumSamples: 30)!;
        Assert.Equal(0.1, result.ExpectedCalibrationError, 12);
        Assert.Equal(0.4, result.MaximumCalibrationError, 12);
    }

    [Fact]
    public void Calibration_is_withheld_below_the_minimum_sample_count()
    {
        var (bins, squaredErrors) = Pairs(Repeat(0.9, 20, 9));
        Assert.Null(CalibrationFormulas.Compute(bins, squaredErrors, minimumSamples: 30));
        var (more, moreErrors) = Pairs(Repeat(0.9, 21, 9));
        Assert.NotNull(CalibrationFormulas.Compute(more, moreErrors, minimumSamples: 30));
    }

    [Theory]
    [InlineData(0.0, 0)]
    [InlineData(0.0999, 0)]
    [InlineData(0.1, 1)]
    [InlineData(0.95, 9)]
    [InlineData(1.0, 9)]
    [InlineData(1.5, 9)]
    [InlineData(-0.2, 0)]
    public void Confidence_falls_in_equal_width_bins_with_1_in_the_last(double confidence, int bin) =>
        Assert.Equal(bin, CalibrationFormulas.BinOf(confidence, 10));
}

public class HealthScoreTests
{
    [Fact]
    public void Perfect_agent_without_accuracy_scores_100_over_weights_90()
    {
        // 100 * (40*1 + 30*1 + 20*(1-0)) / 90 = 100.
        Assert.Equal(100, HealthScore.Compute(1, 0, 2.0, 5.0, accuracy: null), 9);
    }

    [Fact]
    public void Hand_worked_score_with_and_without_accuracy()
    {
        // s = 0.8, e = 0.1, p95 = 7.5 s, T = 5 s: l = (10 - 7.5) / 5 = 0.5.
        // Without accuracy: 100 * (32 + 15 + 18) / 90 = 72.222...; with a = 0.6: 100 * (32 + 15 + 18 + 6) / 100 = 71.
        Assert.Equal(6500.0 / 90, HealthScore.Compute(0.8, 0.1, 7.5, 5, null), 9);
        Assert.Equal(71, HealthScore.Compute(0.8, 0.1, 7.5, 5, 0.6), 9);
    }

    [Fact]
    public void Hand_worked_score_with_quality_with_and_without_accuracy()
    {
        // s = 0.8, e = 0.1, l = 0.5 as above, q = 0.9: without accuracy 100 * (32 + 15 + 18 + 9) / 100 = 74;
        // with a = 0.6 as well: 100 * (32 + 15 + 18 + 6 + 9) / 110 = 72.727...
        Assert.Equal(74, HealthScore.Compute(0.8, 0.1, 7.5, 5, accuracy: null, quality: 0.9), 9);
        Assert.Equal(8000.0 / 110, HealthScore.Compute(0.8, 0.1, 7.5, 5, accuracy: 0.6, quality: 0.9), 9);
        // A known quality of 0 costs a perfect agent 10 of 100 points; an unknown one costs nothing.
        Assert.Equal(90, HealthScore.Compute(1, 0, 1, 5, null, quality: 0.0), 9);
    }

    [Fact]
    public void Accuracy_term_is_dropped_not_zeroed_when_no_sample_exists()
    {
        // A known accuracy of 0 costs the agent 10 points; an unknown accuracy costs nothing.
        Assert.Equal(100, HealthScore.Compute(1, 0, 1, 5, null), 9);
        Assert.Equal(90, HealthScore.Compute(1, 0, 1, 5, 0.0), 9);
        Assert.Equal(95, HealthScore.Compute(1, 0, 1, 5, 0.5), 9);
    }

    [Theory]
    [InlineData(1.0, 1.0)]
    [InlineData(5.0, 1.0)]
    [InlineData(7.5, 0.5)]
    [InlineData(10.0, 0.0)]
    [InlineData(20.0, 0.0)]
    public void Latency_term_is_1_up_to_the_limit_and_0_from_twice_the_limit(double p95, double term) =>
        Assert.Equal(term, HealthScore.LatencyTerm(p95, 5.0), 12);

    [Theory]
    [InlineData(100, HealthBand.Excellent)]
    [InlineData(90, HealthBand.Excellent)]
    [InlineData(89.999, HealthBand.Good)]
    [InlineData(70, HealthBand.Good)]
    [InlineData(69.999, HealthBand.Fair)]
    [InlineData(50, HealthBand.Fair)]
    [InlineData(49.999, HealthBand.Poor)]
    [InlineData(0, HealthBand.Poor)]
    public void Bands_are_90_plus_excellent_70_good_50_fair_below_poor(double score, HealthBand band) =>
        Assert.Equal(band, HealthScore.BandOf(score));
}

public class TrendFormulaTests
{
    [Theory]
    [InlineData(105.0, 100.0, true, TrendDirection.Stable)]
    [InlineData(95.0, 100.0, true, TrendDirection.Stable)]
    [InlineData(105.001, 100.0, true, TrendDirection.Improving)]
    [InlineData(94.999, 100.0, true, TrendDirection.Degrading)]
    [InlineData(0.84, 0.8, true, TrendDirection.Stable)]
    [InlineData(0.76, 0.8, true, TrendDirection.Stable)]
    [InlineData(105.001, 100.0, false, TrendDirection.Degrading)]
    [InlineData(94.999, 100.0, false, TrendDirection.Improving)]
    [InlineData(105.0, 100.0, false, TrendDirection.Stable)]
    [InlineData(-1.05, -1.0, true, TrendDirection.Stable)]
    [InlineData(-1.2, -1.0, true, TrendDirection.Degrading)]
    public void Within_plus_minus_5_percent_inclusive_is_stable_otherwise_by_direction(
        double current, double previous, bool higherIsBetter, TrendDirection expected) =>
        Assert.Equal(expected, TrendFormula.Direction(current, previous, higherIsBetter));

    [Fact]
    public void No_trend_without_both_windows_or_from_zero_to_nonzero()
    {
        Assert.Null(TrendFormula.Direction(1, null, true));
        Assert.Null(TrendFormula.Direction(null, 1, true));
        Assert.Null(TrendFormula.Direction(0.1, 0, true));
        Assert.Equal(TrendDirection.Stable, TrendFormula.Direction(0, 0, true));
    }
}

public class ScoreFormulaTests
{
    [Fact]
    public void Reliability_is_the_wilson_lower_bound()
    {
        // 7 of 10: p = 0.7, z^2 = 3.8415; (0.7 + 0.19207 - 1.96 * sqrt(0.021 + 0.0096037)) / 1.38415 = 0.39677.
        Assert.Equal(0.39677, ReliabilityScore.WilsonLowerBound(7, 10)!.Value, 4);
        // 100 of 100: (1 + 0.019207 - 1.96 * 0.0098) / 1.038415 = 0.96300.
        Assert.Equal(0.96300, ReliabilityScore.WilsonLowerBound(100, 100)!.Value, 4);
        Assert.Equal(0, ReliabilityScore.WilsonLowerBound(0, 50)!.Value, 12);
        Assert.Null(ReliabilityScore.WilsonLowerBound(0, 0));
        // A short lucky streak scores lower than a long record with the same rate.
        Assert.True(ReliabilityScore.WilsonLowerBound(9, 10) < ReliabilityScore.WilsonLowerBound(900, 1000));
    }

    [Fact]
    public void Efficiency_is_latency_term_times_accuracy_else_success_rate()
    {
        Assert.Equal(0.4, EfficiencyScore.Compute(7.5, 5, accuracy: 0.8, successRate: 0.9)!.Value, 12);
        Assert.Equal(0.45, EfficiencyScore.Compute(7.5, 5, accuracy: null, successRate: 0.9)!.Value, 12);
        Assert.Equal(0.9, EfficiencyScore.Compute(1, 5, accuracy: null, successRate: 0.9)!.Value, 12);
        Assert.Null(EfficiencyScore.Compute(null, 5, null, null));
    }

    [Fact]
    public void Specialization_compares_the_main_task_type_with_the_others_pooled()
    {
        // Main: review, 9/10 = 0.9; others: (2 + 3) / (5 + 5) = 0.5; score 0.4.
        TaskTypeCounts[] types = [new("review", 10, 9), new("summarize", 5, 2), new("translate", 5, 3)];
        Assert.Equal("review", SpecializationScore.MainTaskType(types)!.Value.TaskType);
        Assert.Equal(0.4, SpecializationScore.Compute(types)!.Value, 12);
    }

    [Fact]
    public void Specialization_breaks_ties_by_name_and_needs_two_task_types()
    {
        Assert.Equal(1.0, SpecializationScore.Compute([new("b", 5, 0), new("a", 5, 5)])!.Value, 12);
        Assert.Null(SpecializationScore.Compute([new("only", 10, 7)]));
        Assert.Null(SpecializationScore.Compute([]));
    }

    [Fact]
    public void Anomaly_is_the_ewma_z_score_of_the_last_point()
    {
        // alpha = 0.5 over 0, 2, 0, 2, 0: mean 0 -> 1 -> 0.5 -> 1.25 -> 0.625, var 0 -> 1 -> 0.75 -> 0.9375 -> 0.859375.
        // z(20) = (20 - 0.625) / sqrt(0.859375) = 20.9002; z(2) = 1.3750 / 0.92702 = 1.4832.
        Assert.Equal(20.9002, AnomalyDetector.ZScore([0, 2, 0, 2, 0, 20], 0.5)!.Value, 4);
        Assert.Equal(1.4832, AnomalyDetector.ZScore([0, 2, 0, 2, 0, 2], 0.5)!.Value, 4);
        Assert.True(AnomalyDetector.IsAnomaly(20.9));
        Assert.False(AnomalyDetector.IsAnomaly(1.48));
        Assert.True(AnomalyDetector.IsAnomaly(-3.0));
        Assert.False(AnomalyDetector.IsAnomaly(2.999));
    }

    [Fact]
    public void Anomaly_needs_history_and_caps_flat_series()
    {
        Assert.Null(AnomalyDetector.ZScore([1, 1, 1, 1, 5]));
        Assert.Equal(0, AnomalyDetector.ZScore([1, 1, 1, 1, 1, 1])!.Value);
        Assert.Equal(AnomalyDetector.MaximumScore, AnomalyDetector.ZScore([1, 1, 1, 1, 1, 2])!.Value);
        Assert.Equal(-AnomalyDetector.MaximumScore, AnomalyDetector.ZScore([1, 1, 1, 1, 1, 0])!.Value);
    }
}

public class PredictionFormulaTests
{
    [Fact]
    public void Without_data_the_prediction_is_the_uniform_prior()
    {
        var p = SuccessPrediction.Predict(0, 0);
        Assert.Equal(0.5, p.Mean, 12);
        Assert.Equal(0.05, p.Lower, 9);
        Assert.Equal(0.95, p.Upper, 9);
    }

    [Fact]
    public void One_success_gives_beta_2_1_whose_quantiles_are_square_roots()
    {
        // Beta(2, 1) has CDF x^2: quantiles sqrt(0.05) = 0.2236068 and sqrt(0.95) = 0.9746794; mean 2/3.
        var p = SuccessPrediction.Predict(1, 1);
        Assert.Equal(2.0 / 3, p.Mean, 12);
        Assert.Equal(Math.Sqrt(0.05), p.Lower, 9);
        Assert.Equal(Math.Sqrt(0.95), p.Upper, 9);
    }

    [Fact]
    public void One_failure_gives_beta_1_2()
    {
        // Beta(1, 2) has CDF 1 - (1 - x)^2: quantiles 1 - sqrt(0.95) and 1 - sqrt(0.05).
        var p = SuccessPrediction.Predict(0, 1);
        Assert.Equal(1.0 / 3, p.Mean, 12);
        Assert.Equal(1 - Math.Sqrt(0.95), p.Lower, 9);
        Assert.Equal(1 - Math.Sqrt(0.05), p.Upper, 9);
    }

    [Fact]
    public void Posterior_of_7_in_10_is_beta_8_4_and_mirrors_beta_4_8()
    {
        var p = SuccessPrediction.Predict(7, 10);
        Assert.Equal(8, p.Alpha);
        Assert.Equal(4, p.Beta);
        Assert.Equal(8.0 / 12, p.Mean, 12);
        var mirrored = SuccessPrediction.Predict(3, 10);
        Assert.Equal(1 - mirrored.Upper, p.Lower, 9);
        Assert.Equal(1 - mirrored.Lower, p.Upper, 9);
        Assert.Equal(0.05, IncompleteBeta.Regularized(p.Lower, 8, 4), 9);
        Assert.Equal(0.95, IncompleteBeta.Regularized(p.Upper, 8, 4), 9);
        Assert.True(p.Lower < p.Mean && p.Mean < p.Upper);
    }

    [Fact]
    public void Regularized_incomplete_beta_matches_closed_forms()
    {
        // Beta(2, 3) CDF at 0.3 = P(Binomial(4, 0.3) >= 2) = 6*0.09*0.49 + 4*0.027*0.7 + 0.0081 = 0.3483.
        Assert.Equal(0.3483, IncompleteBeta.Regularized(0.3, 2, 3), 12);
        Assert.Equal(0.5, IncompleteBeta.Regularized(0.5, 3, 3), 12);
        Assert.Equal(0.5, IncompleteBeta.Regularized(0.5, 40, 40), 10);
        Assert.Equal(1 - Math.Pow(0.6, 5), IncompleteBeta.Regularized(0.4, 1, 5), 12);
        Assert.Equal(Math.Pow(0.7, 4), IncompleteBeta.Regularized(0.7, 4, 1), 12);
        Assert.Equal(0, IncompleteBeta.Regularized(0, 2, 2));
        Assert.Equal(1, IncompleteBeta.Regularized(1, 2, 2));
        Assert.Equal(Math.Log(24), IncompleteBeta.LogGamma(5), 12);
        Assert.Equal(0.5 * Math.Log(Math.PI), IncompleteBeta.LogGamma(0.5), 12);
    }

    [Fact]
    public void Large_histories_narrow_the_interval_around_the_rate()
    {
        var p = SuccessPrediction.Predict(9000, 10000);
        Assert.Equal(9001.0 / 10002, p.Mean, 12);
        Assert.InRange(p.Upper - p.Lower, 0.009, 0.011);
        Assert.Equal(0.05, IncompleteBeta.Regularized(p.Lower, p.Alpha, p.Beta), 9);
    }
}

public class OutcomeRateTests
{
    [Fact]
    public void Partial_outcomes_count_in_neither_rate()
    {
        // 6 successes, 3 failures, 1 partial.
        Assert.Equal(0.6, OutcomeRates.SuccessRate(6, 10)!.Value, 12);
        Assert.Equal(0.3, OutcomeRates.ErrorRate(3, 10)!.Value, 12);
        Assert.Null(OutcomeRates.SuccessRate(0, 0));
        Assert.Equal(2.5, OutcomeRates.PerInvocation(25, 10)!.Value, 12);
    }
}
