using System.Text.Json;

namespace PerfOtel.Instrumentation.Evaluation;

/// <summary>
/// Scores how close a predicted outcome is to the actual one, in [0, 1], by the accuracy rules of PerfOtel's
/// architecture. The collector scores feedback with the same function, so an agent and the collector always agree.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><b>Numbers</b>: <c>1 - |p - a| / |a|</c> clamped to [0, 1]; when <c>a = 0</c> only an exact match scores 1.</item>
/// <item><b>Strings</b>: the share of the actual's distinct words (runs of letters and digits, compared
/// case-insensitively) that occur in the prediction. An actual without any word needs an exact (case-insensitive) match.</item>
/// <item><b>Lists</b>: the share of the actual's elements present in the prediction; each predicted element matches at
/// most one actual element, and elements match when they are equal JSON values. An empty actual list needs an empty prediction.</item>
/// <item><b>Objects</b>: the mean of the key overlap (the share of the actual's keys present in the prediction, matched
/// case-sensitively as JSON is) and the mean recursive score of the values of the shared keys (0 when none is shared).
/// An empty actual object needs an empty prediction.</item>
/// <item><b>Booleans, null and mixed kinds</b>: equality (1 or 0). A number never equals a string.</item>
/// </list>
/// Extra words, elements or keys in the prediction do not lower the score: accuracy measures how much of the actual
/// outcome the prediction got right.
/// </remarks>
public static class AccuracyScorer
{
    /// <summary>Scores <paramref name="predicted"/> against <paramref name="actual"/>, in [0, 1].</summary>
    /// <exception cref="ArgumentException">Either value is an undefined (default) <see cref="JsonElement"/>.</exception>
    public static double Score(JsonElement predicted, JsonElement actual)
    {
        if (predicted.ValueKind == JsonValueKind.Undefined)
        {
            throw new ArgumentException("The predicted value is an undefined JsonElement; pass a parsed JSON value (null is allowed).", nameof(predicted));
        }
        if (actual.ValueKind == JsonValueKind.Undefined)
        {
            throw new ArgumentException("The actual value is an undefined JsonElement; pass a parsed JSON value (null is allowed).", nameof(actual));
        }
        return ScoreValue(predicted, actual);
    }

    private static double ScoreValue(JsonElement predicted, JsonElement actual) => actual.ValueKind switch
    {
        JsonValueKind.Number when predicted.ValueKind == JsonValueKind.Number => ScoreNumber(predicted, actual),
        JsonValueKind.String when predicted.ValueKind == JsonValueKind.String => ScoreString(predicted.GetString()!, actual.GetString()!),
        JsonValueKind.Array when predicted.ValueKind == JsonValueKind.Array => ScoreList(predicted, actual),
        JsonValueKind.Object when predicted.ValueKind == JsonValueKind.Object => ScoreObject(predicted, actual),
        _ => JsonValuesEqual(predicted, actual) ? 1.0 : 0.0,
    };

    private static double ScoreNumber(JsonElement predicted, JsonElement actual)
    {
        if (!TryGetFinite(predicted, out var p) || !TryGetFinite(actual, out var a))
        {
            // Beyond double range: only the same literal can be judged right.
            return JsonValuesEqual(predicted, actual) ? 1.0 : 0.0;
        }
        if (a == 0)
        {
            return p == 0 ? 1.0 : 0.0;
        }
        return Math.Clamp(1.0 - (Math.Abs(p - a) / Math.Abs(a)), 0.0, 1.0);
    }

    private static double ScoreString(string predicted, string actual)
    {
        var actualWords = Words(actual);
        if (actualWords.Count == 0)
        {
            return string.Equals(predicted.Trim(), actual.Trim(), StringComparison.OrdinalIgnoreCase) ? 1.0 : 0.0;
        }
        var predictedWords = Words(predicted);
        var found = actualWords.Count(predictedWords.Contains);
        return (double)found / actualWords.Count;
    }

    private static HashSet<string> Words(string text)
    {
        var words = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var inWord = i < text.Length && char.IsLetterOrDigit(text[i]);
            if (inWord && start < 0)
            {
                start = i;
            }
            else if (!inWord && start >= 0)
            {
                words.Add(text[start..i]);
                start = -1;
            }
        }
        return words;
    }

    private static double ScoreList(JsonElement predicted, JsonElement actual)
    {
        var actualLength = actual.GetArrayLength();
        if (actualLength == 0)
        {
            return predicted.GetArrayLength() == 0 ? 1.0 : 0.0;
        }
        var unmatched = predicted.EnumerateArray().ToList();
        var present = 0;
        foreach (var expected in actual.EnumerateArray())
        {
            var index = unmatched.FindIndex(candidate => JsonValuesEqual(candidate, expected));
            if (index >= 0)
            {
                unmatched.RemoveAt(index);
                present++;
            }
        }
        return (double)present / actualLength;
    }

    private static double ScoreObject(JsonElement predicted, JsonElement actual)
    {
        var actualKeys = 0;
        var sharedKeys = 0;
        var sharedValueScore = 0.0;
        foreach (var property in actual.EnumerateObject())
        {
            actualKeys++;
            if (predicted.TryGetProperty(property.Name, out var predictedValue))
            {
                sharedKeys++;
                sharedValueScore += ScoreValue(predictedValue, property.Value);
            }
        }
        if (actualKeys == 0)
        {
            return predicted.EnumerateObject().Any() ? 0.0 : 1.0;
        }
        var keyOverlap = (double)sharedKeys / actualKeys;
        var valueSimilarity = sharedKeys == 0 ? 0.0 : sharedValueScore / sharedKeys;
        return (keyOverlap + valueSimilarity) / 2.0;
    }

    private static bool TryGetFinite(JsonElement number, out double value) =>
        number.TryGetDouble(out value) && double.IsFinite(value);

    /// <summary>Structural JSON equality: numbers by value, strings ordinally, objects regardless of key order.</summary>
    private static bool JsonValuesEqual(JsonElement left, JsonElement right)
    {
        if (left.ValueKind != right.ValueKind)
        {
            return false;
        }
        switch (left.ValueKind)
        {
            case JsonValueKind.Number:
                return TryGetFinite(left, out var l) && TryGetFinite(right, out var r)
                    ? l == r
                    : string.Equals(left.GetRawText(), right.GetRawText(), StringComparison.Ordinal);
            case JsonValueKind.String:
                return string.Equals(left.GetString(), right.GetString(), StringComparison.Ordinal);
            case JsonValueKind.Array:
                if (left.GetArrayLength() != right.GetArrayLength())
                {
                    return false;
                }
                using (var leftItems = left.EnumerateArray())
                using (var rightItems = right.EnumerateArray())
                {
                    while (leftItems.MoveNext() && rightItems.MoveNext())
                    {
                        if (!JsonValuesEqual(leftItems.Current, rightItems.Current))
                        {
                            return false;
                        }
                    }
                }
                return true;
            case JsonValueKind.Object:
                var leftCount = 0;
                foreach (var property in left.EnumerateObject())
                {
                    leftCount++;
                    if (!right.TryGetProperty(property.Name, out var other) || !JsonValuesEqual(property.Value, other))
                    {
                        return false;
                    }
                }
                return leftCount == right.EnumerateObject().Count();
            default:
                // True, False, Null: the kinds already agree.
                return true;
        }
    }
}
