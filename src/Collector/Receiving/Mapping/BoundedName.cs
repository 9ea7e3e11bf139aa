using System.Text;

namespace PerfOtel.Collector.Receiving.Mapping;

/// <summary>
/// Keeps agent, tool, model and operation names a bounded set: per-call identifiers that some libraries put into
/// names (Semantic Kernel's <c>InvokePromptAsync_&lt;guid&gt;</c>, generated agent ids) are replaced by
/// <see cref="Placeholder"/> before a name is stored or becomes a label value, so that one function or agent stays
/// one series instead of one per call. The rule (docs/collector/foreign-conventions.md, "Bounded names"):
/// <list type="bullet">
/// <item>a GUID in its dashed form (8-4-4-4-12 hexadecimal digits);</item>
/// <item>a run of <see cref="MinHexRun"/> or more hexadecimal characters that contains at least one decimal digit
/// (GUIDs without dashes, trace and span ids, hashes);</item>
/// <item>a run of <see cref="MinDigitRun"/> or more decimal digits (timestamps, sequence numbers).</item>
/// </list>
/// Shorter runs stay: model versions such as <c>gpt-4o-2024-08-06</c> or <c>claude-3-5-sonnet-20241022</c> are part
/// of what a name means, not an identifier of one call.
/// </summary>
internal static class BoundedName
{
    /// <summary>What stands for an identifier, as in an HTTP route template.</summary>
    public const string Placeholder = "{id}";

    public const int MinHexRun = 16;
    public const int MinDigitRun = 10;

    public static string Normalize(string name)
    {
        StringBuilder? builder = null;
        var copied = 0;
        var i = 0;
        while (i < name.Length)
        {
            var length = IdentifierLength(name, i);
            if (length == 0)
            {
                i++;
                continue;
            }

            builder ??= new StringBuilder(name.Length);
            builder.Append(name, copied, i - copied).Append(Placeholder);
            i += length;
            copied = i;
        }

        return builder is null ? name : builder.Append(name, copied, name.Length - copied).ToString();
    }

    /// <summary>Length of the identifier starting at <paramref name="start"/>, or 0 when none starts there.</summary>
    private static int IdentifierLength(string name, int start)
    {
        // Only at the start of a run: the middle of a hex run is never the start of another identifier.
        if (start > 0 && char.IsAsciiHexDigit(name[start - 1]))
        {
            return 0;
        }

        if (DashedGuidLength(name, start) is > 0 and var guid)
        {
            return guid;
        }

        var end = start;
        var digits = 0;
        while (end < name.Length && char.IsAsciiHexDigit(name[end]))
        {
            digits += char.IsAsciiDigit(name[end]) ? 1 : 0;
            end++;
        }

        var run = end - start;
        if (run >= MinHexRun && digits > 0)
        {
            return run;
        }

        return run >= MinDigitRun && digits == run ? run : 0;
    }

    private static int DashedGuidLength(string name, int start)
    {
        ReadOnlySpan<int> groups = [8, 4, 4, 4, 12];
        var position = start;
        for (var g = 0; g < groups.Length; g++)
        {
            if (g > 0)
            {
                if (position >= name.Length || name[position] != '-')
                {
                    return 0;
                }

                position++;
            }

            for (var k = 0; k < groups[g]; k++, position++)
            {
                if (position >= name.Length || !char.IsAsciiHexDigit(name[position]))
                {
                    return 0;
                }
            }
        }

        // A longer hex run after the last group is not a GUID but part of something else.
        return position < name.Length && char.IsAsciiHexDigit(name[position]) ? 0 : position - start;
    }
}
