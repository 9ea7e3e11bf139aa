using System.Text;

namespace PerfOtel.Collector.Receiving.Mapping;

/// <summary>
/// The rule every string the collector stores or exports as a name or id passes (agent, tenant, model, provider,
/// tool, evaluation, task type, ids): at most <see cref="MaxLength"/> UTF-16 characters, no control characters, no
/// lone surrogates. Names end up as Prometheus label values, SQL parameters, JSON, Markdown and log lines; a name that
/// is only text is safe in all of them once each writer escapes its own syntax.
/// </summary>
internal static class StoredText
{
    /// <summary>Longer names are cut here: no real agent, model or tool name comes near it, and ids stay unique within it.</summary>
    public const int MaxLength = 256;

    /// <summary>What replaces a control character or a lone surrogate (the Unicode replacement character).</summary>
    public const char Replacement = '\uFFFD';

    public static string Clean(string text)
    {
        var length = Math.Min(text.Length, MaxLength);
        if (length < text.Length && char.IsHighSurrogate(text[length - 1]))
        {
            // Never cut a pair in half.
            length--;
        }

        var needsRewrite = length < text.Length;
        for (var i = 0; i < length && !needsRewrite; i++)
        {
            needsRewrite = char.IsControl(text[i]) || char.IsSurrogate(text[i]);
        }

        if (!needsRewrite)
        {
            return text;
        }

        var builder = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < length && char.IsLowSurrogate(text[i + 1]))
            {
                builder.Append(c).Append(text[++i]);
            }
            else
            {
                builder.Append(char.IsControl(c) || char.IsSurrogate(c) ? Replacement : c);
            }
        }

        return builder.ToString();
    }
}
