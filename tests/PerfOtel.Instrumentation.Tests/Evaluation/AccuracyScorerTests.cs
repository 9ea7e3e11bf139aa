using System.Text.Json;
using PerfOtel.Instrumentation.Evaluation;

namespace PerfOtel.Instrumentation.Tests.Evaluation;

public class AccuracyScorerTests
{
    private static double Score(string predicted, string actual)
    {
        using var p = JsonDocument.Parse(predicted);
        using var a = JsonDocument.Parse(actual);
        return AccuracyScorer.Score(p.RootElement, a.RootElement);
    }

    [Theory]
    [InlineData("100", "100", 1.0)]
    [InlineData("90", "100", 0.9)]     // 1 - 10/100
    [InlineData("110", "100", 0.9)]    // 1 - 10/100
    [InlineData("-5", "-4", 0.75)]     // 1 - 1/4
    [InlineData("250", "100", 0.0)]    // 1 - 150/100 = -0.5, clamped
    [InlineData("-100", "100", 0.0)]   // 1 - 200/100 = -1, clamped
    [InlineData("1.0", "1", 1.0)]      // same number, different literal
    [InlineData("0", "0", 1.0)]        // a = 0: exact match only
    [InlineData("0.0001", "0", 0.0)]
    public void Numbers_score_relative_error_clamped(string predicted, string actual, double expected) =>
        Assert.Equal(expected, Score(predicted, actual), 12);

    [Theory]
    [InlineData("\"the cat sat\"", "\"The cat sat\"", 1.0)]
    [InlineData("\"a cat\"", "\"the cat sat down\"", 0.25)]          // cat of {the, cat, sat, down}
    [InlineData("\"Paris, France.\"", "\"paris\"", 1.0)]              // extra words do not count against
    [InlineData("\"London\"", "\"Paris\"", 0.0)]
    [InlineData("\"refund approved\"", "\"approved refund approved\"", 1.0)] // distinct words {approved, refund}
    [InlineData("\"catalog\"", "\"cat\"", 0.0)]                      // whole words, not substrings
    [InlineData("\"?!\"", "\"?!\"", 1.0)]                            // no words in the actual: exact match
    [InlineData("\"!\"", "\"?\"", 0.0)]
    public void Strings_score_share_of_actual_words_found(string predicted, string actual, double expected) =>
        Assert.Equal(expected, Score(predicted, actual), 12);

    [Theory]
    [InlineData("[1, 2, 3]", "[3, 2, 1]", 1.0)]             // order does not matter
    [InlineData("[1, 2]", "[1, 2, 3, 4]", 0.5)]
    [InlineData("[1, 2, 3, 4, 5]", "[1, 2]", 1.0)]          // extra elements do not count against
    [InlineData("[1]", "[1, 1]", 0.5)]                      // one predicted element matches one actual element
    [InlineData("[{\"b\": 2, \"a\": 1}]", "[{\"a\": 1, \"b\": 2}]", 1.0)] // elements are equal JSON values
    [InlineData("[\"Paris\"]", "[\"paris\"]", 0.0)]         // element equality is exact
    [InlineData("[]", "[]", 1.0)]
    [InlineData("[1]", "[]", 0.0)]
    public void Lists_score_share_of_actual_elements_present(string predicted, string actual, double expected) =>
        Assert.Equal(expected, Score(predicted, actual), 12);

    [Fact]
    public void Objects_average_key_overlap_and_value_similarity()
    {
        // Keys: a and b of {a, b, c} are present -> 2/3. Values: a = 1 (exact), b: 90 vs 100 -> 0.9; mean 0.95.
        // Score = (2/3 + 0.95) / 2.
        var score = Score("{\"a\": \"yes\", \"b\": 90, \"x\": 1}", "{\"a\": \"yes\", \"b\": 100, \"c\": true}");
        Assert.Equal(((2.0 / 3.0) + 0.95) / 2.0, score, 12);
    }

    [Fact]
    public void Objects_recurse_into_nested_values()
    {
        // Inner: key k present (1.0); "red car" holds "red" of {red, bike} (0.5); inner = (1 + 0.5) / 2 = 0.75.
        // Outer: key o present (1.0), value 0.75; outer = (1 + 0.75) / 2 = 0.875.
        var score = Score("{\"o\": {\"k\": \"red car\"}}", "{\"o\": {\"k\": \"red bike\"}}");
        Assert.Equal(0.875, score, 12);
    }

    [Fact]
    public void Objects_without_shared_keys_score_zero()
    {
        Assert.Equal(0.0, Score("{\"x\": 1}", "{\"a\": 1}"));
        Assert.Equal(1.0, Score("{}", "{}"));
        Assert.Equal(0.0, Score("{\"x\": 1}", "{}"));
    }

    [Theory]
    [InlineData("true", "true", 1.0)]
    [InlineData("false", "true", 0.0)]
    [InlineData("null", "null", 1.0)]
    [InlineData("null", "1", 0.0)]
    [InlineData("\"42\"", "42", 0.0)]     // a string never equals a number
    [InlineData("[1]", "1", 0.0)]
    [InlineData("1", "true", 0.0)]
    public void Booleans_null_and_mixed_kinds_score_equality(string predicted, string actual, double expected) =>
        Assert.Equal(expected, Score(predicted, actual), 12);

    [Fact]
    public void Undefined_elements_are_rejected_with_a_clear_error()
    {
        using var actual = JsonDocument.Parse("1");
        var error = Assert.Throws<ArgumentException>(() => AccuracyScorer.Score(default, actual.RootElement));
        Assert.Equal("predicted", error.ParamName);
        error = Assert.Throws<ArgumentException>(() => AccuracyScorer.Score(actual.RootElement, default));
        Assert.Equal("actual", error.ParamName);
    }
}
